import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// VALIDATE moves `lastSeenAt` (and re-seals the record) only once it is `lastSeenGranularity` behind.
@Suite("Coarse last-seen and the bytes-in VALIDATE")
struct CoarseLastSeenTests {
    @Test("granularity: 1 s, or idle/64 when that is longer")
    func granularity() {
        #expect(SessionRecord.lastSeenGranularity(idleTimeoutMilliseconds: 60_000) == 1000)
        #expect(SessionRecord.lastSeenGranularity(idleTimeoutMilliseconds: 30 * 60_000) == 28_125)
    }

    @Test("a VALIDATE within the granularity writes nothing; one after it slides the deadline and re-seals")
    func coarseSlide() throws {
        let fixture = try Fixture(idle: 640_000, absolute: 10_000_000)  // granularity 10 s
        let issued = try fixture.login()
        let sealed = try #require(fixture.store.record(of: issued.token))
        for _ in 0..<9 {
            fixture.clock.advance(seconds: 1)
            let view = try fixture.store.validate(issued.token)
            #expect(view.expiresAt == issued.session.expiresAt, "not slid")
            let stored = try #require(fixture.store.record(of: issued.token))
            #expect(stored.mac.matches(sealed.mac) && stored.lastSeenAt == sealed.lastSeenAt, "not written")
        }
        fixture.clock.advance(milliseconds: 999)
        #expect(try fixture.store.validate(issued.token).expiresAt == issued.session.expiresAt)
        fixture.clock.advance(milliseconds: 1)  // exactly 10 s after the login
        let now = fixture.clock.nowMilliseconds()
        let slid = try fixture.store.validate(issued.token)
        #expect(slid.expiresAt == now + 640_000)
        let stored = try #require(fixture.store.record(of: issued.token))
        #expect(stored.lastSeenAt == now && !stored.mac.matches(sealed.mac))
        #expect(fixture.store.statistics.integrityFailures == 0)
    }

    @Test("the idle deadline still holds: a session used only within the granularity expires on time")
    func stillExpires() throws {
        let fixture = try Fixture(idle: 640_000, absolute: 10_000_000)
        let issued = try fixture.login()
        fixture.clock.advance(seconds: 5)
        #expect(fixture.validates(issued.token))  // within 10 s: not slid
        fixture.clock.advance(milliseconds: 640_000 - 5000)
        #expect(throws: SessionError.expired) { try fixture.store.validate(issued.token) }
    }

    @Test("validate(tokenUTF8:) takes the token's bytes and answers as validate(_:) does")
    func bytesIn() throws {
        let fixture = try Fixture()
        let issued = try fixture.login("alice", unionid: "u")
        let bytes = Array(issued.token.utf8)
        let view = try bytes.withUnsafeBytes { raw in try fixture.store.validate(tokenUTF8: raw) }
        #expect(view == issued.session)
        #expect(try bytes.withUnsafeBytes { raw in try fixture.store.peek(tokenUTF8: raw) } == issued.session)
        var forged = bytes
        forged[20] = forged[20] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SessionError.invalidToken) { try forged.withUnsafeBytes { try fixture.store.validate(tokenUTF8: $0) } }
        #expect(throws: SessionError.invalidToken) {
            try bytes.dropLast().withUnsafeBytes { try fixture.store.validate(tokenUTF8: $0) }
        }
        #expect(throws: SessionError.invalidToken) {
            try [UInt8]().withUnsafeBytes { try fixture.store.validate(tokenUTF8: $0) }
        }
        #expect(fixture.store.statistics.rejectedTokens == 3)
    }
}
