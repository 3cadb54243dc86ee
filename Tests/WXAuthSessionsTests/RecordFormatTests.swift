import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// The record MAC of the plain-value record is byte for byte the version-1 one (the MAC input as the store wrote
/// it before issue 11, and as snapshot and journal files carry it), so sessions persisted by earlier builds verify.
/// The expected tag is computed here independently, from the field list, with no store code.
@Suite("Record MAC compatible with format version 1")
struct RecordFormatTests {
    static func field(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return withUnsafeBytes(of: UInt32(utf8.count).bigEndian, Array.init) + utf8
    }

    static func bigEndian(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    static func bigEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// `"wxauth-record-v1" | token id (16) | key id | app id | openid | has unionid | unionid | session_key words |
    /// created | last seen | absolute`, fields length-prefixed (u32), integers big-endian.
    static func versionOneTag(
        id: TokenID, keyID: UInt8, appID: String, openid: String, unionid: String?, sessionKey: SessionKey,
        createdAt: Int64, lastSeenAt: Int64, absoluteExpiresAt: Int64
    ) throws -> Tag128 {
        var input = Array("wxauth-record-v1".utf8)
        input += withUnsafeBytes(of: id, Array.init)
        input.append(keyID)
        input += field(appID) + field(openid)
        input.append(unionid == nil ? 0 : 1)
        input += field(unionid ?? "")
        input += bigEndian(sessionKey.first) + bigEndian(sessionKey.second)
        input += bigEndian(createdAt) + bigEndian(lastSeenAt) + bigEndian(absoluteExpiresAt)
        let key = try HMACKey(key: Fixture.secret1)
        return try input.withUnsafeBytes { try key.tag128($0) }
    }

    @Test("inline openid, long openid, with and without unionid, non-ASCII")
    func sameTagAsVersionOne() throws {
        let fixture = try Fixture()
        let cases: [(String, String?)] = [
            ("oOoCWUnMm7wqa-n_00l5__ymdMv5", nil), ("alice", "union-1"),
            (String(repeating: "Q", count: 64), nil), (String(repeating: "Q", count: 40), "u"), ("微信用户", "联合"),
        ]
        for (openid, unionid) in cases {
            let issued = try fixture.login(openid, unionid: unionid)
            let token = try #require(SessionToken.parse(issued.token, keyring: fixture.store.keyring))
            let record = try #require(fixture.store.record(of: issued.token))
            let expected = try Self.versionOneTag(
                id: token.id, keyID: 1, appID: Fixture.appA, openid: openid, unionid: unionid,
                sessionKey: record.sessionKey, createdAt: record.createdAt, lastSeenAt: record.lastSeenAt,
                absoluteExpiresAt: record.absoluteExpiresAt
            )
            #expect(record.mac.matches(expected), "\(openid.prefix(8)) unionid \(unionid != nil)")
        }
    }
}
