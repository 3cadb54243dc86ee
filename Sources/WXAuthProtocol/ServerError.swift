import NIOCore

/// An error response: a status other than OK plus its fields. Messages are for humans and never carry secrets.
public struct ServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var status: Status
    public var message: String
    /// WeChat's errcode, for WECHAT_REJECTED, WECHAT_UNAVAILABLE and RATE_LIMITED (0 when not from WeChat).
    public var errcode: Int32
    /// For RATE_LIMITED.
    public var retryAfterMilliseconds: UInt32
    /// For FRAME_TOO_LARGE.
    public var maxFrame: UInt32
    /// For UNSUPPORTED_VERSION.
    public var supportedVersion: UInt8
    /// For DECRYPT_FAILED: why (PROTOCOL.md; `DecryptFailureReason`).
    public var reason: DecryptFailureReason

    public init(
        _ status: Status, _ message: String, errcode: Int32 = 0, retryAfterMilliseconds: UInt32 = 0,
        maxFrame: UInt32 = 0, supportedVersion: UInt8 = 0, reason: DecryptFailureReason = DecryptFailureReason(rawValue: 0)
    ) {
        precondition(status != .ok, "an error needs an error status")
        self.status = status
        self.message = message
        self.errcode = errcode
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.maxFrame = maxFrame
        self.supportedVersion = supportedVersion
        self.reason = reason
    }

    public var isRetryable: Bool { status.isRetryable }

    public var description: String {
        switch status {
        case .wechatRejected, .wechatUnavailable: "\(status.name) (errcode \(errcode)): \(message)"
        case .rateLimited: "\(status.name) (retry after \(retryAfterMilliseconds) ms): \(message)"
        case .decryptFailed: "\(status.name) (\(reason.name)): \(message)"
        default: "\(status.name): \(message)"
        }
    }

    /// Every error body has one shape (PROTOCOL.md "Responses and statuses"): `message str` first, then the
    /// status's own fields. A decoder that does not know a status reads the message and skips the rest.
    public func encodeBody(into buffer: inout ByteBuffer) {
        buffer.writeWireString(Self.clipped(message))
        switch status {
        case .unsupportedVersion:
            buffer.writeInteger(supportedVersion)
        case .frameTooLarge:
            buffer.writeInteger(maxFrame)
        case .wechatRejected, .wechatUnavailable:
            buffer.writeInteger(errcode)
        case .rateLimited:
            buffer.writeInteger(retryAfterMilliseconds)
            buffer.writeInteger(errcode)
        case .decryptFailed:
            buffer.writeInteger(reason.rawValue)
        default:
            break
        }
    }

    /// Reads an error body. A known status's fields are read (the caller checks that nothing is left); the body of
    /// a status this code does not know is its message and whatever follows, which is skipped.
    public static func decode(status: Status, body: inout ByteBuffer) throws(WireDecodingError) -> ServerError {
        var error = ServerError(status, try body.readWireString("message", allowed: FieldLimits.responseString))
        switch status {
        case .unsupportedVersion:
            error.supportedVersion = try body.readWireInteger("supported")
        case .frameTooLarge:
            error.maxFrame = try body.readWireInteger("max_frame")
        case .wechatRejected, .wechatUnavailable:
            error.errcode = try body.readWireInteger("errcode")
        case .rateLimited:
            error.retryAfterMilliseconds = try body.readWireInteger("retry_after_ms")
            error.errcode = try body.readWireInteger("errcode")
        case .decryptFailed:
            error.reason = DecryptFailureReason(rawValue: try body.readWireInteger("reason"))
        default:
            if !Status.all.contains(status) { body.moveReaderIndex(to: body.writerIndex) }
        }
        return error
    }

    /// Keeps a message within one `str` (never splitting a UTF-8 sequence).
    static func clipped(_ message: String) -> String {
        guard message.utf8.count > 1024 else { return message }
        var result = ""
        for character in message {
            if result.utf8.count + character.utf8.count > 1024 { break }
            result.append(character)
        }
        return result
    }
}

/// Why DECRYPT refused user data: the `reason u8` of DECRYPT_FAILED. Open set: unknown values are carried.
public struct DecryptFailureReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// encryptedData or iv is not base64 (a `+` turned into a space is tolerated).
    public static let badBase64 = DecryptFailureReason(rawValue: 1)
    /// The session_key is not 16 bytes (offline decryption only; stored keys always are).
    public static let badKeyLength = DecryptFailureReason(rawValue: 2)
    /// The iv is not 16 bytes.
    public static let badIVLength = DecryptFailureReason(rawValue: 3)
    /// The padding or the plaintext is wrong: the data was encrypted under another session_key (a newer
    /// wx.login replaced it) or altered. A fresh login and fresh data fix it.
    public static let badPaddingOrKey = DecryptFailureReason(rawValue: 4)
    /// The watermark names another app (or there is none).
    public static let appIDMismatch = DecryptFailureReason(rawValue: 5)
    /// The watermark is older than the configured maximum age.
    public static let staleWatermark = DecryptFailureReason(rawValue: 6)

    public static let all: [DecryptFailureReason] = [
        .badBase64, .badKeyLength, .badIVLength, .badPaddingOrKey, .appIDMismatch, .staleWatermark,
    ]

    public var name: String {
        switch self {
        case .badBase64: "bad_base64"
        case .badKeyLength: "bad_key_length"
        case .badIVLength: "bad_iv_length"
        case .badPaddingOrKey: "bad_padding_or_key"
        case .appIDMismatch: "appid_mismatch"
        case .staleWatermark: "stale_watermark"
        default: "reason_" + String(rawValue)
        }
    }

    public init?(name: String) {
        guard let match = Self.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }
}
