import NIOCore

extension RequestMessage {
    /// The body of the requests that name a session and nothing else: `token str`.
    public struct TokenOnly: RequestPayload {
        public var token: String

        public init(token: String) {
            self.token = token
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                token: try body.readWireString("token", allowed: FieldLimits.token)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(token)
        }
    }

    /// REFRESH: the token to rotate.
    public typealias Refresh = TokenOnly
    /// REVOKE: the token whose session ends.
    public typealias Revoke = TokenOnly
    /// CHECK_SESSION_KEY: the session whose session_key WeChat should check.
    public typealias CheckSessionKey = TokenOnly
    /// RESET_SESSION_KEY: the session whose session_key WeChat should replace.
    public typealias ResetSessionKey = TokenOnly
}
