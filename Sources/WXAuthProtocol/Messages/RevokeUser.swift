import NIOCore

extension RequestMessage {
    /// REVOKE_USER: every session of one user of one app.
    public struct RevokeUser: RequestPayload {
        public var appID: String
        public var openid: String

        public init(appID: String, openid: String) {
            self.appID = appID
            self.openid = openid
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                appID: try body.readWireString("app_id", allowed: FieldLimits.appID),
                openid: try body.readWireString("openid", allowed: FieldLimits.openid)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(appID)
            buffer.writeWireString(openid)
        }
    }
}
