import ArgumentParser
import Foundation
import WXAuthBenchCore

/// Reads the JSON lines of runs (`run --json`), Redis memory (`preload --json`) and wxauthd's stdout (its
/// `preloaded` line), and prints the side-by-side Markdown table; optionally draws the percentile plot.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Side-by-side Markdown table (and SVG percentile plot) from saved JSON lines."
    )

    @Argument(help: "Files of JSON lines (other lines are skipped).")
    var files: [String]

    @Option(help: "Write the latency-by-percentile plot here (SVG).")
    var svg: String?

    @Option(help: "Plot only runs whose cell matches one of these (e.g. 'C=50 P=1'); repeatable.")
    var plotCell: [String] = []

    @Option(help: "Plot title.")
    var title = "wxauth VALIDATE vs Redis GET: latency by percentile"

    func run() throws {
        var runs: [BenchResult] = []
        var memory: [MemoryReport] = []
        let decoder = JSONDecoder()
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("{") {
                let data = Data(line.utf8)
                if line.contains("\"record\":\"run\""), let run = try? decoder.decode(BenchResult.self, from: data) {
                    runs.append(run)
                } else if line.contains("\"record\":\"memory\""), let report = try? decoder.decode(MemoryReport.self, from: data) {
                    memory.append(report)
                } else if line.contains("\"event\":\"preloaded\""), let preload = try? decoder.decode(PreloadLine.self, from: data) {
                    memory.append(preload.memoryReport)
                }
            }
        }
        guard !runs.isEmpty || !memory.isEmpty else { throw ValidationError("no runs or memory reports in \(files)") }
        memory.sort { $0.kind == .wxauth && $1.kind != .wxauth }
        print(ComparisonReport(runs: runs, memory: memory).markdown)
        if let svg {
            let plotted = plotCell.isEmpty ? runs : runs.filter { plotCell.contains($0.cellName) }
            try PercentilePlot.from(runs: plotted, title: title).svg.write(toFile: svg, atomically: true, encoding: .utf8)
        }
    }
}
