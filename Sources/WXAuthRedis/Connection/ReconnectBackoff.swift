/// Exponential backoff with "equal jitter": the n-th consecutive failure waits between half and all of
/// min(maximum, initial * 2^(n-1)), so clients that lost the same node do not come back in lock step, and a
/// retry never comes at once after a failure.
public struct ReconnectBackoff: Hashable, Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(20), maximum: Duration = .seconds(1)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The pause before attempt `failures + 1`; zero when nothing has failed yet.
    public func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        guard failures > 0 else { return .zero }
        let exponent = min(failures - 1, 30)
        let ceiling = min(maximum, initial * (1 << exponent))
        let half = ceiling / 2
        let jitter = Double.random(in: 0...1, using: &generator)
        return half + half * jitter
    }

    public func delay(afterFailures failures: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &generator)
    }
}
