#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The JSON bodies the simulator reads and writes.
enum SimulatorWire {
    /// `POST /sim/code`.
    struct MintCodeRequest: Decodable {
        var appid: String
        var user: String
        /// Optional: the exact code text to issue (e.g. one containing `+/=` to test URL encoding).
        var code: String?
    }

    struct MintCodeResponse: Encodable {
        var code: String
        var openid: String
    }

    /// `POST /sim/fault`: an errcode, a hang, or both (hang, then answer the errcode).
    struct FaultRequest: Decodable {
        var errcode: Int32?
        var errmsg: String?
        var hangMilliseconds: Int?
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case errcode
            case errmsg
            case hangMilliseconds = "hang_ms"
            case count
        }
    }

    /// `POST /sim/latency`.
    struct LatencyRequest: Decodable {
        var ms: Int
    }

    /// `GET /sim/stats`.
    struct StatsResponse: Encodable {
        var jscode2sessionCalls: Int
        var codesMinted: Int
        var codesExchanged: Int
        var faultsServed: Int
        var stableTokenCalls: Int
        var phoneNumberCalls: Int
        var checkSessionCalls: Int
        var resetSessionKeyCalls: Int

        enum CodingKeys: String, CodingKey {
            case jscode2sessionCalls = "jscode2session_calls"
            case codesMinted = "codes_minted"
            case codesExchanged = "codes_exchanged"
            case faultsServed = "faults_served"
            case stableTokenCalls = "stable_token_calls"
            case phoneNumberCalls = "phone_number_calls"
            case checkSessionCalls = "checksession_calls"
            case resetSessionKeyCalls = "resetusersessionkey_calls"
        }
    }

    /// jscode2session success, exactly WeChat's keys; `unionid` only when present.
    struct SessionResponse: Encodable {
        var openid: String
        var sessionKey: String
        var unionid: String?

        enum CodingKeys: String, CodingKey {
            case openid
            case sessionKey = "session_key"
            case unionid
        }
    }

    /// jscode2session failure.
    struct WeChatErrorResponse: Encodable {
        var errcode: Int32
        var errmsg: String
    }

    /// Failures of the simulator's own endpoints.
    struct ErrorResponse: Encodable {
        var error: String
    }

    /// Any other simple acknowledgement.
    struct OKResponse: Encodable {
        var ok = true
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) -> Value? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}
