import Foundation
import RedisTestHarness
import Synchronization
import Testing
import WXAuthRedis
@testable import WXAuthSharedStore

/// `SharedAccessTokens` on a real 3+3 cluster: two instances on two clients stand for two nodes.
@Suite(.serialized, .redisCluster, .timeLimit(.minutes(3)))
struct CoordinationAccessTokensTests {
    var cluster: ClusterRedis { ClusterRedis.current! }

    struct FetchFailed: Error, Equatable {}

    struct Nodes {
        var clients: [RedisClusterClient]
        var tokens: [SharedAccessTokens]
        var namespace: String
        func close() async { for client in clients { await client.shutdown() } }
    }

    func nodes(_ configuration: SharedAccessTokens.Configuration = .init()) throws -> Nodes {
        let clients = [CoordinationTestSupport.nodeClient(cluster, index: 0), CoordinationTestSupport.nodeClient(cluster, index: 1)]
        let tokens = try clients.map {
            try SharedAccessTokens(client: $0, secret: CoordinationTestSupport.secret, configuration: configuration)
        }
        return Nodes(clients: clients, tokens: tokens, namespace: CoordinationTestSupport.freshNamespace("wxapp"))
    }

    /// A fetch that counts its calls and answers `token-<n>` after a WeChat-like pause.
    static func countingFetch(_ fetches: Counter, lifetime: Duration = .seconds(7200)) -> @Sendable () async throws(FetchFailed) -> SharedAccessToken {
        { () throws(FetchFailed) -> SharedAccessToken in
            let n = fetches.increment()
            try? await Task.sleep(for: .milliseconds(50))
            return SharedAccessToken(value: "token-\(n)", remaining: lifetime)
        }
    }

