import NIOCore

extension RequestMessage {
    /// RESET_SESSION_KEY: the session whose session_key WeChat should replace.
    public struct ResetSessionKey: RequestPayload {
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
}
