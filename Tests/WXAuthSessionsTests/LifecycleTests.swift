import Testing
import WXAuthCrypto
@testable import WXAuthSessions

@Suite("Session lifecycle: expiry, refresh, revoke, capacity")
struct LifecycleTests {
    // MARK: Create

    @Test("create returns the public view: unionid empty when absent, deadlines from the app's lifetimes")
    func createView() throws {
        let fixture = try Fixture()
        let now = fixture.clock.nowMilliseconds()
        let issued = try fixture.login("alice", unionid: "union-1")
        #expect(issued.session.appID == Fixture.appA)
        #expect(issued.session.openid == "alice")
        #expect(issued.session.unionid == "union-1")
        #expect(issued.session.createdAt == now)
        #expect(issued.session.expiresAt == now + Fixture.idle)
        #expect(issued.session.absoluteExpiresAt == now + Fixture.absolute)
        #expect(try fixture.login("bob", unionid: nil).session.unionid == "")
        #expect(try fixture.login("carol", unionid: "").session.unionid == "")
        #expect(try fixture.store.validate(issued.token).unionid == "union-1")

        // An absolute lifetime shorter than the idle timeout caps expires_at.
        let short = try Fixture(idle: 60_000, absolute: 10_000)
        let view = try short.login().session
        #expect(view.expiresAt == view.absoluteExpiresAt)
        #expect(view.absoluteExpiresAt == view.createdAt + 10_000)
    }

    // MARK: Idle and absolute expiry

    @Test("idle expiry: valid at idle - 1 s, expired at idle + 1 s")
    func idleExpiry() throws {
        let fixture = try Fixture()
        let early = try fixture.login().token
        let late = try fixture.login().token
        fixture.clock.advance(milliseconds: Fixture.idle - 1000)
        #expect(fixture.validates(early))
        fixture.clock.advance(seconds: 2)  // late is now idle + 1 s since creation (early was validated 2 s ago)
        #expect(throws: SessionError.expired) { try fixture.store.validate(late) }
        #expect(throws: SessionError.expired, "every reader gets the same answer") { try fixture.store.validate(late) }
        #expect(fixture.store.entryCount == 2, "an expired record stays until the sweep")
        #expect(fixture.store.sweep() == 1)
        #expect(throws: SessionError.invalidToken, "and is unknown once swept") { try fixture.store.validate(late) }
        fixture.clock.advance(milliseconds: Fixture.idle)  // early was last seen idle + 1 s ago
        #expect(throws: SessionError.expired, "refresh sees the same deadline") { _ = try fixture.store.refresh(early) }
    }

    @Test("the idle deadline is exclusive: expired exactly at idle")
    func idleBoundary() throws {
        let fixture = try Fixture()
        let token = try fixture.login().token
        fixture.clock.advance(milliseconds: Fixture.idle - 1)
        #expect(fixture.validates(token))
        let other = try fixture.login().token
        fixture.clock.advance(milliseconds: Fixture.idle)
        #expect(throws: SessionError.expired) { try fixture.store.validate(other) }
    }

    @Test("validate slides expires_at; absolute_expires_at never moves")
    func validateSlides() throws {
        let fixture = try Fixture()
        let issued = try fixture.login()
        for step in 1...5 {
            fixture.clock.advance(milliseconds: Fixture.idle - 5000)
            let now = fixture.clock.nowMilliseconds()
            let view = try fixture.store.validate(issued.token)
            #expect(view.expiresAt == now + Fixture.idle, "step \(step)")
            #expect(view.absoluteExpiresAt == issued.session.absoluteExpiresAt)
            #expect(view.createdAt == issued.session.createdAt)
        }
        // Five idle periods (minus slack) after creation: alive only because of sliding.
        #expect(fixture.clock.nowMilliseconds() - issued.session.createdAt > 4 * Fixture.idle)
        #expect(fixture.validates(issued.token))
    }

    @Test("absolute lifetime: validating every minute forever still ends at absolute + 1 s")
    func absoluteWithValidate() throws {
        let fixture = try Fixture(idle: 120_000, absolute: 600_000)
        let issued = try fixture.login()
        let absolute = issued.session.absoluteExpiresAt
        var minutes = 0
        while true {
            fixture.clock.advance(seconds: 60)
            minutes += 1
            let now = fixture.clock.nowMilliseconds()
            guard now < absolute else { break }
            let view = try fixture.store.validate(issued.token)
            #expect(view.expiresAt == min(now + 120_000, absolute))
            #expect(view.absoluteExpiresAt == absolute)
        }
        #expect(minutes == 10)
        // now == absolute: already over.
        #expect(throws: SessionError.expired) { try fixture.store.validate(issued.token) }

        // The same with the precise edges: alive at absolute - 1 s, expired at absolute + 1 s.
        let second = try fixture.login()
        while fixture.clock.nowMilliseconds() + 60_000 < second.session.absoluteExpiresAt - 1000 {
            fixture.clock.advance(seconds: 60)
            #expect(fixture.validates(second.token))
        }
        fixture.clock.advance(milliseconds: second.session.absoluteExpiresAt - 1000 - fixture.clock.nowMilliseconds())
        #expect(try fixture.store.validate(second.token).expiresAt == second.session.absoluteExpiresAt)
        fixture.clock.advance(seconds: 2)
        #expect(throws: SessionError.expired) { try fixture.store.validate(second.token) }
    }

