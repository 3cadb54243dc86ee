import WXAuthProtocol
import WXAuthSessions

/// Transition shim (issue 11): the session store answers its own `SessionSnapshot`; the wire keeps `SessionView`.
/// An encoder that writes the snapshot directly (`withOpenIDUTF8`, `appIndex`) makes this unnecessary.
extension SessionView {
    init(_ snapshot: SessionSnapshot) {
        self.init(
            appID: snapshot.appID, openid: snapshot.openid, unionid: snapshot.unionid, createdAt: snapshot.createdAt,
            expiresAt: snapshot.expiresAt, absoluteExpiresAt: snapshot.absoluteExpiresAt
        )
    }
}
