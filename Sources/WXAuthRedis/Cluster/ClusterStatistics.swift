import Synchronization

/// Counters of what the cluster client did behind callers' backs: for metrics, and for tests that need to know a
/// redirection really happened.
public final class ClusterStatistics: Sendable {
    let moved = Atomic<Int>(0)
    let ask = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let topologyRefreshes = Atomic<Int>(0)

    public var movedRedirections: Int { moved.load(ordering: .relaxed) }
    public var askRedirections: Int { ask.load(ordering: .relaxed) }
    /// Attempts repeated after a transient failure (lost connection, TRYAGAIN, CLUSTERDOWN, ...).
    public var transientRetries: Int { retries.load(ordering: .relaxed) }
    public var completedTopologyRefreshes: Int { topologyRefreshes.load(ordering: .relaxed) }
}
