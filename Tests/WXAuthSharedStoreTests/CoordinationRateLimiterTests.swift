import Foundation
import RedisTestHarness
import Testing
import WXAuthRedis
@testable import WXAuthSharedStore

/// `ClusterRateLimiter` on a real 3+3 cluster, two limiters on two clients standing for two nodes.
@Suite(.serialized, .redisCluster, .timeLimit(.minutes(3)))
struct CoordinationRateLimiterTests {
    var cluster: ClusterRedis { ClusterRedis.current! }

    @Test func twoNodesHammeringOneKeyShareOneBucket() async throws {
        let clients = [CoordinationTestSupport.nodeClient(cluster, index: 0), CoordinationTestSupport.nodeClient(cluster, index: 1)]
        let namespace = CoordinationTestSupport.freshNamespace("login")
        // Burst 10 at 20/s: a bucket overflows (and refill is lost) only if no caller takes a token for 500 ms,
        // which a loaded 2-core machine running other clusters can still come close to with burst 5.
        let limiters = clients.map {
            ClusterRateLimiter(client: $0, perSecond: 20, burst: 10, namespace: namespace, secret: CoordinationTestSupport.secret)
        }
        // Connections and scripts ready before the clock starts.
        #expect(try await limiters[0].take("warm-up-0") == nil)
        #expect(try await limiters[1].take("warm-up-1") == nil)

        let allowed = [Counter(), Counter()]
        let denied = Counter()
        let start = ContinuousClock.now
        let stop = start + .seconds(3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in 0..<2 {
                for _ in 0..<4 {
                    group.addTask {
                        while ContinuousClock.now < stop {
                            if try await limiters[node].take("user-42") == nil {
                                allowed[node].increment()
                            } else {
                                denied.increment()
                                try await Task.sleep(for: .milliseconds(1))
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = elapsed(since: start)
        let total = allowed[0].count + allowed[1].count
        let expected = 10 + 20 * seconds
        // The guarantee: never more than the bucket allows over the whole run (the script reads Redis's clock
        // within this interval), whatever the load.
        #expect(Double(total) <= expected + 1, "allowed \(total) in \(seconds) s: more than \(expected)")
        #expect(abs(Double(total) - expected) <= 0.1 * expected,
                "allowed \(total) (node A \(allowed[0].count), node B \(allowed[1].count)) in \(seconds) s; expected about \(expected)")
        #expect(allowed[0].count > 0 && allowed[1].count > 0)
        #expect(denied.count > total, "the key was not hammered: only \(denied.count) refusals")

        // A key neither node used has its full burst, on either node; so does the same key in another namespace.
        for node in 0..<2 {
            for _ in 0..<10 { #expect(try await limiters[node].take("user-\(node)-fresh") == nil) }
            let wait = try #require(try await limiters[node].take("user-\(node)-fresh"))
            #expect(wait > .zero && wait <= .milliseconds(50))
        }
        let elsewhere = ClusterRateLimiter(client: clients[0], perSecond: 20, burst: 5, namespace: namespace + "-other",
                                           secret: CoordinationTestSupport.secret)
        #expect(try await elsewhere.take("user-42") == nil)
        for client in clients { await client.shutdown() }
    }

    @Test func refusalSaysHowLongUntilTheNextTokenAndThatIsEnough() async throws {
        let client = CoordinationTestSupport.nodeClient(cluster, index: 2)
        let limiter = ClusterRateLimiter(client: client, perSecond: 4, burst: 2, namespace: CoordinationTestSupport.freshNamespace("wait"),
                                         secret: CoordinationTestSupport.secret)
        #expect(try await limiter.take("k") == nil)
        #expect(try await limiter.take("k") == nil)
        let wait = try #require(try await limiter.take("k"))
        #expect(wait > .milliseconds(100) && wait <= .milliseconds(250), "wait \(wait) at 4/s")
        try await Task.sleep(for: wait + .milliseconds(20))
        #expect(try await limiter.take("k") == nil)
        #expect(try await limiter.take("k") != nil)
        await client.shutdown()
    }

    @Test func idleBucketsExpireOnceFullAgain() async throws {
        let client = CoordinationTestSupport.nodeClient(cluster, index: 1)
        let limiter = ClusterRateLimiter(client: client, perSecond: 10, burst: 5, namespace: CoordinationTestSupport.freshNamespace("ttl"),
                                         secret: CoordinationTestSupport.secret)
        for _ in 0..<3 { _ = try await limiter.take("k") }
        let ttl = try #require(try await client.execute(RedisCommand(["PTTL", limiter.keyName(for: "k")], keys: [1])).integer)
        // 3 tokens short at 10/s: 300 ms to refill, plus a second.
        #expect(ttl > 1000 && ttl <= 1300, "PTTL \(ttl)")
        #expect(limiter.keyName(for: "k").hasPrefix(SharedStoreKeys.ratePrefix + "{"))
        await client.shutdown()
    }
}
