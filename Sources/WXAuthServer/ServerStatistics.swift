import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Server-wide counters (also reported through swift-metrics as `wxauth.server.*`). The per-request count is kept
/// per event loop (`EventLoopCounters`, summed on read) and reported to swift-metrics once per read batch, so no
/// process-wide atomic is bumped per request; the rare events (closures, refusals, failures) share atomics.
public final class ServerStatistics: Sendable {
    private let perLoop = NIOLockedValueBox<[ObjectIdentifier: EventLoopCounters]>([:])
    private let deadlineClosures = Atomic<Int>(0)
    private let idle = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let requestCounter = Counter(label: "wxauth.server.requests")
    private let deadlineCounter = Counter(label: "wxauth.server.frame_deadline_closures")
    private let idleCounter = Counter(label: "wxauth.server.idle_closures")
    private let refusedCounter = Counter(label: "wxauth.server.refused_connections")
    private let authFailures = Atomic<Int>(0)
    private let authTimeouts = Atomic<Int>(0)
    private let throttled = Atomic<Int>(0)
    private let acceptFailures = Atomic<Int>(0)
    private let authFailureCounter = Counter(label: "wxauth.server.auth_failures")
    private let authTimeoutCounter = Counter(label: "wxauth.server.auth_timeout_closures")
    private let throttledCounter = Counter(label: "wxauth.server.throttled_connections")
    private let acceptErrorCounter = Counter(label: "wxauth.server.accept_errors")

    public init() {}

    /// Requests decoded and answered (all statuses).
    public var requestsProcessed: Int { perLoop.withLockedValue { $0.values.reduce(0) { $0 + $1.requestCount } } }
    public var frameDeadlineClosures: Int { deadlineClosures.load(ordering: .relaxed) }
    public var idleClosures: Int { idle.load(ordering: .relaxed) }
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }
    /// Failed AUTHs (wrong proof, unknown caller, or an address over its failure budget).
    public var authenticationFailures: Int { authFailures.load(ordering: .relaxed) }
    /// Connections closed because they did not authenticate within `authTimeoutMilliseconds`.
    public var authenticationTimeoutClosures: Int { authTimeouts.load(ordering: .relaxed) }
    /// Connections refused at accept because their address failed AUTH too often.
    public var throttledConnections: Int { throttled.load(ordering: .relaxed) }
    /// Failed accepts (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...); accepting backs off after each.
    public var acceptErrors: Int { acceptFailures.load(ordering: .relaxed) }

    /// The counters of `eventLoop`, made on first use (once per connection, at accept).
    func counters(for eventLoop: any EventLoop) -> EventLoopCounters {
        perLoop.withLockedValue { loops in
            if let existing = loops[ObjectIdentifier(eventLoop)] { return existing }
            let made = EventLoopCounters()
            loops[ObjectIdentifier(eventLoop)] = made
            return made
        }
    }

    /// The requests of one read batch (already counted on their loop's `EventLoopCounters`) as one swift-metrics
    /// increment.
    func reportRequestBatch(_ count: Int) {
        requestCounter.increment(by: Int64(count))
    }
    func recordFrameDeadlineClosure() {
        deadlineClosures.add(1, ordering: .relaxed)
        deadlineCounter.increment()
    }
    func recordIdleClosure() {
        idle.add(1, ordering: .relaxed)
        idleCounter.increment()
    }
    func recordRefusedConnection() {
        refused.add(1, ordering: .relaxed)
        refusedCounter.increment()
    }
    func recordAuthenticationFailure() {
        authFailures.add(1, ordering: .relaxed)
        authFailureCounter.increment()
    }
    func recordAuthenticationTimeout() {
        authTimeouts.add(1, ordering: .relaxed)
        authTimeoutCounter.increment()
    }
    func recordThrottledConnection() {
        throttled.add(1, ordering: .relaxed)
        throttledCounter.increment()
    }
    func recordAcceptError() {
        acceptFailures.add(1, ordering: .relaxed)
        acceptErrorCounter.increment()
    }
}
