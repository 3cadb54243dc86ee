import NIOCore
import WXAuthProtocol
import WXAuthSessions

extension ByteBuffer {
    /// Writes the store's snapshot as PROTOCOL.md's `session` (the bytes `SessionView.encode` writes) without making
    /// a `SessionView`: the app id and unionid are shared Strings, the openid is copied from the record's fixed
    /// storage.
    mutating func writeSession(_ snapshot: SessionSnapshot) {
        writeWireString(snapshot.appID)
        snapshot.withOpenIDUTF8 { openid in
            writeInteger(UInt16(openid.count))
            writeBytes(openid)
        }
        writeWireString(snapshot.unionid)
        writeInteger(snapshot.createdAt)
        writeInteger(snapshot.expiresAt)
        writeInteger(snapshot.absoluteExpiresAt)
    }
}
