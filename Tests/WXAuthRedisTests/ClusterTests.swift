import RedisTestHarness
import Foundation
import NIOCore
import Synchronization
import Testing
@testable import WXAuthRedis

/// The cluster client against a real 3-primary / 3-replica cluster, started once for the suite. The failover test
/// kills a primary for good, so it runs last (tests of a serialized suite run in declaration order).
@Suite("Redis Cluster", .serialized, .redisCluster, .timeLimit(.minutes(2)))
struct ClusterTests {
    var cluster: ClusterRedis { ClusterRedis.current! }

    func client(timeout: Duration = .seconds(5)) -> RedisClusterClient {
        RedisClusterClient(configuration: .init(seeds: [cluster.seeds[0]], connection: .init(commandTimeout: timeout)))
    }

    @Test func topologyCoversEverySlotWithThreePrimaries() async throws {
        let client = client()
        let primaries = try await client.primaries()
        #expect(primaries.count == 3)
        var owners = Set<RedisAddress>()
        for slot in stride(from: 0, to: HashSlot.count, by: 97) {
            owners.insert(try await client.address(forSlot: UInt16(slot)))
        }
        #expect(owners == Set(primaries))
        for primary in primaries {
            let info = try RedisTools.cli(port: primary.port, ["INFO", "replication"])
            #expect(info.contains("role:master"))
        }
        await client.shutdown()
    }

