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

    public init() {}

    /// Requests decoded and answered (all statuses).
    public var requestsProcessed: Int { processed.load(ordering: .relaxed) }
    public var frameDeadlineClosures: Int { deadlineClosures.load(ordering: .relaxed) }
    public var idleClosures: Int { idle.load(ordering: .relaxed) }
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }

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
}
