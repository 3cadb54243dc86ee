import Histogram

/// The latency figures a report shows, in microseconds, read from an HDR histogram of nanoseconds.
public struct LatencySummary: Codable, Hashable, Sendable {
    public var count: UInt64
    public var meanMicros: Double
    public var p50Micros: Double
    public var p90Micros: Double
    public var p99Micros: Double
    public var p999Micros: Double
    public var maxMicros: Double
    /// (percentile, microseconds) points for a percentile plot, HdrHistogram's "percentile distribution".
    public var distribution: [PercentilePoint]

    public struct PercentilePoint: Codable, Hashable, Sendable {
        public var percentile: Double
        public var micros: Double
        public init(percentile: Double, micros: Double) {
            self.percentile = percentile
            self.micros = micros
        }
    }

    public init(nanoseconds histogram: Histogram<UInt64>) {
        func micros(_ value: UInt64) -> Double { Double(value) / 1000 }
        count = histogram.totalCount
        meanMicros = histogram.totalCount == 0 ? 0 : histogram.mean / 1000
        p50Micros = micros(histogram.valueAtPercentile(50))
        p90Micros = micros(histogram.valueAtPercentile(90))
        p99Micros = micros(histogram.valueAtPercentile(99))
        p999Micros = micros(histogram.valueAtPercentile(99.9))
        maxMicros = micros(histogram.max)
        distribution = Self.points(histogram)
    }

    /// Percentiles at 0, 50, 75, 87.5, ... (halving the distance to 100 each step), capped by what the count
    /// resolves, then the maximum: the points HdrHistogram's plots are drawn through.
    static func points(_ histogram: Histogram<UInt64>) -> [PercentilePoint] {
        guard histogram.totalCount > 0 else { return [] }
        var result: [PercentilePoint] = []
        let resolvable = 100.0 * (1 - 1 / Double(histogram.totalCount))
        var remaining = 100.0
        var percentile = 0.0
        while percentile <= resolvable {
            for step in 0..<4 {
                let value = percentile + remaining / 2 * Double(step) / 4
                guard value <= resolvable else { break }
                result.append(PercentilePoint(percentile: value, micros: Double(histogram.valueAtPercentile(value)) / 1000))
            }
            percentile += remaining / 2
            remaining /= 2
            if remaining < 1e-7 { break }
        }
        result.append(PercentilePoint(percentile: 100, micros: Double(histogram.max) / 1000))
        return result
    }
}

extension Histogram where Count == UInt64 {
    /// The histogram every connection records into: nanoseconds from 1 ns to one minute, 3 significant digits.
    public static func latencyNanoseconds() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }
}
