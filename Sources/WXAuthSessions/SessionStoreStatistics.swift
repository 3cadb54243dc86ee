import Metrics
import Synchronization

/// Counters that tests and operators read. Each is also reported through swift-metrics (`wxauth.sessions.*`).
public final class SessionStoreStatistics: Sendable {
    private let lookups = Atomic<Int>(0)
    private let forged = Atomic<Int>(0)
    private let integrity = Atomic<Int>(0)
    private let swept = Atomic<Int>(0)
    private let reuse = Atomic<Int>(0)

    private let forgedCounter = Counter(label: "wxauth.sessions.rejected_tokens")
    private let integrityCounter = Counter(label: "wxauth.sessions.integrity_failures")
    private let sweptCounter = Counter(label: "wxauth.sessions.swept")
    private let reuseCounter = Counter(label: "wxauth.sessions.refresh_reuse_detected")

    private let countedInShards: @Sendable () -> Int

    /// `countedInShards` sums the VALIDATE lookups the map counts per shard under the shard locks (VALIDATE is the
    /// hot path: a process-wide atomic there would be bumped by every core).
    public init(countedInShards: @escaping @Sendable () -> Int = { 0 }) {
        self.countedInShards = countedInShards
    }

    /// Times a session map shard was consulted for a token.
    public var mapLookups: Int { lookups.load(ordering: .relaxed) &+ countedInShards() }
    /// Tokens rejected by shape, key id or tag, before any lookup.
    public var rejectedTokens: Int { forged.load(ordering: .relaxed) }
    /// Stored records whose MAC did not verify (treated as absent).
    public var integrityFailures: Int { integrity.load(ordering: .relaxed) }
    /// Entries removed by the background sweep.
    public var sweptEntries: Int { swept.load(ordering: .relaxed) }
    /// Rotated tokens presented to REFRESH or VALIDATE after their grace window.
    public var reuseDetections: Int { reuse.load(ordering: .relaxed) }

    public func recordLookup() { lookups.add(1, ordering: .relaxed) }
    public func recordRejectedToken() {
        forged.add(1, ordering: .relaxed)
        forgedCounter.increment()
    }
    public func recordIntegrityFailure() {
        integrity.add(1, ordering: .relaxed)
        integrityCounter.increment()
    }
    public func recordSwept(_ count: Int) {
        swept.add(count, ordering: .relaxed)
        sweptCounter.increment(by: count)
    }
    public func recordReuse() {
        reuse.add(1, ordering: .relaxed)
        reuseCounter.increment()
    }
}
