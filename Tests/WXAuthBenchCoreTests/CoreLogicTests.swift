import Histogram
import NIOCore
import Testing
import WXAuthProtocol
@testable import WXAuthBenchCore

@Suite("wxauth-bench core logic")
struct CoreLogicTests {
    @Test func targetsParseAndStayOnLoopback() throws {
        #expect(try BenchTarget(parsing: "wxauth://127.0.0.1:7400") == BenchTarget(kind: .wxauth, host: "127.0.0.1", port: 7400))
        #expect(try BenchTarget(parsing: "redis://localhost:6390").port == 6390)
        #expect(try BenchTarget(parsing: "redis://127.0.0.2").port == 6379)
        #expect(try BenchTarget(parsing: "wxauth://[::1]:7400").host == "::1")
        #expect(try BenchTarget(parsing: "echo://").kind == .echo)
        #expect(throws: BenchUsageError.self) { try BenchTarget(parsing: "redis://10.0.0.1:6379") }
        #expect(throws: BenchUsageError.self) { try BenchTarget(parsing: "http://127.0.0.1:80") }
        #expect(throws: BenchUsageError.self) { try BenchTarget(parsing: "127.0.0.1:7400") }
    }

    @Test func openLoopScheduleCountsDueRequestsFromIntendedTimes() {
        var schedule = OpenLoopSchedule(startNanos: 1_000, ratePerSecond: 1_000)  // one per millisecond
        #expect(schedule.dueCount(now: 999) == 0)
        #expect(schedule.dueCount(now: 1_000) == 1)
        #expect(schedule.dueCount(now: 1_000 + 2_500_000) == 3)
        #expect(schedule.take() == 1_000)
        #expect(schedule.take() == 1_001_000)
        // A stall: the requests that should have gone meanwhile are all due, each with its own intended time.
        #expect(schedule.dueCount(now: 1_000 + 10_000_000) == 9)
        #expect(schedule.nextIntendedTime == 2_001_000)
        let phased = OpenLoopSchedule(startNanos: 0, ratePerSecond: 1_000, phase: 0.5)
        #expect(phased.nextIntendedTime == 500_000)
    }

    @Test func procStatParsingSurvivesAwkwardCommandNames() {
        let stat = "4242 (wx auth) d) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 3 0 100 1000000 2000 18446744073709551615"
        #expect(ProcFS.parseStat(stat) == ProcFS.CPUTicks(user: 1234, system: 567))
        #expect(ProcFS.parseStat("garbage") == nil)
        #expect(ProcFS.parseStatmResidentBytes("25000 1200 300 10 0 900 0\n", pageSize: 4096) == 1200 * 4096)
    }

    @Test func listeningSocketsAreFoundByPort() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1CE8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 987654 1 0000000000000000 100 0 0 10 0
               1: 0100007F:1CE8 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 111111 1 0000000000000000 20 4 30 10 -1
               2: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222222 1 0000000000000000 100 0 0 10 0
            """
        #expect(ProcFS.listeningInodes(inNetTCP: table, port: 7400) == [987654])
        #expect(ProcFS.listeningInodes(inNetTCP: table, port: 6379) == [222222])
        #expect(ProcFS.socketInode(fromLink: "socket:[987654]") == 987654)
        #expect(ProcFS.socketInode(fromLink: "/dev/null") == nil)
    }

    @Test func latencySummaryReadsPercentilesInMicroseconds() {
        var histogram = Histogram<UInt64>.latencyNanoseconds()
        for micros in 1...1000 { histogram.record(UInt64(micros) * 1000) }
        let summary = LatencySummary(nanoseconds: histogram)
        #expect(summary.count == 1000)
        #expect(abs(summary.p50Micros - 500) < 1)
        #expect(abs(summary.p99Micros - 990) < 1)
        #expect(abs(summary.maxMicros - 1000) < 1)
        #expect(summary.distribution.first?.percentile == 0)
        #expect(summary.distribution.last?.percentile == 100)
        #expect(zip(summary.distribution, summary.distribution.dropFirst()).allSatisfy { $0.micros <= $1.micros })
    }

    @Test func workloadMixParsesAndPicksByWeight() throws {
        let mix = try WorkloadMix(parsing: "validate=90,refresh=5,login=5")
        #expect(mix.operations == [.validate, .refresh, .login])
        #expect(mix.fraction(of: .login) == 0.05)
        var random = SplitMix64(seed: 1)
        var counts: [BenchOperation: Int] = [:]
        for _ in 0..<100_000 { counts[mix.pick(using: &random), default: 0] += 1 }
        #expect((88_000...92_000).contains(counts[.validate]!))
        #expect((4_000...6_000).contains(counts[.login]!))
        #expect(try WorkloadMix(parsing: "get").operations == [.get])
        #expect(throws: BenchUsageError.self) { try WorkloadMix(parsing: "validate=x") }
        #expect(throws: BenchUsageError.self) { try WorkloadMix(parsing: "flush") }
    }

    @Test func keySetsHoldFixedLengthKeysAndSplitIntoShares() throws {
        let set = try KeySet(lines: "# tokens\nAAAA\nBBBB\r\n\nCCCC\n")
        #expect(set.count == 3)
        #expect(Array(set[1]) == Array("BBBB".utf8))
        #expect(throws: BenchUsageError.self) { try KeySet(lines: "AAAA\nBBB\n") }
        #expect(KeySet.share(0, of: 3, count: 10) == 0..<3)
        #expect(KeySet.share(2, of: 3, count: 10) == 6..<10)
        let synthetic = KeySet.synthetic(count: 1000)
        #expect(synthetic.keyLength == 44)
        #expect(Set((0..<1000).map { Array(synthetic[$0]) }).count == 1000)
        #expect(Array(KeySet.synthetic(count: 1000)[999]) == Array(synthetic[999]))  // same keys every time
        var shares = synthetic.slice(10..<20)
        #expect(shares.count == 10)
        shares.replace(at: 0, with: Array(synthetic[0]))
        #expect(Array(shares[0]) == Array(synthetic[0]))
    }
}
