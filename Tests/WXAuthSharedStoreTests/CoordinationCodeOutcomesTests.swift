import Foundation
import RedisTestHarness
import Synchronization
import Testing
import WXAuthRedis
@testable import WXAuthSharedStore

/// `SharedCodeOutcomes` on a real 3+3 cluster: two instances on two clients stand for two nodes.
@Suite(.serialized, .redisCluster, .timeLimit(.minutes(3)))
struct CoordinationCodeOutcomesTests {
    var cluster: ClusterRedis { ClusterRedis.current! }

    /// Two nodes' instances sharing one namespace, and their clients (shut down by `close`).
    struct Nodes {
        var clients: [RedisClusterClient]
        var outcomes: [SharedCodeOutcomes]
        func close() async { for client in clients { await client.shutdown() } }
    }

    func nodes(claimTTL: Duration = .seconds(10)) throws -> Nodes {
        let namespace = CoordinationTestSupport.freshNamespace("app")
        let clients = [CoordinationTestSupport.nodeClient(cluster, index: 0), CoordinationTestSupport.nodeClient(cluster, index: 1)]
        let outcomes = try clients.map {
            try SharedCodeOutcomes(client: $0, secret: CoordinationTestSupport.secret,
                                   configuration: .init(namespace: namespace, claimTTL: claimTTL))
        }
        return Nodes(clients: clients, outcomes: outcomes)
    }

    static func answer(_ text: String, definite: Bool = true) -> SharedOutcome {
        SharedOutcome(payload: Array(text.utf8), isDefinite: definite)
    }

    @Test func twentyCallersOnTwoNodesProduceOnceAndShareTheAnswer() async throws {
        let nodes = try nodes()
        let productions = Counter()
        let results = try await withThrowingTaskGroup(of: SharedOutcome?.self) { group in
            for caller in 0..<20 {
                group.addTask {
                    try await nodes.outcomes[caller % 2].outcome(for: "code-A", waitingAtMost: .seconds(5)) {
                        let n = productions.increment()
                        try? await Task.sleep(for: .milliseconds(150))
                        return Self.answer("session for code-A, production \(n), \(UUID())")
                    }
                }
            }
            return try await group.reduce(into: [SharedOutcome?]()) { $0.append($1) }
        }
        #expect(productions.count == 1)
        #expect(results.count == 20 && results.allSatisfy { $0 != nil })
        #expect(Set(results.compactMap { $0 }).count == 1)
        #expect(results.first??.isDefinite == true)
        #expect(nodes.outcomes[0].productions + nodes.outcomes[1].productions == 1)
        await nodes.close()
    }

    @Test func transientOutcomeIsNotKeptAndTheNextCallerProducesAgain() async throws {
        let nodes = try nodes()
        let productions = Counter()
        let first = try await nodes.outcomes[0].outcome(for: "code-B", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("wechat busy", definite: false)
        }
        #expect(first == Self.answer("wechat busy", definite: false))
        let key = nodes.outcomes[0].keyName(for: "code-B")
        #expect(try await CoordinationTestSupport.rawValue(nodes.clients[0], key) == nil)
        let second = try await nodes.outcomes[1].outcome(for: "code-B", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("session B")
        }
        #expect(second == Self.answer("session B"))
        #expect(productions.count == 2)
        await nodes.close()
    }

    @Test func rememberedOutcomeComesBackWithoutProducingAndIsStoredSealed() async throws {
        let nodes = try nodes()
        let productions = Counter()
        _ = try await nodes.outcomes[0].outcome(for: "code-C", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("session C, secret-ish payload")
        }
        try await Task.sleep(for: .milliseconds(50))
        let later = try await nodes.outcomes[1].outcome(for: "code-C", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("must not be produced")
        }
        #expect(later == Self.answer("session C, secret-ish payload"))
        #expect(productions.count == 1)
        // In Redis: under a hashed name, sealed (no plaintext), with the code's life as TTL.
        let key = nodes.outcomes[0].keyName(for: "code-C")
        #expect(!key.contains("code-C"))
        let raw = try #require(try await CoordinationTestSupport.rawValue(nodes.clients[0], key))
        #expect(!String(decoding: raw, as: UTF8.self).contains("session C"))
        let ttl = try #require(try await nodes.clients[0].execute(RedisCommand(["PTTL", key], keys: [1])).integer)
        #expect(ttl > 290_000 && ttl <= 300_000)
        await nodes.close()
    }

