import Metrics
import Synchronization

/// Server-wide counters (also reported through swift-metrics as `wxauth.server.*`).
public final class ServerStatistics: Sendable {
    private let processed = Atomic<Int>(0)
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
    public var requestsProcessed: Int { processed.load(ordering: .relaxed) }
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

    func recordRequest() {
        processed.add(1, ordering: .relaxed)
        requestCounter.increment()
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
