import Foundation

/// An SVG latency-by-percentile plot in HdrHistogram's style: the x axis is log-scaled in 1/(1-p), so 90%,
/// 99%, 99.9%, ... are evenly spaced and the tail gets as much room as the body; the y axis is log-scaled
/// microseconds. No dependencies: the script that runs the benchmark draws it.
public struct PercentilePlot: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var points: [LatencySummary.PercentilePoint]
        /// Solid for wxauth, dashed for Redis, dotted for the floor.
        public var dash: String
        public var color: String

        public init(label: String, points: [LatencySummary.PercentilePoint], dash: String = "", color: String) {
            self.label = label
            self.points = points
            self.dash = dash
            self.color = color
        }
    }

    public var title: String
    public var series: [Series]
    public var width = 960.0
    public var height = 560.0

    public init(title: String, series: [Series]) {
        self.title = title
        self.series = series
    }

    /// One series per run: colour by cell, line style by server.
    public static func from(runs: [BenchResult], title: String) -> PercentilePlot {
        let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]
        var cells: [String] = []
        for run in runs where !cells.contains(run.cellName) { cells.append(run.cellName) }
        let series = runs.map { run -> Series in
            let color = palette[cells.firstIndex(of: run.cellName)! % palette.count]
            let (name, dash) = switch run.kind {
            case .wxauth: ("wxauth \(run.workload)", "")
            case .redis: ("redis \(run.workload)", "8,4")
            case .echo: ("loopback floor", "2,3")
            }
            return Series(label: "\(name) \(run.cellName)", points: run.latency.distribution, dash: dash, color: color)
        }
        return PercentilePlot(title: title, series: series)
    }

    /// Maximum tail shown: 99.999%.
    public static let maxNines = 5.0

    public static func x(ofPercentile percentile: Double) -> Double {
        guard percentile < 100 else { return maxNines }
        return min(log10(1 / (1 - percentile / 100)), maxNines)
    }

    public var svg: String {
        let left = 70.0, right = 260.0, top = 40.0, bottom = 50.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let values = series.flatMap { $0.points.map(\.micros) }.filter { $0 > 0 }
        let lowest = max(values.min() ?? 1, 0.1), highest = max(values.max() ?? 10, lowest * 10)
        let yMin = floor(log10(lowest)), yMax = ceil(log10(highest))
        func px(_ percentile: Double) -> Double { left + Self.x(ofPercentile: percentile) / Self.maxNines * plotWidth }
        func py(_ micros: Double) -> Double {
            top + plotHeight - (log10(max(micros, lowest)) - yMin) / (yMax - yMin) * plotHeight
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="22" font-size="15">\(escape(title))</text>

            """
        for nines in 0...Int(Self.maxNines) {
            let x = left + Double(nines) / Self.maxNines * plotWidth
            let label = nines == 0 ? "0%" : String(format: "%.\(max(0, nines - 2))f%%", 100 - 100 / pow(10, Double(nines)))
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        var decade = yMin
        while decade <= yMax {
            let y = py(pow(10, decade))
            let micros = pow(10, decade)
            let label = micros >= 1000 ? "\(Int(micros / 1000)) ms" : micros >= 1 ? "\(Int(micros)) µs" : String(format: "%.1f µs", micros)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
            decade += 1
        }
        s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">percentile (log scale of 1/(1-p))</text>\n"
        s += "<text transform=\"translate(16,\(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">latency (log scale)</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let path = line.points.map { "\(f(px($0.percentile))),\(f(py($0.micros)))" }.joined(separator: " ")
            let dash = line.dash.isEmpty ? "" : " stroke-dasharray=\"\(line.dash)\""
            s += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.8\"\(dash) points=\"\(path)\"/>\n"
            let ly = top + 8 + Double(index) * 18
            let lx = left + plotWidth + 14
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 28))\" y2=\"\(f(ly))\" stroke=\"\(line.color)\" stroke-width=\"1.8\"\(dash)/>\n"
            s += "<text x=\"\(f(lx + 34))\" y=\"\(f(ly + 4))\">\(escape(line.label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