    @Test("absolute lifetime: refreshing every minute forever still ends at absolute + 1 s")
    func absoluteWithRefresh() throws {
        let fixture = try Fixture(idle: 120_000, absolute: 600_000)
        var issued = try fixture.login()
        let created = issued.session.createdAt
        let absolute = issued.session.absoluteExpiresAt
        while fixture.clock.nowMilliseconds() + 60_000 < absolute - 1000 {
            fixture.clock.advance(seconds: 60)
            issued = try fixture.store.refresh(issued.token)
            #expect(issued.session.absoluteExpiresAt == absolute)
            #expect(issued.session.createdAt == created)
        }
        fixture.clock.advance(milliseconds: absolute - 1000 - fixture.clock.nowMilliseconds())
        issued = try fixture.store.refresh(issued.token)
        fixture.clock.advance(seconds: 2)
        #expect(throws: SessionError.expired) { _ = try fixture.store.refresh(issued.token) }
        #expect(throws: SessionError.expired, "validate sees the same deadline") { try fixture.store.validate(issued.token) }
    }

    // MARK: Sweep

    @Test("sweep removes expired records: entry count drops and a swept token is unknown")
    func sweepRemovesExpired() throws {
        let fixture = try Fixture()
        let expiring = try (0..<200).map { try fixture.login("u\($0)").token }
        fixture.clock.advance(milliseconds: Fixture.idle - 1000)
        let survivors = try (0..<20).map { try fixture.login("s\($0)").token }
        #expect(fixture.store.entryCount == 220)
        fixture.clock.advance(seconds: 2)  // the first 200 are now idle + 1 s old; the survivors 2 s

        #expect(fixture.store.sweep() == 200)
        #expect(fixture.store.entryCount == 20)
        #expect(fixture.store.map.count == 20)
        #expect(fixture.store.statistics.sweptEntries == 200)
        for token in expiring {
            #expect(throws: SessionError.invalidToken) { try fixture.store.validate(token) }
        }
        for token in survivors { #expect(fixture.validates(token)) }
        #expect(fixture.store.sweep() == 0, "nothing left to sweep")
    }

    @Test("sweep gives a shard's memory back after mass expiry")
    func sweepShrinksShard() throws {
        let fixture = try Fixture(shardCount: 1)
        for index in 0..<5000 { try fixture.login("u\(index)") }
        fixture.clock.advance(milliseconds: Fixture.idle - 1000)
        let survivors = try (0..<10).map { try fixture.login("s\($0)").token }
        let before = fixture.store.shardCapacity()
        #expect(before >= 5010)
        fixture.clock.advance(seconds: 2)
        #expect(fixture.store.sweep() == 5000)
        let after = fixture.store.shardCapacity()
        #expect(after < 64, "capacity \(before) -> \(after)")
        for token in survivors { #expect(fixture.validates(token)) }
    }

    @Test("sweep forgets revoked and rotated tokens once the session would have ended anyway")
    func sweepTombstones() throws {
        let fixture = try Fixture(idle: 60_000, absolute: 300_000)
        let revoked = try fixture.login().token
        try fixture.store.revoke(revoked)
        let old = try fixture.login().token
        let new = try fixture.store.refresh(old).token
        #expect(fixture.store.entryCount == 3)
        // Keep the new token alive to just before the absolute deadline: tombstones stay until then.
        while fixture.clock.nowMilliseconds() + 50_000 < fixture.store.record(of: new)!.absoluteExpiresAt {
            fixture.clock.advance(seconds: 50)
            #expect(fixture.validates(new))
            #expect(fixture.store.sweep() == 0)
        }
        #expect(throws: SessionError.revoked) { try fixture.store.validate(revoked) }
        fixture.clock.advance(seconds: 60)
        #expect(fixture.store.sweep() == 3)
        #expect(fixture.store.entryCount == 0)
        #expect(throws: SessionError.invalidToken) { try fixture.store.validate(revoked) }
        #expect(throws: SessionError.invalidToken) { _ = try fixture.store.refresh(old) }
        #expect(throws: SessionError.invalidToken) { try fixture.store.validate(new) }
    }

    // MARK: Refresh

    @Test("refresh rotates: the new token works for the same session, the old one is revoked")
    func refreshRotates() throws {
        let fixture = try Fixture()
        let issued = try fixture.login("alice", unionid: "u")
        fixture.clock.advance(seconds: 10)
        let refreshed = try fixture.store.refresh(issued.token)
        #expect(refreshed.token != issued.token)
        #expect(TokenBytes.isWellFormed(refreshed.token))
        #expect(refreshed.session.openid == "alice")
        #expect(refreshed.session.unionid == "u")
        #expect(refreshed.session.createdAt == issued.session.createdAt)
        #expect(refreshed.session.absoluteExpiresAt == issued.session.absoluteExpiresAt)
        #expect(refreshed.session.expiresAt == fixture.clock.nowMilliseconds() + Fixture.idle)
        #expect(try fixture.store.validate(refreshed.token).openid == "alice")
        #expect(throws: SessionError.revoked) { try fixture.store.validate(issued.token) }
        #expect(throws: SessionError.revoked) { try fixture.store.validate(issued.token) }
        // A validate of the old token inside the grace window does not end the session.
        #expect(fixture.validates(refreshed.token))
        #expect(fixture.store.statistics.reuseDetections == 0)
    }

    @Test("a refresh retry inside the grace window returns the same new token")
    func refreshRetryInsideGrace() throws {
        let fixture = try Fixture()
        let old = try fixture.login().token
        let first = try fixture.store.refresh(old)
        fixture.clock.advance(milliseconds: Fixture.grace - 1000)
        #expect(fixture.validates(first.token))
        let retry = try fixture.store.refresh(old)
        #expect(retry.token == first.token)
        #expect(retry.session.createdAt == first.session.createdAt)
        fixture.clock.advance(milliseconds: 1000)  // exactly at the end of the window: still inside
        #expect(try fixture.store.refresh(old).token == first.token)
        #expect(fixture.store.entryCount == 2, "retries add nothing")
        #expect(fixture.validates(first.token))
        #expect(fixture.store.statistics.reuseDetections == 0)
    }

    @Test("A -> B -> C: a refresh of A inside A's grace window is TOKEN_REVOKED and changes nothing (PROTOCOL.md chains)")
    func refreshOfATokenTwoRotationsBehindInsideGrace() throws {
        let fixture = try Fixture()
        let a = try fixture.login().token
        let b = try fixture.store.refresh(a).token
        let c = try fixture.store.refresh(b).token
        #expect(throws: SessionError.revoked) { _ = try fixture.store.refresh(a) }
        #expect(fixture.validates(c), "the session lives on as C")
        #expect(fixture.store.statistics.reuseDetections == 0)
    }

    @Test("refresh slides the idle deadline like validate; the absolute deadline stays")
    func refreshSlidesTheIdleDeadline() throws {
        let fixture = try Fixture()
        let issued = try fixture.login()
        fixture.clock.advance(milliseconds: Fixture.idle / 2)
        let refreshed = try fixture.store.refresh(issued.token)
        #expect(refreshed.session.expiresAt == issued.session.expiresAt + Fixture.idle / 2)
        #expect(refreshed.session.absoluteExpiresAt == issued.session.absoluteExpiresAt)
    }

    @Test("refresh of the old token after the grace window is reuse: revoked, and the new token is revoked too")
    func refreshReuseAfterGrace() throws {
        let fixture = try Fixture()
        let old = try fixture.login().token
        let middle = try fixture.store.refresh(old).token
        fixture.clock.advance(seconds: 5)
        let newest = try fixture.store.refresh(middle).token
        #expect(fixture.validates(newest))
        fixture.clock.advance(milliseconds: Fixture.grace + 1000)
        #expect(fixture.validates(newest))

        #expect(throws: SessionError.revoked) { _ = try fixture.store.refresh(old) }
        #expect(fixture.store.statistics.reuseDetections == 1)
        for token in [newest, middle, old] {
            #expect(throws: SessionError.revoked) { try fixture.store.validate(token) }
            #expect(throws: SessionError.revoked) { _ = try fixture.store.refresh(token) }
        }
        #expect(fixture.store.statistics.reuseDetections == 1, "only a rotated token's reuse is counted")
    }

    @Test("validate of the old token after the grace window is reuse as well (PROTOCOL.md REFRESH semantics)")
    func validateReuseAfterGrace() throws {
        let fixture = try Fixture()
        let old = try fixture.login().token
        let new = try fixture.store.refresh(old).token
        fixture.clock.advance(milliseconds: Fixture.grace + 1000)
        #expect(fixture.validates(new))
        #expect(throws: SessionError.revoked) { try fixture.store.validate(old) }
        #expect(fixture.store.statistics.reuseDetections == 1)
        #expect(throws: SessionError.revoked, "the whole session is revoked") { try fixture.store.validate(new) }
    }

    @Test("a refresh retry after the new token was revoked does not resurrect the session")
    func retryAfterRevoke() throws {
        let fixture = try Fixture()
        let old = try fixture.login().token
        let new = try fixture.store.refresh(old).token
        try fixture.store.revoke(new)
        #expect(throws: SessionError.revoked) { _ = try fixture.store.refresh(old) }
        #expect(throws: SessionError.revoked) { try fixture.store.validate(new) }
    }

    // MARK: Revoke

    @Test("revoke, then validate: revoked; revoking again: revoked")
    func revoke() throws {
        let fixture = try Fixture()
        let token = try fixture.login().token
        let other = try fixture.login().token
        try fixture.store.revoke(token)
        #expect(throws: SessionError.revoked) { try fixture.store.validate(token) }
        #expect(throws: SessionError.revoked) { _ = try fixture.store.refresh(token) }
        #expect(throws: SessionError.revoked) { try fixture.store.revoke(token) }
        #expect(fixture.validates(other), "other sessions are unaffected")
    }

    @Test("revoking a rotated token ends the session it was rotated into")
    func revokeFollowsRotation() throws {
        let fixture = try Fixture()
        let old = try fixture.login().token
        let new = try fixture.store.refresh(old).token
        try fixture.store.revoke(old)
        #expect(throws: SessionError.revoked) { try fixture.store.validate(new) }
    }

    @Test("revoke of an expired session says expired")
    func revokeExpired() throws {
        let fixture = try Fixture()
        let token = try fixture.login().token
        fixture.clock.advance(milliseconds: Fixture.idle + 1000)
        #expect(throws: SessionError.expired) { try fixture.store.revoke(token) }
    }

    @Test("revokeUser counts and ends only that app + openid's live sessions")
    func revokeUser() throws {
        let fixture = try Fixture()
        let store = fixture.store
        let expired = try fixture.login("alice").token
        fixture.clock.advance(milliseconds: Fixture.idle + 1000)  // expired but not swept
        let alice1 = try fixture.login("alice").token
        let alice2old = try fixture.login("alice").token
        let alice2 = try store.refresh(alice2old).token  // one session, two entries
        let alice3 = try fixture.login("alice").token
        try store.revoke(alice3)  // already revoked: not live
        let bob = try fixture.login("bob").token
        let aliceOtherApp = try fixture.login("alice", app: Fixture.appB).token
        let aliceCase = try fixture.login("Alice").token

        #expect(try store.revokeUser(appID: Fixture.appA, openid: "alice") == 2)
        for token in [alice1, alice2, alice2old, alice3] {
            #expect(throws: SessionError.revoked) { try store.validate(token) }
        }
        #expect(!fixture.validates(expired))
        for token in [bob, aliceOtherApp, aliceCase] { #expect(fixture.validates(token)) }
        #expect(try store.revokeUser(appID: Fixture.appA, openid: "alice") == 0)
        #expect(try store.revokeUser(appID: Fixture.appB, openid: "alice") == 1)
        #expect(try store.revokeUser(appID: Fixture.appA, openid: "nobody") == 0)
        #expect(throws: SessionError.unknownApp) { try store.revokeUser(appID: "wxnope", openid: "alice") }
    }

    @Test("revokeUser across many shards")
    func revokeUserManyShards() throws {
        let fixture = try Fixture(shardCount: 64)
        let tokens = try (0..<300).map { _ in try fixture.login("alice").token }
        let others = try (0..<50).map { _ in try fixture.login("bob").token }
        #expect(try fixture.store.revokeUser(appID: Fixture.appA, openid: "alice") == 300)
        #expect(tokens.allSatisfy { !fixture.validates($0) })
        #expect(others.allSatisfy { fixture.validates($0) })
    }

    // MARK: Capacity

    @Test("at maxEntries create throws .full; existing sessions still validate and refresh")
    func capacity() throws {
        let fixture = try Fixture(maxEntries: 5)
        let tokens = try (0..<5).map { try fixture.login("u\($0)").token }
        for _ in 0..<3 {
            #expect(throws: SessionError.full) { try fixture.login("late") }
        }
        #expect(fixture.store.entryCount == 5)
        #expect(fixture.store.map.count == 5)
        for token in tokens { #expect(fixture.validates(token)) }
        // Documented policy: refresh is never refused for space (the old token's tombstone may exceed the cap).
        let refreshed = try fixture.store.refresh(tokens[0]).token
        #expect(fixture.validates(refreshed))
        #expect(throws: SessionError.full) { try fixture.login("late") }

        // Space comes back only when entries are really gone.
        fixture.clock.advance(milliseconds: Fixture.absolute + 1000)
        #expect(fixture.store.sweep() == 6)
        #expect(fixture.validates(try fixture.login("late").token))
    }
}
