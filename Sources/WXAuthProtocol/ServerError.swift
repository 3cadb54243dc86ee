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

    public init(
        _ status: Status, _ message: String, errcode: Int32 = 0, retryAfterMilliseconds: UInt32 = 0,
        maxFrame: UInt32 = 0, supportedVersion: UInt8 = 0
    ) {
        precondition(status != .ok, "an error needs an error status")
        self.status = status
        self.message = message
        self.errcode = errcode
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.maxFrame = maxFrame
        self.supportedVersion = supportedVersion
    }

    public var isRetryable: Bool { status.isRetryable }

    public var description: String {
        switch status {
        case .wechatRejected, .wechatUnavailable: "\(status.name) (errcode \(errcode)): \(message)"
        case .rateLimited: "\(status.name) (retry after \(retryAfterMilliseconds) ms): \(message)"
        default: "\(status.name): \(message)"
        }
    }

    public func encodeBody(into buffer: inout ByteBuffer) {
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
        default:
            break
        }
        buffer.writeWireString(Self.clipped(message))
    }

    public static func decode(status: Status, body: inout ByteBuffer) throws(WireDecodingError) -> ServerError {
        var error = ServerError(status, "")
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
        default:
            break
        }
        error.message = try body.readWireString("message", allowed: FieldLimits.responseString)
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
