import NIOCore

extension RequestMessage {
    /// REFRESH: the token to rotate.
    public struct Refresh: RequestPayload {
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
