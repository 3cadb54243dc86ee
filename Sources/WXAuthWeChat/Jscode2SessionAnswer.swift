#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One jscode2session HTTP answer, interpreted: what the caller gets plus what is worth logging.
///
/// Pure (no I/O), so every mapping rule is unit-testable without a server.
struct Jscode2SessionAnswer: Sendable {
    /// What `exchange` returns or throws.
    var result: Result<WeChatIdentity, WeChatError>
    /// WeChat's errcode when the body carried one (for logs).
    var errcode: Int64?
    /// WeChat's errmsg when the body carried one (for logs; never contains secrets).
    var errmsg: String?
    /// WeChat's request id, taken from the `rid: ...` suffix of errmsg.
    var rid: String?

    /// The JSON body; success and error answers share one shape.
    private struct Body: Decodable {
        var openid: String?
        var sessionKey: String?
        var unionid: String?
        var errcode: Int64?
        var errmsg: String?

        enum CodingKeys: String, CodingKey {
            case openid
            case sessionKey = "session_key"
            case unionid
            case errcode
            case errmsg
        }
    }

    /// How long callers should wait after a 45011 (WeChat's quota is per minute).
    static let rateLimitRetryAfterMilliseconds: UInt32 = 60_000

    /// Interprets an answer. The Content-Type is ignored: WeChat sends JSON as text/plain at times.
    static func interpret(status: UInt, body: [UInt8]) -> Jscode2SessionAnswer {
        guard status == 200 else {
            return .unavailable("HTTP status \(status)")
        }
        let decoded: Body
        do {
            decoded = try JSONDecoder().decode(Body.self, from: Data(body))
        } catch {
            return .unavailable("undecodable JSON answer")
        }
        let rid = decoded.errmsg.flatMap(Self.requestID(inErrmsg:))
        if let errcode = decoded.errcode, errcode != 0 {
            let errmsg = decoded.errmsg ?? ""
            let result: Result<WeChatIdentity, WeChatError>
            switch errcode {
            case -1:
                result = .failure(.unavailable(errcode: -1, message: errmsg.isEmpty ? "system error" : errmsg))
            case 45011:
                result = .failure(
                    .rateLimited(
                        errcode: 45011,
                        errmsg: errmsg,
                        retryAfterMilliseconds: Self.rateLimitRetryAfterMilliseconds
                    )
                )
            default:
                if let code = Int32(exactly: errcode) {
                    result = .failure(.rejected(errcode: code, errmsg: errmsg))
                } else {
                    result = .failure(.unavailable(errcode: 0, message: "errcode out of range"))
                }
            }
            return Jscode2SessionAnswer(result: result, errcode: errcode, errmsg: errmsg, rid: rid)
        }
        guard let openid = decoded.openid, !openid.isEmpty,
            let sessionKey = decoded.sessionKey, !sessionKey.isEmpty
        else {
            var answer = Self.unavailable("success answer without openid or session_key")
            answer.errcode = decoded.errcode
            answer.errmsg = decoded.errmsg
            answer.rid = rid
            return answer
        }
        let unionid = decoded.unionid.flatMap { $0.isEmpty ? nil : $0 }
        let identity = WeChatIdentity(openid: openid, sessionKey: sessionKey, unionid: unionid)
        return Jscode2SessionAnswer(result: .success(identity), errcode: decoded.errcode, errmsg: decoded.errmsg, rid: rid)
    }

    /// An answer that carried nothing usable.
    static func unavailable(_ message: String) -> Jscode2SessionAnswer {
        Jscode2SessionAnswer(result: .failure(.unavailable(errcode: 0, message: message)), errcode: nil, errmsg: nil, rid: nil)
    }

    /// The request id WeChat appends to errmsg as `..., rid: 64b8e1f3-2c7a1b0e-5f3d2a9c`.
    static func requestID(inErrmsg errmsg: String) -> String? {
        guard let marker = errmsg.ranges(of: "rid: ").last else { return nil }
        let rest = errmsg[marker.upperBound...]
        let rid = rest.prefix { !$0.isWhitespace && $0 != "," && $0 != "]" }
        return rid.isEmpty ? nil : String(rid)
    }
}