    @Test func tenThousandPipelinedCommandsAcrossAllSlots() async throws {
        let client = client(timeout: .seconds(20))
        let keys = (0..<10_000).map { "pipelined:\($0)" }
        #expect(Set(keys.map { HashSlot.of($0) }).count > 7000)
        let sets = await client.pipeline(keys.map { .set($0, "v-\($0)") })
        #expect(sets.allSatisfy { (try? $0.get())?.string == "OK" })
        let gets = await client.pipeline(keys.map { .get($0) })
        #expect(gets.count == keys.count)
        let mismatches = zip(keys, gets).filter { key, result in (try? result.get())?.string != "v-\(key)" }
        #expect(mismatches.isEmpty, "\(mismatches.count) wrong replies, first \(mismatches.first.map { "\($0.0)" } ?? "")")
        // Every primary holds a share: the pipeline really was split per node.
        for primary in try await client.primaries() {
            let size = try RedisTools.cli(port: primary.port, ["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((Int(size) ?? 0) > 2000)
        }
        await client.shutdown()
    }

    @Test func multiKeyCommandsNeedOneSlot() async throws {
        let client = client()
        await #expect(throws: RedisClientError.self) { try await client.execute(.mget(["{a}1", "{b}1"])) }
        _ = try await client.execute(.mset([("{user:7}name", "ann"), ("{user:7}city", "oslo")]))
        #expect(try await client.execute(.mget(["{user:7}name", "{user:7}city"])) == .array([
            .blobString(ByteBuffer(string: "ann")), .blobString(ByteBuffer(string: "oslo")),
        ]))
        // In a pipeline the cross-slot command fails alone.
        let results = await client.pipeline([.get("{user:7}name"), .mget(["{a}1", "{b}1"]), .get("{user:7}city")])
        #expect((try? results[0].get())?.string == "ann")
        #expect((try? results[2].get())?.string == "oslo")
        #expect(throws: RedisClientError.self) { try results[1].get() }
        await client.shutdown()
    }

    @Test func scriptsLoadOnTheNodeThatOwnsTheKeys() async throws {
        let client = client()
        for primary in try await client.primaries() {
            try RedisTools.cli(port: primary.port, ["SCRIPT", "FLUSH"])
        }
        let script = RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])")
        var owners = Set<RedisAddress>()
        for index in 0..<30 {
            let key = "script:\(index)"
            #expect(try await client.run(script, keys: [key], arguments: ["value\(index)"]).string == "value\(index)")
            owners.insert(try await client.address(forSlot: HashSlot.of(key)))
        }
        #expect(owners.count == 3)
        for primary in owners {
            #expect(try RedisTools.cli(port: primary.port, ["SCRIPT", "EXISTS", script.sha1]).contains("1"))
        }
        await client.shutdown()
    }

    /// A slot moved by hand (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) while traffic runs on its keys:
    /// mid-migration reads of moved keys follow ASK, afterwards MOVED; no command fails.
    @Test func slotMigrationUnderTrafficFollowsAskThenMoved() async throws {
        let client = client()
        let slot = HashSlot.of("mig")
        let keys = (0..<200).map { "{mig}:\($0)" }
        _ = await client.pipeline(keys.map { .set($0, "initial") })
        let sourceAddress = try await client.address(forSlot: slot)
        let primaries = try await client.primaries()
        let targetAddress = primaries.first { $0 != sourceAddress }!
        let source = cluster.server(at: sourceAddress)!, target = cluster.server(at: targetAddress)!
        let sourceID = try cluster.nodeID(source), targetID = try cluster.nodeID(target)

        let stop = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let completed = Atomic<Int>(0)
        let traffic = Task {
            var round = 0
            while !stop.load(ordering: .relaxed) {
                let key = keys[round % keys.count]
                do {
                    _ = try await client.execute(.incr("\(key):n"))
                    _ = try await client.execute(.get(key))
                    completed.add(1, ordering: .relaxed)
                } catch {
                    failures.add(1, ordering: .relaxed)
                    print("migration traffic failure: \(error)")
                }
                round += 1
            }
        }
        try RedisTools.cli(port: target.port, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID])
        try RedisTools.cli(port: source.port, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID])
        let half = Array(keys.prefix(100))
        try RedisTools.cli(port: source.port, ["MIGRATE", "127.0.0.1", "\(target.port)", "", "0", "5000", "KEYS"] + half)
        // Mid-migration: a moved key is only on the target, reached by ASK.
        let asksBefore = client.statistics.askRedirections
        #expect(try await client.execute(.get(half[0])).string == "initial")
        _ = try await client.execute(.set("{mig}:created-during-migration", "new"))
        #expect(client.statistics.askRedirections > asksBefore)
        try await Task.sleep(for: .milliseconds(300))
        // Move the rest (keys created by the traffic included) and hand the slot over.
        while true {
            let remaining = try RedisTools.cli(port: source.port, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "1000"])
                .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            if remaining.isEmpty { break }
            try RedisTools.cli(port: source.port, ["MIGRATE", "127.0.0.1", "\(target.port)", "", "0", "5000", "KEYS"] + remaining)
        }
        let movedBefore = client.statistics.movedRedirections
        for server in [target, source] + primaries.compactMap({ cluster.server(at: $0) }).filter({ $0 !== source && $0 !== target }) {
            try RedisTools.cli(port: server.port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID])
        }
        try await Task.sleep(for: .milliseconds(300))
        stop.store(true, ordering: .relaxed)
        await traffic.value
        #expect(try await client.execute(.get(keys[150])).string == "initial")
        #expect(try await client.execute(.get("{mig}:created-during-migration")).string == "new")
        #expect(try await client.address(forSlot: slot) == targetAddress)
        #expect(client.statistics.movedRedirections > movedBefore)
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(completed.load(ordering: .relaxed) > 10)
        print("migration: \(completed.load(ordering: .relaxed)) INCR+GET rounds, 0 failed, ASK \(client.statistics.askRedirections), MOVED \(client.statistics.movedRedirections)")
        await client.shutdown()
    }

    /// kill -9 of a primary under traffic: its replica is promoted and commands on its slots succeed again.
    @Test func killedPrimaryIsReplacedByItsReplica() async throws {
        try await cluster.waitUntilHealthy()
        let client = client(timeout: .seconds(15))
        let victimAddress = try await client.address(forSlot: HashSlot.of("failover"))
        let victim = cluster.server(at: victimAddress)!
        let victimKeys = (0..<2000).map { "fo:\($0)" }.filter { HashSlot.of($0) != HashSlot.of("mig") }
        let ownedByVictim = try await victimKeys.asyncFilter { try await client.address(forSlot: HashSlot.of($0)) == victimAddress }
        #expect(!ownedByVictim.isEmpty)
        _ = await client.pipeline(ownedByVictim.map { .set($0, "kept") })
        // Wait until the replica has the writes (WAIT 1 replica).
        let connection = try await client.dedicatedConnection(to: victimAddress)
        _ = try await connection.execute(RedisCommand(["WAIT", "1", "2000"]))
        await connection.close()

        let probe = FailoverProbe()
        var workers: [Task<Void, Never>] = []
        for worker in 0..<4 {
            workers.append(Task {
                var round = worker
                while !probe.stop.load(ordering: .relaxed) {
                    let key = ownedByVictim[round % ownedByVictim.count]
                    round += 4
                    do {
                        let start = ContinuousClock.now
                        _ = try await client.execute(.get(key))
                        probe.succeeded(commandStartedAt: start, completedAt: .now)
                    } catch {
                        probe.failures.add(1, ordering: .relaxed)
                        print("failover traffic failure: \(error)")
                    }
                }
            })
        }
        try await Task.sleep(for: .milliseconds(300))
        victim.signal(SIGKILL)
        probe.killedAt.withLock { $0 = .now }
        let waitStart = ContinuousClock.now
        while probe.firstSuccessAfterKill.withLock({ $0 }) == nil, ContinuousClock.now - waitStart < .seconds(20) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(500))
        probe.stop.store(true, ordering: .relaxed)
        for worker in workers { await worker.value }
        let recovered = try #require(probe.firstSuccessAfterKill.withLock { $0 })
        let recovery = recovered - probe.killedAt.withLock { $0! }
        let seconds = Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18
        print("failover: kill -9 of a primary -> first successful command on its slots after \(String(format: "%.2f", seconds)) s (cluster-node-timeout 1 s), \(probe.failures.load(ordering: .relaxed)) failed commands")
        #expect(seconds < 15)
        #expect(probe.failures.load(ordering: .relaxed) == 0)
        let newOwner = try await client.address(forSlot: HashSlot.of(ownedByVictim[0]))
        #expect(newOwner != victimAddress)
        // The writes the replica had survived.
        let reads = await client.pipeline(ownedByVictim.map { .get($0) })
        #expect(reads.allSatisfy { (try? $0.get())?.string == "kept" })
        await client.shutdown()
    }
}

/// What the failover test's traffic saw.
final class FailoverProbe: Sendable {
    let killedAt = Mutex<ContinuousClock.Instant?>(nil)
    let firstSuccessAfterKill = Mutex<ContinuousClock.Instant?>(nil)
    let failures = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)

    /// Records when the first command sent after the kill (the killed process runs no more once kill() returns)
    /// got its answer: the recovery time is from the kill to then.
    func succeeded(commandStartedAt start: ContinuousClock.Instant, completedAt end: ContinuousClock.Instant) {
        guard let killed = killedAt.withLock({ $0 }), start > killed else { return }
        firstSuccessAfterKill.withLock { if $0 == nil || end < $0! { $0 = end } }
    }
}

extension Array where Element: Sendable {
    func asyncFilter(_ isIncluded: (Element) async throws -> Bool) async rethrows -> [Element] {
        var kept: [Element] = []
        for element in self where try await isIncluded(element) { kept.append(element) }
        return kept
    }
}