    @Test func aHundredRequestsOnTwoNodesCauseOneFetch() async throws {
        let nodes = try nodes()
        let fetches = Counter()
        let fetch = Self.countingFetch(fetches)
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for request in 0..<100 {
                group.addTask {
                    let tokens = nodes.tokens[request % 2]
                    if let shared = await tokens.current(namespace: nodes.namespace) { return shared.value }
                    return try await tokens.fetchExclusively(namespace: nodes.namespace, fetch: fetch).value
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(fetches.count == 1)
        #expect(values == ["token-1"])
        #expect(nodes.tokens[0].uncoordinatedFetches + nodes.tokens[1].uncoordinatedFetches == 0)
        // Stored sealed, under a hashed name, expiring with the token; the lock is gone.
        let keys = nodes.tokens[0].keyNames(for: nodes.namespace)
        #expect(!keys.token.contains(nodes.namespace))
        let raw = try #require(try await CoordinationTestSupport.rawValue(nodes.clients[0], keys.token))
        #expect(!String(decoding: raw, as: UTF8.self).contains("token-1"))
        let ttl = try #require(try await nodes.clients[0].execute(RedisCommand(["PTTL", keys.token], keys: [1])).integer)
        #expect(ttl > 7_100_000 && ttl <= 7_200_000)
        #expect(try await CoordinationTestSupport.rawValue(nodes.clients[0], keys.lock) == nil)
        let shared = try #require(await nodes.tokens[1].current(namespace: nodes.namespace))
        #expect(shared.value == "token-1" && shared.remaining > .seconds(7100))
        await nodes.close()
    }

    @Test func invalidatingAnOldTokenLeavesTheNewerOne() async throws {
        let nodes = try nodes()
        let fetches = Counter()
        let fetch = Self.countingFetch(fetches)
        let first = try await nodes.tokens[0].fetchExclusively(namespace: nodes.namespace, fetch: fetch)
        #expect(first.value == "token-1")
        // Node B finds token-1 stale: it goes.
        await nodes.tokens[1].invalidate(namespace: nodes.namespace, value: "token-1")
        #expect(await nodes.tokens[0].current(namespace: nodes.namespace) == nil)
        let second = try await nodes.tokens[0].fetchExclusively(namespace: nodes.namespace, fetch: fetch)
        #expect(second.value == "token-2")
        // Node B, late, reports token-1 stale again: token-2 stays.
        await nodes.tokens[1].invalidate(namespace: nodes.namespace, value: "token-1")
        #expect(await nodes.tokens[1].current(namespace: nodes.namespace)?.value == "token-2")
        #expect(try await nodes.tokens[1].fetchExclusively(namespace: nodes.namespace, fetch: fetch).value == "token-2")
        #expect(fetches.count == 2)
        await nodes.tokens[0].invalidate(namespace: nodes.namespace, value: "token-2")
        #expect(await nodes.tokens[1].current(namespace: nodes.namespace) == nil)
        await nodes.close()
    }

    @Test func aTamperedStoredTokenIsRefetchedNotUsed() async throws {
        let nodes = try nodes()
        let fetches = Counter()
        let fetch = Self.countingFetch(fetches)
        _ = try await nodes.tokens[0].fetchExclusively(namespace: nodes.namespace, fetch: fetch)
        let key = nodes.tokens[0].keyNames(for: nodes.namespace).token
        var raw = try #require(try await CoordinationTestSupport.rawValue(nodes.clients[0], key))
        raw[CoordinationSealer.overhead / 2] ^= 0x01
        try await CoordinationTestSupport.overwrite(nodes.clients[0], key, with: raw, ttl: .seconds(7000))

        #expect(await nodes.tokens[1].current(namespace: nodes.namespace) == nil)
        #expect(nodes.tokens[1].unreadableValues == 1)
        // Put it back tampered: fetchExclusively must not hand it out either.
        try await CoordinationTestSupport.overwrite(nodes.clients[0], key, with: raw, ttl: .seconds(7000))
        let fresh = try await nodes.tokens[1].fetchExclusively(namespace: nodes.namespace, fetch: fetch)
        #expect(fresh.value == "token-2")
        #expect(fetches.count == 2)
        #expect(nodes.tokens[1].unreadableValues == 2)
        #expect(await nodes.tokens[0].current(namespace: nodes.namespace)?.value == "token-2")
        await nodes.close()
    }

    @Test func aTokenNearItsEndIsUsableButReplacedByFetchExclusively() async throws {
        let nodes = try nodes(.init(refreshWhenRemainingBelow: .seconds(300)))
        let fetches = Counter()
        _ = try await nodes.tokens[0].fetchExclusively(namespace: nodes.namespace, fetch: Self.countingFetch(fetches, lifetime: .seconds(200)))
        let near = try #require(await nodes.tokens[1].current(namespace: nodes.namespace))
        #expect(near.value == "token-1" && near.remaining <= .seconds(200))
        let replaced = try await nodes.tokens[1].fetchExclusively(namespace: nodes.namespace, fetch: Self.countingFetch(fetches))
        #expect(replaced.value == "token-2")
        #expect(await nodes.tokens[0].current(namespace: nodes.namespace)?.value == "token-2")
        await nodes.close()
    }

    @Test func aLockLeftByADeadNodeExpiresAndAFailedFetchReleasesItAtOnce() async throws {
        let nodes = try nodes(.init(lockTTL: .seconds(10)))
        let keys = nodes.tokens[0].keyNames(for: nodes.namespace)
        let fetches = Counter()
        // A node took the lock and died: its lock (short here) expires and another node fetches.
        try await CoordinationTestSupport.overwrite(nodes.clients[0], keys.lock, with: Array("dead-node".utf8), ttl: .milliseconds(400))
        var start = ContinuousClock.now
        let token = try await nodes.tokens[1].fetchExclusively(namespace: nodes.namespace, fetch: Self.countingFetch(fetches))
        #expect(token.value == "token-1" && elapsed(since: start) >= 0.2)
        await nodes.tokens[1].invalidate(namespace: nodes.namespace, value: "token-1")

        // A fetch that fails releases the lock: the next node need not wait the 10 s lock life.
        await #expect(throws: FetchFailed.self) {
            try await nodes.tokens[0].fetchExclusively(namespace: nodes.namespace) { () throws(FetchFailed) -> SharedAccessToken in
                throw FetchFailed()
            }
        }
        #expect(try await CoordinationTestSupport.rawValue(nodes.clients[0], keys.lock) == nil)
        start = ContinuousClock.now
        let next = try await nodes.tokens[1].fetchExclusively(namespace: nodes.namespace, fetch: Self.countingFetch(fetches))
        #expect(next.value == "token-2" && elapsed(since: start) < 5)
        await nodes.close()
    }

    @Test func withoutRedisEachNodeFetchesOnItsOwn() async throws {
        let port = RedisTools.freePorts(1)[0]
        let client = RedisStandaloneClient(address: RedisAddress(host: "127.0.0.1", port: port),
                                           configuration: .init(commandTimeout: .milliseconds(300), connectTimeout: .milliseconds(100)))
        let tokens = try SharedAccessTokens(client: client, secret: CoordinationTestSupport.secret)
        let fetches = Counter()
        #expect(await tokens.current(namespace: "app") == nil)
        let token = try await tokens.fetchExclusively(namespace: "app", fetch: Self.countingFetch(fetches))
        #expect(token.value == "token-1" && fetches.count == 1 && tokens.uncoordinatedFetches == 1)
        await tokens.invalidate(namespace: "app", value: "token-1")  // nothing to do, nothing thrown
        await client.shutdown()
    }
}

/// The shape of the server's adapter from `AccessTokenSharing` (WXAuthWeChat) to `SharedAccessTokens`, with
/// stand-ins for WXAuthWeChat's types (this target does not depend on it): proves the typed-throws plumbing compiles
/// and passes errors and values through.
@Suite struct CoordinationAdapterShapeTests {
    struct StandInError: Error, Equatable { var code: Int32 }
    struct StandInToken: Equatable { var value: String; var lifetime: Duration }

    struct Adapter {
        let tokens: SharedAccessTokens
        func fetchExclusively(appID: String, fetch: @Sendable () async throws(StandInError) -> StandInToken) async throws(StandInError) -> StandInToken {
            let shared = try await tokens.fetchExclusively(namespace: appID) { () throws(StandInError) -> SharedAccessToken in
                let token = try await fetch()
                return SharedAccessToken(value: token.value, remaining: token.lifetime)
            }
            return StandInToken(value: shared.value, lifetime: shared.remaining)
        }
    }

    @Test func typedErrorsAndTokensPassThrough() async throws {
        // No Redis here: every call goes the uncoordinated way, which is enough to check the plumbing.
        let client = RedisStandaloneClient(address: RedisAddress(host: "127.0.0.1", port: RedisTools.freePorts(1)[0]),
                                           configuration: .init(commandTimeout: .milliseconds(200), connectTimeout: .milliseconds(100)))
        let adapter = Adapter(tokens: try SharedAccessTokens(client: client, secret: CoordinationTestSupport.secret))
        let token = try await adapter.fetchExclusively(appID: "a") { () throws(StandInError) -> StandInToken in
            StandInToken(value: "t", lifetime: .seconds(7200))
        }
        #expect(token == StandInToken(value: "t", lifetime: .seconds(7200)))
        do {
            _ = try await adapter.fetchExclusively(appID: "a") { () throws(StandInError) -> StandInToken in throw StandInError(code: 40013) }
            Issue.record("no error")
        } catch {
            #expect(error == StandInError(code: 40013))
        }
        await client.shutdown()
    }
}
