import NIOCore

extension RequestMessage {
    /// PHONE_NUMBER: the getPhoneNumber button's code, for the session's app.
    public struct PhoneNumber: RequestPayload {
        public var token: String
        public var code: String

        public init(token: String, code: String) {
            self.token = token
            self.code = code
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                token: try body.readWireString("token", allowed: FieldLimits.token),
                code: try body.readWireString("code", allowed: FieldLimits.phoneCode)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(token)
            buffer.writeWireString(code)
        }
    }
}
