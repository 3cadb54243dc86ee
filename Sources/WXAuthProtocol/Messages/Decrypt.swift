import NIOCore

extension RequestMessage {
    /// DECRYPT: user data encrypted with the session's session_key.
    public struct Decrypt: RequestPayload {
        public var token: String
        public var encryptedData: String
        public var iv: String

        public init(token: String, encryptedData: String, iv: String) {
            self.token = token
            self.encryptedData = encryptedData
            self.iv = iv
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                token: try body.readWireString("token", allowed: FieldLimits.token),
                encryptedData: try body.readWireString("encrypted_data", allowed: FieldLimits.encryptedData),
                iv: try body.readWireString("iv", allowed: FieldLimits.iv)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(token)
            buffer.writeWireString(encryptedData)
            buffer.writeWireString(iv)
        }
    }
}
