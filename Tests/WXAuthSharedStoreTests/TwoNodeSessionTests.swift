import Foundation
import Logging
import RedisTestHarness
import Testing
import WXAuthCrypto
import WXAuthRedis
@testable import WXAuthSessions
@testable import WXAuthSharedStore

/// Two shared stores ("nodes"), each with its own cluster client and near cache, over one real 3+3 Redis Cluster.
@Suite("Shared sessions across two nodes", .serialized, .redisCluster, .timeLimit(.minutes(3)))
struct TwoNodeSessionTests {
    var cluster: ClusterRedis { ClusterRedis.current! }
    static let sessionKey = Data(Array(0..<16)).base64EncodedString()

    func node(clock: any WallClock = SystemWallClock(), apps: [AppConfiguration] = [AppConfiguration(appID: "wxapp", secret: "s")],
              configuration: SharedStoreConfiguration = .init()) -> SharedSessionStore {
        let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds, connection: .init(commandTimeout: .seconds(2))))
        let store = SharedSessionStore(
            client: client, keyring: Self.keyring, apps: AppRegistry(apps), configuration: configuration, clock: clock,
            logger: Logger(label: "test.shared"))
        store.start()
        return store
    }

    static let keyring = try! ServerKeyring(keys: [.init(id: 1, secret: Array(repeating: 42, count: 32))], primary: 1)

    func waitUntilServing(_ stores: SharedSessionStore...) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while stores.contains(where: { !$0.isNearCacheServing }) {
            guard ContinuousClock.now < deadline else { throw HarnessError("near cache feed did not come up") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func fromCache(_ store: SharedSessionStore, _ token: String) -> SharedSessionStore.CachedValidation {
        var token = token
        return token.withUTF8 { store.validateFromCache(tokenUTF8: UnsafeRawBufferPointer($0)) }
    }

    @Test func loginOnOneNodeValidatesRefreshesAndRevokesOnTheOther() async throws {
        let a = node(), b = node()
        try await waitUntilServing(a, b)
        let issued = try await a.create(appID: "wxapp", openid: "alice", unionid: "u-alice", sessionKeyBase64: Self.sessionKey)
        #expect(issued.token.utf8.count == SharedSessionToken.encodedLength)

        // B has never seen it: the near cache misses, Redis answers, and B caches it.
        guard case .needsStore = fromCache(b, issued.token) else { Issue.record("expected a near-cache miss"); return }
        let viaRedis = try await b.validate(issued.token)
        #expect(viaRedis.openid == "alice" && viaRedis.unionid == "u-alice" && viaRedis.createdAt == issued.session.createdAt)
        // The first read may not be cached: the invalidation for A's own write can still be in flight, and a fill
        // that races an invalidation is dropped. A later read is.
        try await eventually {
            _ = try await b.validate(issued.token)
            if case .answered(.success(let cached)) = fromCache(b, issued.token) { return cached.openid == "alice" }
            return false
        }

        // REFRESH on B; A refuses the old token (inside the grace window) and accepts the new one.
        let refreshed = try await b.refresh(issued.token)
        #expect(refreshed.token != issued.token)
        await #expect(throws: SessionError.revoked) { try await a.validate(issued.token) }
        #expect(try await a.validate(refreshed.token).openid == "alice")
        // A retried REFRESH of the old token within the grace window gets the same new token, on either node.
        #expect(try await a.refresh(issued.token).token == refreshed.token)

        // REVOKE on A; B refuses, including from its near cache once the invalidation arrives.
        try await a.revoke(refreshed.token)
        try await eventually { if case .answered(.success) = fromCache(b, refreshed.token) { false } else { true } }
        await #expect(throws: SessionError.revoked) { try await b.validate(refreshed.token) }
        await #expect(throws: SessionError.revoked) { try await b.revoke(refreshed.token) }
        await a.shutdown()
        await b.shutdown()
    }

    @Test func refreshReuseAfterTheGraceWindowRevokesTheSessionEverywhere() async throws {
        let clock = ManualWallClock(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let a = node(clock: clock), b = node(clock: clock)
        try await waitUntilServing(a, b)
        let first = try await a.create(appID: "wxapp", openid: "reuse", unionid: nil, sessionKeyBase64: Self.sessionKey)
        let second = try await b.refresh(first.token)
        clock.advance(seconds: 31)
        // The old token after the window: reuse, the whole session is revoked.
        await #expect(throws: SessionError.revoked) { try await a.refresh(first.token) }
        #expect(a.statistics.reuseDetections == 1)
        await #expect(throws: SessionError.revoked) { try await b.validate(second.token) }
        await a.shutdown()
        await b.shutdown()
    }

    @Test func idleExpiryAndSlidingAcrossNodes() async throws {
        let clock = ManualWallClock(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let apps = [AppConfiguration(appID: "wxapp", secret: "s", idleTimeoutMilliseconds: 64_000, absoluteLifetimeMilliseconds: 3_600_000)]
        let a = node(clock: clock, apps: apps), b = node(clock: clock, apps: apps)
        try await waitUntilServing(a, b)
        let issued = try await a.create(appID: "wxapp", openid: "idle", unionid: nil, sessionKeyBase64: Self.sessionKey)
        let before = try await b.validate(issued.token).expiresAt
        // 50 s later (granularity 1 s): B's VALIDATE slides the deadline in Redis, in the background.
        clock.advance(seconds: 50)
        _ = try await b.validate(issued.token)
        try await eventually { (try? await a.peek(issued.token).expiresAt).map { $0 > before } ?? false }
        // 60 s after the slide it still lives (64 s idle); without the slide it would have expired.
        clock.advance(seconds: 60)
        #expect(try await a.validate(issued.token).openid == "idle")
        clock.advance(seconds: 65)
        await #expect(throws: SessionError.expired) { try await b.validate(issued.token) }
        await a.shutdown()
        await b.shutdown()
    }

    @Test func revokeUserRacingLoginsOnTheOtherNodeLeavesNoEarlierSessionAlive() async throws {
        let a = node(), b = node()
        try await waitUntilServing(a, b)
        var kept: [SessionStore.Issued] = []
        for _ in 0..<3 { kept.append(try await a.create(appID: "wxapp", openid: "racer", unionid: nil, sessionKeyBase64: Self.sessionKey)) }
        let outcome = try await withThrowingTaskGroup(of: [Result<SessionStore.Issued, SessionError>].self) { group in
            group.addTask {
                var results: [Result<SessionStore.Issued, SessionError>] = []
                for _ in 0..<40 {
                    do throws(SessionError) {
                        results.append(.success(try await a.create(appID: "wxapp", openid: "racer", unionid: nil, sessionKeyBase64: Self.sessionKey)))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return results
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(5))
                _ = try await b.revokeUser(appID: "wxapp", openid: "racer")
                return []
            }
            var all: [Result<SessionStore.Issued, SessionError>] = []
            for try await results in group { all += results }
            return all
        }
        let watermarkText = try RedisTools.cli(port: try await portServing(SharedUserName(appID: "wxapp", openid: "racer").watermarkKeyName),
                                               ["GET", SharedUserName(appID: "wxapp", openid: "racer").watermarkKeyName])
        let watermark = try #require(Int64(watermarkText.trimmingCharacters(in: .whitespacesAndNewlines)))
        for issued in kept { await #expect(throws: SessionError.revoked) { try await b.validate(issued.token) } }
        var survivors = 0
        for case .success(let issued) in outcome {
            do {
                let session = try await b.validate(issued.token)
                #expect(session.createdAt > watermark, "a session created before REVOKE_USER survived it")
                survivors += 1
            } catch {
                // Sessions made after the watermark may still have been in the index when the script ran.
                #expect(error == .revoked)
            }
        }
        // Refused LOGINs were refused as revoked (the watermark), nothing else.
        for case .failure(let error) in outcome { #expect(error == .revoked) }
        #expect(outcome.count == 40 && survivors <= 40)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func userIndexIsPrunedNotLeftToGrow() async throws {
        let clock = ManualWallClock(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let apps = [AppConfiguration(appID: "wxapp", secret: "s", idleTimeoutMilliseconds: 1_000, absoluteLifetimeMilliseconds: 2_000)]
        let a = node(clock: clock, apps: apps, configuration: .init(expiredLingerMilliseconds: 1))
        let user = SharedUserName(appID: "wxapp", openid: "many")
        for _ in 0..<20 { _ = try await a.create(appID: "wxapp", openid: "many", unionid: nil, sessionKeyBase64: Self.sessionKey) }
        let port = try await portServing(user.indexKeyName)
        #expect(try RedisTools.cli(port: port, ["ZCARD", user.indexKeyName]).contains("20"))
        // Past every absolute deadline, the next LOGIN prunes the index down to itself.
        clock.advance(seconds: 3)
        _ = try await a.create(appID: "wxapp", openid: "many", unionid: nil, sessionKeyBase64: Self.sessionKey)
        #expect(try RedisTools.cli(port: port, ["ZCARD", user.indexKeyName]).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        // And the index itself expires with its last member's absolute deadline.
        let expiry = try RedisTools.cli(port: port, ["PEXPIRETIME", user.indexKeyName]).trimmingCharacters(in: .whitespacesAndNewlines)
        let last = try RedisTools.cli(port: port, ["ZRANGE", user.indexKeyName, "-1", "-1", "WITHSCORES"])
            .split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(expiry == last)
        await a.shutdown()
    }

    @Test func aTamperedValueInRedisIsRejectedAndCounted() async throws {
        let a = node()
        let issued = try await a.create(appID: "wxapp", openid: "mallory", unionid: nil, sessionKeyBase64: Self.sessionKey)
        let id = try #require(SharedSessionToken.parse(issued.token, keyring: Self.keyring)).session
        let port = try await portServing(id.keyName)
        // Rewrite the openid inside the value (same length), keeping everything else.
        let original = try RedisTools.cli(port: port, ["--no-raw", "GET", id.keyName])
        #expect(original.contains("mallory"))
        let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds))
        let raw = try await client.execute(.get(id.keyName))
        guard case .blobString(var buffer) = raw else { Issue.record("no value"); return }
        var bytes = Array(buffer.readableBytesView)
        let at = try #require(bytes.windows(ofCount: 7).firstIndex { Array($0) == Array("mallory".utf8) })
        bytes.replaceSubrange(at..<(at + 7), with: Array("admin00".utf8))
        buffer.clear()
        buffer.writeBytes(bytes)
        _ = try await client.execute(.set(id.keyName, buffer))
        await #expect(throws: SessionError.invalidToken) { try await a.validate(issued.token) }
        #expect(a.statistics.integrityFailures == 1)
        await client.shutdown()
        await a.shutdown()
    }

    @Test func sessionKeyIsLentAndReplacedAcrossNodes() async throws {
        let a = node(), b = node()
        let issued = try await a.create(appID: "wxapp", openid: "keys", unionid: nil, sessionKeyBase64: Self.sessionKey)
        let original = SessionKey(bytes: Array(0..<16))!
        #expect(try await b.withSessionKey(issued.token) { key, _ in key } == original)
        let fresh = SessionKey(bytes: Array(16..<32))!
        #expect(try await b.replaceSessionKey(issued.token, previousKey: original, newKey: fresh))
        // A stale previous key loses.
        #expect(try await a.replaceSessionKey(issued.token, previousKey: original, newKey: original) == false)
        #expect(try await a.withSessionKey(issued.token) { key, _ in key } == fresh)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func lostFeedFlushesTheNearCacheUntilItIsBack() async throws {
        let a = node()
        try await waitUntilServing(a)
        let issued = try await a.create(appID: "wxapp", openid: "feed", unionid: nil, sessionKeyBase64: Self.sessionKey)
        try await eventually { _ = try await a.validate(issued.token); return a.nearCacheEntries == 1 }
        // Drop every client connection on every primary (the feed's included).
        for server in cluster.servers where server.isRunning {
            _ = try? RedisTools.cli(port: server.port, ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        }
        try await eventually { a.nearCacheEntries == 0 }
        try await waitUntilServing(a)
        // It serves again, from Redis first.
        #expect(try await a.validate(issued.token).openid == "feed")
        await a.shutdown()
    }

    /// Which primary serves `key` (for redis-cli checks).
    func portServing(_ key: String) async throws -> Int {
        let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds))
        defer { Task { await client.shutdown() } }
        return try await client.address(forSlot: HashSlot.of(key)).port
    }
}

/// Polls `condition` every 2 ms for up to 5 s.
func eventually(_ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw HarnessError("condition not met within 5 s") }
        try await Task.sleep(for: .milliseconds(2))
    }
}
