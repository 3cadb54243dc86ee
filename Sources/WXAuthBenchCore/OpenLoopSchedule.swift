/// A fixed request rate for one connection, wrk2 style: request `k` is *intended* to leave at
/// `start + k * interval`, whatever happened to the ones before it. Latency is measured from that intended time,
/// so a stall in the server shows up as latency for every request that should have been sent during it
/// (coordinated omission corrected), instead of silently slowing the load down.
public struct OpenLoopSchedule: Sendable, Hashable {
    public let startNanos: UInt64
    public let intervalNanos: Double
    /// How many requests have been handed out so far.
    public private(set) var issued: UInt64 = 0

    /// `ratePerSecond` for this connection; `phase` in 0..<1 spreads several connections over one interval.
    public init(startNanos: UInt64, ratePerSecond: Double, phase: Double = 0) {
        precondition(ratePerSecond > 0)
        self.intervalNanos = 1e9 / ratePerSecond
        self.startNanos = startNanos &+ UInt64(intervalNanos * phase)
    }

    public func intendedTime(of index: UInt64) -> UInt64 {
        startNanos &+ UInt64((Double(index) * intervalNanos).rounded())
    }

    /// The intended send time of the next request.
    public var nextIntendedTime: UInt64 { intendedTime(of: issued) }

    /// How many requests are due at `now` and not yet handed out.
    public func dueCount(now: UInt64) -> UInt64 {
        guard now >= startNanos else { return 0 }
        let due = UInt64(Double(now - startNanos) / intervalNanos) + 1
        return due > issued ? due - issued : 0
    }

    /// Takes the next request: returns its intended send time.
    public mutating func take() -> UInt64 {
        defer { issued += 1 }
        return intendedTime(of: issued)
    }
}
