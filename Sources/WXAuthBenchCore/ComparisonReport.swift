/// The side-by-side Markdown report of a `benchmarks/compare.sh` run: wxauth VALIDATE against Redis GET in each
/// cell, the loopback floor, server CPU and memory, and the issue's targets with met / missed.
public struct ComparisonReport: Sendable {
    public var runs: [BenchResult]
    public var memory: [MemoryReport]

    public init(runs: [BenchResult], memory: [MemoryReport]) {
        self.runs = runs
        self.memory = memory
    }

    /// Cells in the order they were run.
    var cells: [String] {
        var seen: [String] = []
        for run in runs where !seen.contains(run.cellName) { seen.append(run.cellName) }
        return seen
    }

    func run(_ kind: BenchTarget.Kind, _ cell: String) -> BenchResult? {
        runs.first { $0.kind == kind && $0.cellName == cell }
    }

    public var markdown: String {
        var out: [String] = []
        out.append("| cell | wxauth VALIDATE ops/s | Redis GET ops/s | ratio | wxauth p50 | Redis p50 | floor p50 | wxauth p99 | Redis p99 | floor p99 | wxauth p99.9 | Redis p99.9 | wxauth max | Redis max | wxauth CPU s/1M | Redis CPU s/1M | errors w/r |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for cell in cells {
            let w = run(.wxauth, cell), r = run(.redis, cell), e = run(.echo, cell)
            func tp(_ x: BenchResult?) -> String { x.map { Formatting.grouped($0.throughput) } ?? "-" }
            func lat(_ x: BenchResult?, _ path: KeyPath<LatencySummary, Double>) -> String {
                x.map { Formatting.micros($0.latency[keyPath: path]) } ?? "-"
            }
            func cpu(_ x: BenchResult?) -> String { x?.server.map { Formatting.fixed($0.cpuSecondsPerMillionOps, 2) } ?? "-" }
            let ratio = (w != nil && r != nil && r!.throughput > 0) ? Formatting.ratio(w!.throughput / r!.throughput) : "-"
            let errors = "\(w.map { String($0.errorCount) } ?? "-")/\(r.map { String($0.errorCount) } ?? "-")"
            out.append("| \(cell) | \(tp(w)) | \(tp(r)) | \(ratio) | \(lat(w, \.p50Micros)) | \(lat(r, \.p50Micros)) | \(lat(e, \.p50Micros)) | \(lat(w, \.p99Micros)) | \(lat(r, \.p99Micros)) | \(lat(e, \.p99Micros)) | \(lat(w, \.p999Micros)) | \(lat(r, \.p999Micros)) | \(lat(w, \.maxMicros)) | \(lat(r, \.maxMicros)) | \(cpu(w)) | \(cpu(r)) | \(errors) |")
        }
        if !memory.isEmpty {
            out.append("")
            out.append("| server | items | preload time | RSS before | RSS after | RSS bytes per item | used_memory bytes per item |")
            out.append("|---|---:|---:|---:|---:|---:|---:|")
            for report in memory {
                let used = report.usedMemoryBytesPerItem.map { Formatting.fixed($0, 0) } ?? "-"
                out.append("| \(report.kind == .wxauth ? "wxauthd (sessions)" : "redis-server (keys)") | \(Formatting.grouped(Double(report.items))) | \(Formatting.fixed(report.seconds, 1)) s | \(Formatting.bytes(report.rssBeforeBytes)) | \(Formatting.bytes(report.rssAfterBytes)) | \(Formatting.fixed(report.rssBytesPerItem, 0)) | \(used) |")
            }
        }
        out.append("")
        out.append("Targets (issue: VALIDATE as bytes in, bytes out):")
        out.append("")
        for verdict in verdicts { out.append("- \(verdict.met ? "MET" : "MISSED"): \(verdict.text)") }
        return out.joined(separator: "\n")
    }

    public struct Verdict: Sendable, Hashable {
        public var met: Bool
        public var text: String
    }