    @Test func tamperedOutcomeIsNeverReturnedAndIsCounted() async throws {
        let nodes = try nodes()
        let productions = Counter()
        _ = try await nodes.outcomes[0].outcome(for: "code-D", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("genuine session D")
        }
        let key = nodes.outcomes[0].keyName(for: "code-D")
        var raw = try #require(try await CoordinationTestSupport.rawValue(nodes.clients[0], key))
        raw[raw.count - 1] ^= 0x40
        try await CoordinationTestSupport.overwrite(nodes.clients[1], key, with: raw)

        let afterTamper = try await nodes.outcomes[1].outcome(for: "code-D", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("produced again after tampering")
        }
        #expect(afterTamper == Self.answer("produced again after tampering"))
        #expect(nodes.outcomes[1].unreadableValues == 1)
        #expect(productions.count == 2)

        // A genuine value moved under another code's key does not open either (the key name is sealed in).
        let moved = try #require(try await CoordinationTestSupport.rawValue(nodes.clients[0], key))
        let otherKey = nodes.outcomes[0].keyName(for: "code-E")
        try await CoordinationTestSupport.overwrite(nodes.clients[0], otherKey, with: moved)
        let forE = try await nodes.outcomes[0].outcome(for: "code-E", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("session E")
        }
        #expect(forE == Self.answer("session E"))
        #expect(nodes.outcomes[0].unreadableValues == 1)

        // Garbage that is not even a record is no outcome.
        try await CoordinationTestSupport.overwrite(nodes.clients[0], otherKey, with: Array("{\"openid\":\"forged\"}".utf8))
        let forged = try await nodes.outcomes[1].outcome(for: "code-E", waitingAtMost: .seconds(2)) {
            productions.increment()
            return Self.answer("session E again")
        }
        #expect(forged == Self.answer("session E again"))
        #expect(nodes.outcomes[1].unreadableValues == 2)
        await nodes.close()
    }

    @Test func waitingEndsAtTheDeadlineWithNil() async throws {
        let nodes = try nodes()
        let release = Counter()
        async let slow = nodes.outcomes[0].outcome(for: "code-F", waitingAtMost: .seconds(5)) {
            while release.count == 0 { try? await Task.sleep(for: .milliseconds(10)) }
            return Self.answer("slow session F")
        }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        let impatient = try await nodes.outcomes[1].outcome(for: "code-F", waitingAtMost: .milliseconds(200)) {
            Issue.record("a second producer ran while the first held the claim")
            return Self.answer("wrong")
        }
        #expect(impatient == nil)
        #expect(elapsed(since: start) >= 0.19 && elapsed(since: start) < 3)
        release.increment()
        #expect(try await slow == Self.answer("slow session F"))
        await nodes.close()
    }

    @Test func aClaimLeftByADeadNodeExpiresAndIsTakenOver() async throws {
        let nodes = try nodes()
        let key = nodes.outcomes[0].keyName(for: "code-G")
        // A node claimed the code and died: nobody renews the claim.
        try await CoordinationTestSupport.overwrite(nodes.clients[0], key, with: Array("Pdeadnode0000".utf8), ttl: .milliseconds(400))
        let start = ContinuousClock.now
        let outcome = try await nodes.outcomes[1].outcome(for: "code-G", waitingAtMost: .seconds(5)) {
            Self.answer("session G")
        }
        #expect(outcome == Self.answer("session G"))
        #expect(elapsed(since: start) >= 0.2)
        await nodes.close()
    }

    @Test func aSlowProducerKeepsItsClaimPastTheClaimTTL() async throws {
        let nodes = try nodes(claimTTL: .milliseconds(300))
        let productions = Counter()
        let results = try await withThrowingTaskGroup(of: SharedOutcome?.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    try await nodes.outcomes[caller % 2].outcome(for: "code-H", waitingAtMost: .seconds(5)) {
                        productions.increment()
                        try? await Task.sleep(for: .milliseconds(1200))  // four claim lifetimes
                        return Self.answer("session H")
                    }
                }
            }
            return try await group.reduce(into: [SharedOutcome?]()) { $0.append($1) }
        }
        #expect(productions.count == 1)
        #expect(results.allSatisfy { $0 == Self.answer("session H") })
        await nodes.close()
    }
}
