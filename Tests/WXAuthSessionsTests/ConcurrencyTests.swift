import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// Many tasks on ONE shard (shardCount 1), so every operation contends for the same lock. The clock does not move,
/// so every refresh retry is inside the grace window. Run under `swift test --sanitize=thread` for data races.
@Suite("Concurrent use of one shard")
struct ConcurrencyTests {
    static let taskCount = 16

    @Test("concurrent refreshes of one token: every caller gets the same single new token")
    func concurrentRefreshes() async throws {
        for round in 0..<20 {
            let fixture = try Fixture(shardCount: 1)
            let store = fixture.store
            let old = try fixture.login().token
            let results = await withTaskGroup(of: Result<SessionStore.Issued, SessionError>.self) { group in
                for _ in 0..<Self.taskCount {
                    group.addTask { Result { () throws(SessionError) in try store.refresh(old) } }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let tokens = Set(results.compactMap { try? $0.get().token })
            #expect(results.allSatisfy { (try? $0.get()) != nil }, "round \(round): \(results)")
            #expect(tokens.count == 1, "round \(round): \(tokens.count) distinct new tokens")
            #expect(store.entryCount == 2, "round \(round): one live session plus one rotated tombstone")
            #expect(store.map.count == 2, "round \(round): losers left nothing behind")
            if let token = tokens.first {
                #expect(fixture.validates(token))
                #expect(try store.refresh(old).token == token)
            }
            #expect(throws: SessionError.revoked) { try store.validate(old) }
        }
    }

    @Test("after revoke, validations from many concurrent tasks: zero successes")
    func revokeThenConcurrentValidate() async throws {
        let fixture = try Fixture(shardCount: 1)
        let store = fixture.store
        let token = try fixture.login().token
        let bystander = try fixture.login("bob").token
        #expect(fixture.validates(token))
        try store.revoke(token)
        let (successes, revokedAnswers, bystanderFailures) = await withTaskGroup(of: (Int, Int, Int).self) { group in
            for _ in 0..<Self.taskCount {
                group.addTask {
                    var ok = 0, revoked = 0, bystanderFailed = 0
                    for _ in 0..<200 {
                        switch Result(catching: { () throws(SessionError) in try store.validate(token) }) {
                        case .success: ok += 1
                        case .failure(.revoked): revoked += 1
                        case .failure: break
                        }
                        if (try? store.validate(bystander)) == nil { bystanderFailed += 1 }
                    }
                    return (ok, revoked, bystanderFailed)
                }
            }
            return await group.reduce((0, 0, 0)) { ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2) }
        }
        #expect(successes == 0)
        #expect(revokedAnswers == Self.taskCount * 200)
        #expect(bystanderFailures == 0)
    }

    @Test("refresh racing revoke of the same token: afterwards no token of that session works")
    func refreshRacingRevoke() async throws {
        let fixture = try Fixture(shardCount: 1)
        let store = fixture.store
        for round in 0..<200 {
            let old = try fixture.login("u\(round)").token
            let issued = await withTaskGroup(of: String?.self) { group in
                group.addTask { try? store.refresh(old).token }
                group.addTask { try? store.revoke(old); return nil }
                group.addTask { try? store.refresh(old).token }
                return await group.reduce(into: [String]()) { if let token = $1 { $0.append(token) } }
            }
            #expect(Set(issued).count <= 1, "round \(round)")
            for token in issued + [old] {
                #expect(!fixture.validates(token), "round \(round): a token survived the revoke")
            }
        }
    }

    @Test("login / validate / refresh / revoke from many tasks on one shard, with consistent results")
    func mixedWorkload() async throws {
        let fixture = try Fixture(shardCount: 1)
        let store = fixture.store
        let shared = try fixture.login("shared").token
        let iterations = 40
        let failures = await withTaskGroup(of: [String].self) { group in
            for task in 0..<Self.taskCount {
                group.addTask {
                    var failures: [String] = []
                    func check(_ condition: Bool, _ what: String) { if !condition { failures.append("task \(task): \(what)") } }
                    for iteration in 0..<iterations {
                        do throws(SessionError) {
                            let user = "user-\(task)"
                            let first = try store.create(appID: Fixture.appA, openid: user, unionid: nil,
                                                         sessionKeyBase64: Fixture.sessionKey)
                            check(try store.validate(first.token).openid == user, "validate after login")
                            let second = try store.refresh(first.token)
                            check(second.session.openid == user, "refresh keeps the user")
                            check(try store.refresh(first.token).token == second.token, "retry in grace")
                            check(try store.validate(second.token).openid == user, "validate new")
                            check((try? store.validate(first.token)) == nil, "old token refused")
                            check((try? store.validate(shared)) != nil, "shared session")
                            if iteration % 2 == 0 {
                                try store.revoke(second.token)
                            } else {
                                check(try store.revokeUser(appID: Fixture.appA, openid: user) == 1, "revokeUser count")
                            }
                            check((try? store.validate(second.token)) == nil, "revoked new token refused")
                            check((try? store.refresh(first.token)) == nil, "revoked session not refreshable")
                        } catch {
                            failures.append("task \(task) iteration \(iteration): \(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: [String]()) { $0.append(contentsOf: $1) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        // Each iteration leaves two tombstones (rotated old token, revoked new token); plus the shared session.
        #expect(store.entryCount == Self.taskCount * iterations * 2 + 1)
        #expect(store.map.count == store.entryCount)
        #expect(store.statistics.integrityFailures == 0)
        #expect(fixture.validates(shared))
    }

    @Test("concurrent revokeUser calls end each session exactly once")
    func concurrentRevokeUser() async throws {
        let fixture = try Fixture(shardCount: 1)
        let store = fixture.store
        let tokens = try (0..<100).map { _ in try fixture.login("alice").token }
        let total = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (try? store.revokeUser(appID: Fixture.appA, openid: "alice")) ?? -1_000 }
            }
            for _ in 0..<8 {
                group.addTask {
                    for token in tokens.shuffled().prefix(20) { _ = try? store.validate(token) }
                    return 0
                }
            }
            return await group.reduce(0, +)
        }
        #expect(total == 100)
        #expect(tokens.allSatisfy { !fixture.validates($0) })
    }
}

@Suite("Revoke-user watermark")
struct RevokeUserWatermarkTests {
    @Test("a session rotated into an already-scanned shard during REVOKE_USER is still revoked")
    func rotatedSessionIsCaughtByTheWatermark() throws {
        // The race, made deterministic: the scan ends the session, then the racing REFRESH stores its live record
        // (as if into a shard the scan had already passed).
        let fixture = try Fixture()
        let issued = try fixture.login()
        fixture.clock.advance(seconds: 1)
        let refreshed = try fixture.store.refresh(issued.token)
        let racing = try #require(fixture.store.record(of: refreshed.token))
        #expect(try fixture.store.revokeUser(appID: Fixture.appA, openid: "alice") == 1)
        try fixture.store.putLive(racing, for: refreshed.token)
        #expect(throws: SessionError.revoked) { try fixture.store.validate(refreshed.token) }
        #expect(throws: SessionError.revoked, "and stays revoked") { try fixture.store.validate(refreshed.token) }
        // Other users are untouched, and a login after the revoke is a new session that works.
        let bob = try fixture.login("bob")
        #expect(fixture.validates(bob.token))
        fixture.clock.advance(seconds: 1)
        let again = try fixture.login()
        #expect(fixture.validates(again.token))
    }
}

extension SessionStore {
    /// Stores `record` as the live entry of `token` (test hook for interleavings).
    func putLive(_ record: SessionRecord, for token: String) throws {
        let parsed = try #require(SessionToken.parse(token, keyring: keyring))
        map.withShard(for: parsed.id) { $0[parsed.id] = .live(record) }
    }
}
