import Foundation
import Histogram
import Testing
@testable import WXAuthBenchCore

@Suite("reports: table, comparison, plot")
struct ReportTests {
    func run(_ kind: BenchTarget.Kind, c: Int, p: Int, throughput: Double, p50: UInt64, p99: UInt64, cpu: Double) -> BenchResult {
        var histogram = Histogram<UInt64>.latencyNanoseconds()
        histogram.record(p50 * 1000, count: 98)
        histogram.record(p99 * 1000, count: 2)
        let operations = UInt64(throughput * 10)
        return BenchResult(
            target: "\(kind.rawValue)://127.0.0.1:1", kind: kind, workload: kind == .redis ? "get" : "validate",
            connections: c, pipeline: p, openLoopRate: nil, warmupSeconds: 1, measuredSeconds: 10,
            operations: operations, latency: LatencySummary(nanoseconds: histogram), statuses: ["OK": operations],
            operationsByKind: [:],
            server: kind == .echo ? nil : ServerCost(pid: 1, cpuSeconds: cpu, operations: operations, rssBytes: 1 << 20, usedMemoryBytes: nil),
            notes: [], build: "release"
        )
    }

    @Test func comparisonShowsRatiosAndJudgesTargets() {
        let runs = [
            run(.echo, c: 1, p: 1, throughput: 30_000, p50: 20, p99: 40, cpu: 0),
            run(.wxauth, c: 1, p: 1, throughput: 25_000, p50: 23, p99: 50, cpu: 2),
            run(.redis, c: 1, p: 1, throughput: 20_000, p50: 30, p99: 60, cpu: 2),
            run(.wxauth, c: 50, p: 1, throughput: 100_000, p50: 300, p99: 900, cpu: 9),
            run(.redis, c: 50, p: 1, throughput: 90_000, p50: 350, p99: 800, cpu: 8),
        ]
        let memory = [
            MemoryReport(kind: .wxauth, items: 1000, seconds: 1, rssBeforeBytes: 0, rssAfterBytes: 200_000),
            MemoryReport(kind: .redis, items: 1000, seconds: 1, rssBeforeBytes: 0, rssAfterBytes: 300_000,
                         usedMemoryBefore: 0, usedMemoryAfter: 250_000),
        ]
        let report = ComparisonReport(runs: runs, memory: memory)
        let markdown = report.markdown
        #expect(markdown.contains("| C=1 P=1 | 25,000 | 20,000 | 1.25x |"))
        #expect(markdown.contains("| C=50 P=1 | 100,000 | 90,000 | 1.11x |"))
        let verdicts = report.verdicts
        #expect(verdicts.count == 5)
        #expect(verdicts[0].met == false)  // 1.11x at C=50 P=1
        #expect(verdicts[1].met == false)  // p99 900 > 800
        #expect(verdicts[2].met == false)  // 23 / 20 = 1.15 > 1.1
        #expect(verdicts[3].met == false)  // C=50 P=1: 9 CPU s against Redis's 8 (C=1 P=1 is equal)
        #expect(verdicts[4].met == true)   // 200 bytes per session: at the limit
        #expect(verdicts[4].text.contains("250 bytes used_memory"))
    }

    @Test func resultsRoundTripThroughJSONAndReadAsTables() throws {
        let result = run(.wxauth, c: 50, p: 16, throughput: 123_456, p50: 100, p99: 400, cpu: 3)
        let data = try JSONEncoder().encode(result)
        let decoded = try JSONDecoder().decode(BenchResult.self, from: data)
        #expect(decoded.throughput == result.throughput)
        #expect(decoded.latency == result.latency)
        #expect(result.humanReport.contains("123,456 ops/s"))
        #expect(result.humanReport.contains("CPU s per 1M ops"))
        let preload = try JSONDecoder().decode(PreloadLine.self, from: Data(
            #"{"event":"preloaded","rss_after_bytes":300000000,"rss_before_bytes":50000000,"seconds":3.5,"sessions":1000000,"tokens_file":"t.txt"}"#.utf8
        ))
        #expect(preload.memoryReport.rssBytesPerItem == 250)
    }

    @Test func plotIsAnSVGWithOneLinePerRun() {
        let runs = [
            run(.wxauth, c: 50, p: 1, throughput: 100_000, p50: 300, p99: 900, cpu: 9),
            run(.redis, c: 50, p: 1, throughput: 90_000, p50: 350, p99: 800, cpu: 8),
        ]
        let svg = PercentilePlot.from(runs: runs, title: "a <test>").svg
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("99.9%"))
        #expect(svg.contains("a &lt;test&gt;"))
        #expect(abs(PercentilePlot.x(ofPercentile: 99) - 2) < 1e-9)
        #expect(PercentilePlot.x(ofPercentile: 100) == PercentilePlot.maxNines)
    }

    @Test func numbersAreFormattedTheSameEverywhere() {
        #expect(Formatting.grouped(1_234_567.6) == "1,234,568")
        #expect(Formatting.grouped(999) == "999")
        #expect(Formatting.micros(21.34) == "21.3 µs")
        #expect(Formatting.micros(12_345) == "12.3 ms")
        #expect(Formatting.ratio(1.234) == "1.23x")
    }
}
