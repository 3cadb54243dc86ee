/// The `kind` byte of a response frame. Open set: a status this code does not know is still carried, and is
/// treated as a non-retryable error.
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let ok = Status(rawValue: 0x00)
    public static let malformedRequest = Status(rawValue: 0x01)
    public static let unsupportedVersion = Status(rawValue: 0x02)
    public static let unknownOpcode = Status(rawValue: 0x03)
    public static let frameTooLarge = Status(rawValue: 0x04)
    public static let invalidToken = Status(rawValue: 0x10)
    public static let tokenExpired = Status(rawValue: 0x11)
    public static let tokenRevoked = Status(rawValue: 0x12)
    public static let unknownApp = Status(rawValue: 0x13)
    /// DECRYPT (and PHONE_NUMBER's watermark check) refused the data; the body carries a reason byte.
    public static let decryptFailed = Status(rawValue: 0x14)
    /// VERIFY_SIGNATURE: the signature is not sha1(rawData + session_key).
    public static let signatureMismatch = Status(rawValue: 0x15)
    public static let wechatRejected = Status(rawValue: 0x20)
    public static let wechatUnavailable = Status(rawValue: 0x21)
    public static let rateLimited = Status(rawValue: 0x30)
    public static let serverFull = Status(rawValue: 0x31)
    public static let notAuthorized = Status(rawValue: 0x32)
    public static let shuttingDown = Status(rawValue: 0x33)
    /// The server cannot keep changes (its data directory refuses writes: disk full, I/O error). Nothing was
    /// acknowledged; LOGIN checks this before it spends the code at WeChat.
    public static let storeUnavailable = Status(rawValue: 0x34)
    public static let internalError = Status(rawValue: 0x3F)

    public static let all: [Status] = [
        .ok, .malformedRequest, .unsupportedVersion, .unknownOpcode, .frameTooLarge, .invalidToken, .tokenExpired,
        .tokenRevoked, .unknownApp, .decryptFailed, .signatureMismatch, .wechatRejected, .wechatUnavailable, .rateLimited, .serverFull, .notAuthorized,
        .shuttingDown, .storeUnavailable, .internalError,
    ]

    public var name: String {
        switch self {
        case .ok: "OK"
        case .malformedRequest: "MALFORMED_REQUEST"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .unknownOpcode: "UNKNOWN_OPCODE"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        case .invalidToken: "INVALID_TOKEN"
        case .tokenExpired: "TOKEN_EXPIRED"
        case .tokenRevoked: "TOKEN_REVOKED"
        case .unknownApp: "UNKNOWN_APP"
        case .decryptFailed: "DECRYPT_FAILED"
        case .signatureMismatch: "SIGNATURE_MISMATCH"
        case .wechatRejected: "WECHAT_REJECTED"
        case .wechatUnavailable: "WECHAT_UNAVAILABLE"
        case .rateLimited: "RATE_LIMITED"
        case .serverFull: "SERVER_FULL"
        case .notAuthorized: "NOT_AUTHORIZED"
        case .shuttingDown: "SHUTTING_DOWN"
        case .storeUnavailable: "STORE_UNAVAILABLE"
        case .internalError: "INTERNAL_ERROR"
        default: "STATUS_0x" + String(rawValue, radix: 16)
        }
    }

    public init?(name: String) {
        guard let match = Self.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// Whether a client may send the same request again (see PROTOCOL.md). Unknown statuses are not retryable.
    public var isRetryable: Bool {
        switch self {
        case .wechatUnavailable, .rateLimited, .serverFull, .shuttingDown, .storeUnavailable, .internalError: true
        default: false
        }
    }

    public var description: String { name }
}
