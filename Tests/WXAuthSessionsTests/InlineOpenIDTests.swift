import Foundation
import Testing
@testable import WXAuthSessions

/// The openid inside the fixed-size record, and the side table for what does not fit.
@Suite("Inline openid storage")
struct InlineOpenIDTests {
    static let wechat = "oOoCWUnMm7wqa-n_00l5__ymdMv5"  // 28 ASCII characters, as WeChat issues them

    @Test("short, exactly 28 bytes, empty: inline and round-trip")
    func fits() {
        for openid in ["a", "alice", Self.wechat, ""] {
            let inline = InlineOpenID(openid)
            #expect(!inline.isOverflow)
            #expect(inline.inlineString == openid)
            #expect(inline == InlineOpenID(openid))
        }
        #expect(Self.wechat.utf8.count == InlineOpenID.capacity)
        #expect(InlineOpenID("alice") != InlineOpenID("alicf"))
        #expect(InlineOpenID("alice") != InlineOpenID("alice "))
    }

    @Test("longer than the inline storage: overflow marker, kept in the side table")
    func overflow() {
        let long = String(repeating: "q", count: 29)
        #expect(InlineOpenID(long).isOverflow)
        #expect(InlineOpenID(long).inlineString == nil)
        #expect(SessionRecord.strings(openid: long, unionid: nil).longOpenid == long)
        #expect(SessionRecord.strings(openid: Self.wechat, unionid: nil).isEmpty)
    }

    @Test("non-ASCII UTF-8 is stored byte for byte (a 28-byte limit in bytes, not characters)")
    func nonASCII() {
        let nine = "微信用户甲乙丙丁"  // 8 characters, 24 bytes
        #expect(InlineOpenID(nine).inlineString == nine)
        let tenCharacters = "微信用户甲乙丙丁戊己"  // 30 bytes
        #expect(InlineOpenID(tenCharacters).isOverflow)
        let emoji = "o👍" + String(repeating: "x", count: 23)  // 28 bytes exactly
        #expect(emoji.utf8.count == 28 && InlineOpenID(emoji).inlineString == emoji)
    }

    @Test("through the store: every length and script answers the same openid, survives refresh, revokeUser finds it")
    func throughTheStore() throws {
        let fixture = try Fixture()
        let openids = ["a", Self.wechat, Self.wechat + "X", String(repeating: "Q", count: 64), "微信用户甲乙丙丁戊己", "o👍"]
        for openid in openids {
            let issued = try fixture.login(openid, unionid: "union-" + openid)
            #expect(issued.session.openid == openid)
            #expect(issued.session.unionid == "union-" + openid)
            let bytes = issued.session.withOpenIDUTF8 { Array($0) }
            #expect(bytes == Array(openid.utf8))
            #expect(try fixture.store.validate(issued.token).openid == openid)
            fixture.clock.advance(seconds: 1)
            let refreshed = try fixture.store.refresh(issued.token)
            #expect(try fixture.store.validate(refreshed.token).openid == openid)
            #expect(try fixture.store.validate(refreshed.token).unionid == "union-" + openid)
            #expect(try fixture.store.revokeUser(appID: Fixture.appA, openid: openid) == 1)
            #expect(throws: SessionError.revoked) { try fixture.store.validate(refreshed.token) }
        }
        #expect(fixture.store.statistics.integrityFailures == 0)
    }

    @Test("only sessions with a unionid or a long openid have side-table strings")
    func sideTableOnlyWhenNeeded() throws {
        let fixture = try Fixture()
        let plain = try fixture.login(Self.wechat).token
        let withUnion = try fixture.login("bob", unionid: "u1").token
        let long = try fixture.login(String(repeating: "L", count: 40)).token
        #expect(fixture.store.strings(of: plain)?.isEmpty == true)
        #expect(fixture.store.strings(of: withUnion) == SessionStrings(longOpenid: nil, unionid: "u1"))
        #expect(fixture.store.strings(of: long)?.longOpenid == String(repeating: "L", count: 40))
        try fixture.store.revoke(withUnion)
        #expect(fixture.store.strings(of: withUnion)?.isEmpty == true, "a revoked session drops its strings")
    }

    @Test("a tampered side-table string fails the record MAC")
    func tamperedLongOpenID() throws {
        let fixture = try Fixture()
        let token = try fixture.login(String(repeating: "L", count: 40)).token
        let parsed = try #require(SessionToken.parse(token, keyring: fixture.store.keyring))
        fixture.store.map.withShard(for: parsed.id) { entries in
            guard case .live(let record) = entries[parsed.id] else { return }
            entries.insertLive(record, strings: SessionStrings(longOpenid: String(repeating: "M", count: 40)), for: parsed.id)
        }
        #expect(throws: SessionError.invalidToken) { try fixture.store.validate(token) }
        #expect(fixture.store.statistics.integrityFailures == 1)
    }
}
