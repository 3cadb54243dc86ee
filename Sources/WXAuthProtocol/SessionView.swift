import NIOCore

/// The public view of a session: what callers may know. It has no session_key field, so none can leak.
public struct SessionView: Hashable, Sendable {
    public var appID: String
    public var openid: String
    /// Empty when WeChat gave none.
    public var unionid: String
    /// Milliseconds since the Unix epoch, UTC.
    public var createdAt: Int64
    /// The earlier of the idle and the absolute deadline.
    public var expiresAt: Int64
    /// Never extended by VALIDATE or REFRESH.
    public var absoluteExpiresAt: Int64

    public init(appID: String, openid: String, unionid: String, createdAt: Int64, expiresAt: Int64, absoluteExpiresAt: Int64) {
        self.appID = appID
        self.openid = openid
        self.unionid = unionid
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(appID)
        buffer.writeWireString(openid)
        buffer.writeWireString(unionid)
        buffer.writeInteger(createdAt)
        buffer.writeInteger(expiresAt)
        buffer.writeInteger(absoluteExpiresAt)
    }

    public static func decode(from buffer: inout ByteBuffer) throws(WireDecodingError) -> SessionView {
        SessionView(
            appID: try buffer.readWireString("session.app_id", allowed: FieldLimits.responseString),
            openid: try buffer.readWireString("session.openid", allowed: FieldLimits.responseString),
            unionid: try buffer.readWireString("session.unionid", allowed: FieldLimits.responseString),
            createdAt: try buffer.readWireInteger("session.created_at"),
            expiresAt: try buffer.readWireInteger("session.expires_at"),
            absoluteExpiresAt: try buffer.readWireInteger("session.absolute_expires_at")
        )
    }
}
