import Synchronization

/// Counters of one event loop: only that loop's thread writes them (a relaxed load and store, no read-modify-write
/// shared between cores), any thread reads them; `ServerStatistics` sums them on read. Padded so that two loops'
/// counters never share a cache line.
final class EventLoopCounters: Sendable {
    private let leadingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    private let requests = Atomic<Int>(0)
    private let trailingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

    init() {}

    /// Requests decoded and answered on this loop; call on the loop's thread only.
    func recordRequests(_ count: Int) {
        requests.store(requests.load(ordering: .relaxed) &+ count, ordering: .relaxed)
    }

    var requestCount: Int { requests.load(ordering: .relaxed) }
}