    /// The issue's five targets, each checked against this run's numbers.
    public var verdicts: [Verdict] {
        var result: [Verdict] = []
        let closed = cells.filter { !$0.hasPrefix("open") }
        let pairs = closed.compactMap { cell -> (String, BenchResult, BenchResult)? in
            guard let w = run(.wxauth, cell), let r = run(.redis, cell) else { return nil }
            return (cell, w, r)
        }
        if !pairs.isEmpty {
            let ratios = pairs.map { ($0.0, $0.2.throughput > 0 ? $0.1.throughput / $0.2.throughput : 0) }
            let worst = ratios.min { $0.1 < $1.1 }!
            result.append(Verdict(
                met: ratios.allSatisfy { $0.1 >= 1.2 },
                text: "VALIDATE throughput >= 1.2x Redis GET in every closed-loop cell: "
                    + ratios.map { "\($0.0) \(Formatting.ratio($0.1))" }.joined(separator: ", ")
                    + " (worst \(worst.0))"
            ))
        }
        let tails = ["C=50 P=1", "C=50 P=16"].compactMap { cell -> (String, BenchResult, BenchResult)? in
            guard let w = run(.wxauth, cell), let r = run(.redis, cell) else { return nil }
            return (cell, w, r)
        }
        if !tails.isEmpty {
            result.append(Verdict(
                met: tails.allSatisfy { $0.1.latency.p99Micros <= $0.2.latency.p99Micros },
                text: "VALIDATE p99 <= Redis GET p99 at C=50 P=1 and P=16: " + tails.map { cell, w, r in
                    "\(cell) \(Formatting.micros(w.latency.p99Micros)) vs \(Formatting.micros(r.latency.p99Micros)) "
                        + "(\(Formatting.ratio(w.latency.p99Micros / r.latency.p99Micros)))"
                }.joined(separator: ", ")
            ))
        }
        if let w = run(.wxauth, "C=1 P=1"), let e = run(.echo, "C=1 P=1") {
            let ratio = w.latency.p50Micros / e.latency.p50Micros
            result.append(Verdict(
                met: ratio <= 1.1,
                text: "single-connection p50 <= 1.1x the loopback floor: \(Formatting.micros(w.latency.p50Micros)) vs "
                    + "\(Formatting.micros(e.latency.p50Micros)) (\(Formatting.ratio(ratio)))"
                    + (run(.redis, "C=1 P=1").map { "; Redis GET \(Formatting.ratio($0.latency.p50Micros / e.latency.p50Micros)) of the floor" } ?? "")
            ))
        }
        let costed = pairs.filter { $0.1.server != nil && $0.2.server != nil }
        if !costed.isEmpty {
            let wCPU = costed.reduce(0.0) { $0 + $1.1.server!.cpuSeconds }
            let wOps = costed.reduce(0.0) { $0 + Double($1.1.operations) }
            let rCPU = costed.reduce(0.0) { $0 + $1.2.server!.cpuSeconds }
            let rOps = costed.reduce(0.0) { $0 + Double($1.2.operations) }
            let w = wCPU / wOps * 1e6, r = rCPU / rOps * 1e6
            result.append(Verdict(
                met: costed.allSatisfy { $0.1.server!.cpuSecondsPerMillionOps <= $0.2.server!.cpuSecondsPerMillionOps },
                text: "server CPU per VALIDATE <= Redis CPU per GET in every closed-loop cell: overall \(Formatting.fixed(w, 2)) vs "
                    + "\(Formatting.fixed(r, 2)) CPU s per 1M ops (\(Formatting.ratio(w / r))); per cell: "
                    + costed.map { "\($0.0) \(Formatting.ratio($0.1.server!.cpuSecondsPerMillionOps / $0.2.server!.cpuSecondsPerMillionOps))" }
                        .joined(separator: ", ")
            ))
        }
        if let sessions = memory.first(where: { $0.kind == .wxauth }) {
            var text = "resident memory per session <= 200 bytes (stretch 160) at \(Formatting.grouped(Double(sessions.items))) sessions: "
                + "\(Formatting.fixed(sessions.rssBytesPerItem, 0)) bytes"
            if let keys = memory.first(where: { $0.kind == .redis }) {
                text += " (Redis: \(Formatting.fixed(keys.rssBytesPerItem, 0)) bytes RSS, "
                    + "\(keys.usedMemoryBytesPerItem.map { Formatting.fixed($0, 0) } ?? "?") bytes used_memory per key)"
            }
            result.append(Verdict(met: sessions.rssBytesPerItem <= 200, text: text))
        }
        return result
    }
}
