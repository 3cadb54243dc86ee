import Foundation

/// Number formats shared by the human table and the Markdown report (fixed, locale-independent).
public enum Formatting {
    /// 1234567.8 -> "1,234,568"
    public static func grouped(_ value: Double) -> String {
        let digits = String(Int64(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 && character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    /// Microseconds with a precision that suits their size.
    public static func micros(_ value: Double) -> String {
        value >= 10_000 ? fixed(value / 1000, 1) + " ms" : value >= 100 ? fixed(value, 0) + " µs" : fixed(value, 1) + " µs"
    }

    public static func bytes(_ value: Int) -> String {
        let mib = Double(value) / 1_048_576
        return mib >= 1 ? fixed(mib, 1) + " MiB" : "\(value) B"
    }

    public static func ratio(_ value: Double) -> String { value.isFinite ? fixed(value, 2) + "x" : "n/a" }

    /// Left-pads or right-pads each column to its widest cell.
    public static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

extension BenchResult {
    /// The default output of a run: a few aligned lines a person reads at a glance.
    public var humanReport: String {
        var lines: [String] = []
        let mode = openLoopRate.map { "open loop at \(Formatting.grouped($0)) req/s (latency from intended send time)" }
            ?? "closed loop"
        lines.append("target      \(target)  workload \(workload)  C=\(connections) P=\(pipeline)  \(mode)")
        lines.append("window      warm-up \(Formatting.fixed(warmupSeconds, 1)) s excluded, measured \(Formatting.fixed(measuredSeconds, 2)) s")
        let errors = errorCount
        lines.append("throughput  \(Formatting.grouped(throughput)) ops/s  (\(Formatting.grouped(Double(operations))) replies, \(errors) errors)")
        lines.append(Formatting.table([
            ["latency", "p50", "p90", "p99", "p99.9", "max", "mean"],
            ["", Formatting.micros(latency.p50Micros), Formatting.micros(latency.p90Micros),
             Formatting.micros(latency.p99Micros), Formatting.micros(latency.p999Micros),
             Formatting.micros(latency.maxMicros), Formatting.micros(latency.meanMicros)],
        ], rightAligned: Set(1...6)))
        if !statuses.isEmpty {
            lines.append("statuses    " + statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if operationsByKind.count > 1 {
            lines.append("operations  " + operationsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let server {
            var line = "server      pid \(server.pid): \(Formatting.fixed(server.cpuSeconds, 2)) CPU s = "
                + "\(Formatting.fixed(server.cpuSecondsPerMillionOps, 2)) CPU s per 1M ops"
            if let rss = server.rssBytes { line += ", RSS \(Formatting.bytes(rss))" }
            if let used = server.usedMemoryBytes { line += ", used_memory \(Formatting.bytes(used))" }
            lines.append(line)
        }
        for note in notes { lines.append("note        \(note)") }
        if build != "release" { lines.append("WARNING     DEBUG BUILD of wxauth-bench: numbers are not measurements") }
        return lines.joined(separator: "\n")
    }
}
