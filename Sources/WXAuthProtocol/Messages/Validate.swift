import NIOCore

extension RequestMessage {
    /// VALIDATE: the token as the bytes the client sent, sliced from the frame (a view of the read buffer: no copy,
    /// no `String`). The bytes are checked to be UTF-8 like every `str` field, so a VALIDATE is refused exactly as
    /// before; whether they form a token is the store's question.
    public struct Validate: RequestPayload {
        /// The token's bytes (readable bytes only).
        public var token: ByteBuffer

        public init(token: ByteBuffer) {
            self.token = token
        }

        /// A client's form: the token's UTF-8.
        public init(token: String) {
            self.token = ByteBuffer(string: token)
        }

        /// The token as text (clients, logs of tests); the server passes the bytes on.
        public var tokenString: String { String(decoding: token.readableBytesView, as: UTF8.self) }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(token: try body.readWireStringBytes("token", allowed: FieldLimits.token))
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeInteger(UInt16(token.readableBytes))
            var token = token
            buffer.writeBuffer(&token)
        }
    }
}
