import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// A `SessionStore`'s keyring is fixed at init, so rotation means a new store over the same sessions. The map is
/// per store and there is no public API to hand sessions over; `adoptEntries(of:)` (Fixture.swift, @testable)
/// stands in for that hand-over.
@Suite("Server key rotation")
struct KeyRotationTests {
    static func keyring12() throws -> ServerKeyring {
        try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret1), .init(id: 2, secret: Fixture.secret2)], primary: 2)
    }

    @Test("sessions made under key 1 still validate after keys 1 and 2 (primary 2) are in use; new tokens use key 2")
    func rotateToKey2() throws {
        let clock = ManualWallClock()
        let old = try Fixture(clock: clock)
        let validated = try old.login("alice").token
        let refreshed = try old.login("bob").token
        let untouched = try old.login("carol").token
        #expect(TokenBytes.decode(validated)?.first == 1)

        let rotated = try Fixture(keyring: Self.keyring12(), clock: clock)
        rotated.store.adoptEntries(of: old.store)
        #expect(try rotated.store.validate(validated).openid == "alice")
        #expect(try rotated.store.validate(untouched).openid == "carol")
        #expect(rotated.store.record(of: validated)?.keyID == 2, "a slid record is re-sealed under the primary key")

        let next = try rotated.store.refresh(refreshed)
        #expect(TokenBytes.decode(next.token)?.first == 2)
        #expect(try rotated.store.validate(next.token).openid == "bob")
        #expect(throws: SessionError.revoked) { try rotated.store.validate(refreshed) }
        #expect(TokenBytes.decode(try rotated.login("dave").token)?.first == 2)
        #expect(rotated.store.statistics.integrityFailures == 0)
        #expect(rotated.store.statistics.rejectedTokens == 0)

        // Key 1 retired: tokens under key 1 are rejected by key id before any lookup; key-2 tokens keep working.
        let retired = try Fixture(keyring: ServerKeyring(keys: [.init(id: 2, secret: Fixture.secret2)], primary: 2), clock: clock)
        retired.store.adoptEntries(of: rotated.store)
        #expect(try retired.store.validate(next.token).openid == "bob")
        let lookups = retired.store.statistics.mapLookups
        for token in [validated, untouched] {
            #expect(throws: SessionError.invalidToken) { try retired.store.validate(token) }
        }
        #expect(retired.store.statistics.mapLookups == lookups)
        #expect(retired.store.statistics.rejectedTokens == 2)
    }

    @Test("without a hand-over: a keyring with keys 1 and 2 parses tokens under the non-primary key 1")
    func nonPrimaryKeyParses() throws {
        let keyring = try Self.keyring12()
        let underKey1 = try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret1)], primary: 1)
        let token = try SessionToken.generate(keyring: underKey1, random: OpenSSLRandom())
        #expect(token.keyID == 1)
        let text = try token.encoded(keyring: underKey1)
        #expect(SessionToken.parse(text, keyring: keyring) == token)
        #expect(try token.encoded(keyring: keyring) == text, "same key, same token")
        #expect(SessionToken.parse(text, keyring: try ServerKeyring(keys: [.init(id: 2, secret: Fixture.secret2)], primary: 2)) == nil)
        #expect(keyring.keyIDs == [1, 2])
        #expect(keyring.primaryKeyID == 2)
    }
}
