import WXAuthBenchCore

/// When and how much one run sends; the same for every connection of the run.
struct LoadPlan: Sendable {
    var connections: Int
    /// Closed loop: requests kept in flight per connection.
    var pipeline: Int
    /// Open loop: requests per second over all connections (nil: closed loop).
    var rate: Double?
    var warmupNanos: UInt64
    /// Measure for this long (nil: until `count`).
    var durationNanos: UInt64?
    /// Measure this many replies over all connections (nil: for `durationNanos`).
    var count: UInt64?
    /// Open loop: at most this many requests in flight per connection; beyond it, sends wait (and the wait is
    /// counted as latency, since latency runs from the intended send time).
    var maxInFlight = 1024
    /// How long to wait for outstanding replies once sending stopped.
    var drainNanos: UInt64 = 5_000_000_000
    var mix: WorkloadMix
}

/// The instants a run is cut into, in the event loops' clock (`NIODeadline.uptimeNanoseconds`).
struct LoadWindow: Sendable {
    var start: UInt64
    var measureStart: UInt64
    /// nil in count mode.
    var measureEnd: UInt64?
}
