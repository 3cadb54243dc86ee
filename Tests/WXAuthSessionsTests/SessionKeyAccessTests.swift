import Foundation
import Synchronization
import Testing
import WXAuthCrypto
@testable import WXAuthSessions

@Suite("Session-key access for user data")
struct SessionKeyAccessTests {
    final class RecordingJournal: SessionJournal {
        let entries = Mutex<[PersistedEntry]>([])
        var acceptsChanges: Bool { true }
        func record(_ batch: [PersistedEntry]) { entries.withLock { $0 += batch } }
    }

    @Test func withSessionKeyChecksTheTokenLikePeekAndLendsTheKey() throws {
        let fixture = try Fixture()
        let issued = try fixture.login()
        let before = try fixture.store.peek(issued.token)
        fixture.clock.advance(seconds: 10)
        let key = try fixture.store.withSessionKey(issued.token) { key, session in
            #expect(session.openid == "alice")
            return key
        }
        #expect(key.bytes == Array(0..<16))
        #expect(try fixture.store.peek(issued.token).expiresAt == before.expiresAt)  // not slid
        #expect(throws: SessionError.invalidToken) { try fixture.store.withSessionKey(String(repeating: "A", count: 44)) { _, _ in 0 } }
        try fixture.store.revoke(issued.token)
        #expect(throws: SessionError.revoked) { try fixture.store.withSessionKey(issued.token) { _, _ in 0 } }
        let other = try fixture.login("bob")
        fixture.clock.advance(seconds: 61)
        #expect(throws: SessionError.expired) { try fixture.store.withSessionKey(other.token) { _, _ in 0 } }
    }

    @Test func replaceSessionKeyReSealsAndIsCompareAndSwap() throws {
        let fixture = try Fixture()
        let journal = RecordingJournal()
        fixture.store.attachJournal(journal)
        let issued = try fixture.login()
        let old = try #require(SessionKey(bytes: Array(0..<16)))
        let new = try #require(SessionKey(bytes: Array(100..<116)))
        #expect(try fixture.store.replaceSessionKey(issued.token, previousKey: old, newKey: new))
        #expect(try fixture.store.withSessionKey(issued.token) { key, _ in key } == new)
        #expect(fixture.validates(issued.token))  // the record still verifies (re-sealed)
        // A second reset that still believes in the old key loses.
        #expect(try !fixture.store.replaceSessionKey(issued.token, previousKey: old, newKey: old))
        // The change is journaled, so it survives a restart.
        let last = try #require(journal.entries.withLock { $0 }.last)
        guard case .live(let persisted) = last.state else { throw TestFailure("expected a live entry") }
        #expect(persisted.sessionKey == new)
    }
}

struct TestFailure: Error { var message: String; init(_ message: String) { self.message = message } }
