import NIOCore

extension RequestMessage {
    /// VERIFY_SIGNATURE: `sha1(rawData + session_key)` to compare with `signature`.
    public struct VerifySignature: RequestPayload {
        public var token: String
        public var rawData: String
        public var signature: String

        public init(token: String, rawData: String, signature: String) {
            self.token = token
            self.rawData = rawData
            self.signature = signature
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                token: try body.readWireString("token", allowed: FieldLimits.token),
                rawData: try body.readWireString("raw_data", allowed: FieldLimits.rawData),
                signature: try body.readWireString("signature", allowed: FieldLimits.signature)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(token)
            buffer.writeWireString(rawData)
            buffer.writeWireString(signature)
        }
    }
}
