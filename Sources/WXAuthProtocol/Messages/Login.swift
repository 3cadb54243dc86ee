import NIOCore

extension RequestMessage {
    /// LOGIN: a `wx.login()` code to exchange for a session.
    public struct Login: RequestPayload {
        public var appID: String
        public var code: String

        public init(appID: String, code: String) {
            self.appID = appID
            self.code = code
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                appID: try body.readWireString("app_id", allowed: FieldLimits.appID),
                code: try body.readWireString("code", allowed: FieldLimits.code)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(appID)
            buffer.writeWireString(code)
        }
    }
}
