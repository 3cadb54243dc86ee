import Foundation
import WXAuthProtocol

/// `{"error": {"status": "TOKEN_EXPIRED", "retryable": false, "message": "..."}}`, with the status's own fields
/// (`retry_after_ms`, `errcode`, `reason`) when it has them.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        var status: String
        var retryable: Bool
        var message: String
        var retry_after_ms: Int?
        var errcode: Int?
        var reason: String?
    }

    var error: Detail

    init(_ error: ServerError) {
        var detail = Detail(status: error.status.name, retryable: error.isRetryable, message: error.message)
        switch error.status {
        case .rateLimited:
            detail.retry_after_ms = Int(error.retryAfterMilliseconds)
            if error.errcode != 0 { detail.errcode = Int(error.errcode) }
        case .wechatRejected, .wechatUnavailable:
            detail.errcode = Int(error.errcode)
        case .decryptFailed:
            detail.reason = error.reason.name
        default:
            break
        }
        self.error = detail
    }
}

enum JSONBody {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array(#"{"error":{"status":"INTERNAL_ERROR","retryable":true,"message":"internal error"}}"#.utf8)
    }
}

extension EdgeReply {
    static let jsonHeaders = [
        EdgeHeader(EdgeHeaderName.contentType, "application/json; charset=utf-8"),
        EdgeHeader(EdgeHeaderName.cacheControl, "no-store"),
    ]

    /// A JSON answer (never cached: it may carry a token).
    static func json(_ status: Int, _ value: some Encodable, extraHeaders: [EdgeHeader] = []) -> EdgeReply {
        EdgeReply(status: status, headers: jsonHeaders + extraHeaders, body: JSONBody.encode(value))
    }

    /// An error answer on a JSON route: the status's HTTP status, `Retry-After` for RATE_LIMITED, and for a
    /// refused session the same `WWW-Authenticate` / `X-WXAuth-Reason` as /v1/auth.
    public static func error(_ error: ServerError) -> EdgeReply {
        var extra: [EdgeHeader] = []
        if let seconds = StatusMapping.retryAfterSeconds(for: error) {
            extra.append(EdgeHeader(EdgeHeaderName.retryAfter, String(seconds)))
        }
        if let reason = StatusMapping.sessionReason(for: error.status) {
            extra.append(EdgeHeader(EdgeHeaderName.wwwAuthenticate, AuthCheck.bearerChallenge(reason: reason)))
            extra.append(EdgeHeader(EdgeHeaderName.reason, reason))
        }
        return .json(StatusMapping.httpStatus(for: error.status), ErrorBody(error), extraHeaders: extra)
    }
}
