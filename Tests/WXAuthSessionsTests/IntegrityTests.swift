import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// Records are sealed with an HMAC over every field and the token id they are stored under. These tests alter
/// stored records through the `@testable` hooks in Fixture.swift (`tamperWithRecord`), as memory corruption or an
/// attacker with write access to the map would.
@Suite("Stored record integrity")
struct IntegrityTests {
    static let alterations: [(String, @Sendable (inout SessionRecord) -> Void)] = [
        ("openid", { $0.openid = InlineOpenID("mallory") }),
        ("openid (one bit)", { record in
            var bytes = Array(record.openid.inlineString!.utf8)
            bytes[0] ^= 0x01
            record.openid = InlineOpenID(String(decoding: bytes, as: UTF8.self))
        }),
        ("unionid added", { $0.hasUnionid = true }),
        ("session key", { $0.sessionKey.first ^= 1 }),
        ("session key (high bit)", { $0.sessionKey.second ^= 1 << 63 }),
        ("created_at", { $0.createdAt -= 1 }),
        ("last_seen_at", { $0.lastSeenAt ^= 1 }),
        ("absolute deadline extended", { $0.absoluteExpiresAt += 86_400_000 }),
        ("app moved", { $0.appIndex = 1 }),
        ("mac first word", { $0.mac.first ^= 1 << 17 }),
        ("mac second word", { $0.mac.second ^= 1 }),
    ]

    @Test("a flipped bit in any field of a stored record: validate gives .invalidToken and it is counted")
    func tamperedRecords() throws {
        for (name, alteration) in Self.alterations {
            let fixture = try Fixture()
            let bystander = try fixture.login("bob").token
            let token = try fixture.login("alice").token
            #expect(fixture.validates(token), "\(name): valid before")
            try fixture.store.tamperWithRecord(of: token, alteration)
            #expect(throws: SessionError.invalidToken, "\(name)") { try fixture.store.validate(token) }
            #expect(fixture.store.statistics.integrityFailures == 1, "\(name)")
            #expect(fixture.store.entryCount == 1, "\(name): the bad record is dropped")
            #expect(throws: SessionError.invalidToken, "\(name): and stays gone") { try fixture.store.validate(token) }
            #expect(fixture.store.statistics.integrityFailures == 1, "\(name)")
            #expect(fixture.validates(bystander), "\(name): other records are unaffected")
        }
    }

    @Test("refresh and revoke refuse a tampered record; revokeUser does not count it")
    func tamperedRecordOtherOperations() throws {
        let fixture = try Fixture()
        let forRefresh = try fixture.login("alice").token
        let forRevoke = try fixture.login("alice").token
        let forRevokeUser = try fixture.login("alice").token
        for token in [forRefresh, forRevoke, forRevokeUser] {
            try fixture.store.tamperWithRecord(of: token) { $0.lastSeenAt += 1 }
        }
        #expect(throws: SessionError.invalidToken) { _ = try fixture.store.refresh(forRefresh) }
        #expect(throws: SessionError.invalidToken) { try fixture.store.revoke(forRevoke) }
        #expect(fixture.store.statistics.integrityFailures == 2)
        #expect(try fixture.store.revokeUser(appID: Fixture.appA, openid: "alice") == 0)
    }

    @Test("a record copied under another token id does not verify")
    func recordMovedToAnotherToken() throws {
        let fixture = try Fixture()
        let victim = try fixture.login("victim").token
        let attacker = try fixture.login("attacker").token
        let victimRecord = try #require(fixture.store.record(of: victim))
        try fixture.store.tamperWithRecord(of: attacker) { $0 = victimRecord }
        #expect(throws: SessionError.invalidToken) { try fixture.store.validate(attacker) }
        #expect(fixture.store.statistics.integrityFailures == 1)
        #expect(try fixture.store.validate(victim).openid == "victim")
    }

    @Test("validate re-seals the record it slides (the stored MAC changes and still verifies)")
    func validateReseals() throws {
        let fixture = try Fixture()
        let token = try fixture.login().token
        let before = try #require(fixture.store.record(of: token))
        fixture.clock.advance(seconds: 1)
        #expect(fixture.validates(token))
        let after = try #require(fixture.store.record(of: token))
        #expect(after.lastSeenAt == before.lastSeenAt + 1000)
        #expect(!after.mac.matches(before.mac))
        #expect(fixture.validates(token))
        #expect(fixture.store.statistics.integrityFailures == 0)
    }
}
