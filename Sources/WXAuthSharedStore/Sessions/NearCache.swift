import NIOConcurrencyHelpers
import Synchronization
import WXAuthSessions

/// Each node's copy of sessions read from Redis, so most VALIDATEs cost no round trip. Kept fresh by Redis
/// server-assisted client-side caching (`InvalidationListener`): every change of a session key, on any node,
/// evicts it here. Serves nothing while the invalidation feed is down (`isServing`), and is emptied whenever the
/// feed is (re)established, because invalidations may have been missed.
///
/// A read that races a change is never cached stale: a fill first leaves a pending marker; an invalidation or a
/// flush removes the marker, and the value read is then not installed (the marker's ticket no longer matches).
final class NearCache: Sendable {
    enum Slot: Sendable {
        case pending(ticket: UInt64)
        case cached(Entry)
    }

    struct Entry: Sendable {
        var value: SharedSessionValue
        /// The bytes read from Redis (compare-and-set needs them).
        var raw: [UInt8]
        /// Set once a background slide of the idle deadline is under way, so one is started at a time.
        var sliding = false
    }

    private let shards: [NIOLockedValueBox<[SharedSessionID: Slot]>]
    private let serving = Atomic<Bool>(false)
    private let tickets = Atomic<UInt64>(1)
    private let count = Atomic<Int>(0)
    /// While the feed is down with stale reads allowed: until when (ContinuousClock nanoseconds since `epoch`).
    private let staleUntil = Atomic<Int64>(0)
    private let epoch = ContinuousClock.now
    let capacity: Int
    let staleReadsWhileFeedDown: Duration?

    init(shardCount: Int = 64, capacity: Int = 1_000_000, staleReadsWhileFeedDown: Duration? = nil) {
        shards = (0..<shardCount).map { _ in NIOLockedValueBox([:]) }
        self.capacity = capacity
        self.staleReadsWhileFeedDown = staleReadsWhileFeedDown
    }

    /// False while invalidations may be missed: fills are dropped, and lookups miss (unless stale reads are allowed
    /// and their time is not up).
    var isServing: Bool { serving.load(ordering: .acquiring) }

    private var nanosecondsNow: Int64 {
        let elapsed = ContinuousClock.now - epoch
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    private var mayServeStale: Bool {
        let until = staleUntil.load(ordering: .relaxed)
        return until > 0 && nanosecondsNow < until
    }

    /// The invalidation feed is gone. Without stale reads the cache is emptied at once; with them it keeps answering
    /// from what it holds for `staleReadsWhileFeedDown`, then is emptied.
    func feedLost() {
        guard let bound = staleReadsWhileFeedDown else {
            flush(serving: false)
            return
        }
        if serving.exchange(false, ordering: .acquiringAndReleasing) {
            let boundNanoseconds = bound.components.seconds * 1_000_000_000 + bound.components.attoseconds / 1_000_000_000
            staleUntil.store(nanosecondsNow + boundNanoseconds, ordering: .relaxed)
        } else if !mayServeStale && entryCount > 0 {
            flush(serving: false)
        }
    }

    var entryCount: Int { count.load(ordering: .relaxed) }

    private func shard(_ id: SharedSessionID) -> NIOLockedValueBox<[SharedSessionID: Slot]> {
        shards[Int(truncatingIfNeeded: id.high % UInt64(shards.count))]
    }

    func lookup(_ id: SharedSessionID) -> Entry? {
        guard isServing || mayServeStale else { return nil }
        return shard(id).withLockedValue { slots in
            if case .cached(let entry) = slots[id] { return entry }
            return nil
        }
    }

    /// Marks `id` as being read; the ticket goes to `completeFill`. nil when nothing may be cached now.
    func beginFill(_ id: SharedSessionID) -> UInt64? {
        guard isServing, entryCount < capacity else { return nil }
        let ticket = tickets.add(1, ordering: .relaxed).newValue
        return shard(id).withLockedValue { slots -> UInt64? in
            guard slots[id] == nil else { return nil }
            slots[id] = .pending(ticket: ticket)
            return ticket
        }
    }

    /// Installs what was read for `id`, unless it was invalidated (or the cache flushed) since `beginFill`.
    func completeFill(_ id: SharedSessionID, ticket: UInt64, entry: Entry?) {
        shard(id).withLockedValue { slots in
            guard case .pending(let pending) = slots[id], pending == ticket else { return }
            if let entry, isServing {
                slots[id] = .cached(entry)
                count.add(1, ordering: .relaxed)
            } else {
                slots[id] = nil
            }
        }
    }

    /// Claims the right to slide `id`'s idle deadline; false when a slide is already under way.
    func claimSlide(_ id: SharedSessionID) -> Bool {
        shard(id).withLockedValue { slots in
            guard case .cached(var entry) = slots[id], !entry.sliding else { return false }
            entry.sliding = true
            slots[id] = .cached(entry)
            return true
        }
    }

    func invalidate(_ id: SharedSessionID) {
        shard(id).withLockedValue { slots in
            if case .cached = slots.removeValue(forKey: id) { count.subtract(1, ordering: .relaxed) }
        }
    }

    /// Evicts every entry, and every pending fill, matching `isMatch`; returns how many entries went.
    func invalidateAll(where isMatch: (SharedSessionValue) -> Bool) -> Int {
        var evicted = 0
        for shard in shards {
            shard.withLockedValue { slots in
                for (id, slot) in slots {
                    switch slot {
                    case .pending:
                        slots[id] = nil
                    case .cached(let entry) where isMatch(entry.value):
                        slots[id] = nil
                        evicted += 1
                    case .cached:
                        break
                    }
                }
            }
        }
        count.subtract(evicted, ordering: .relaxed)
        return evicted
    }

    /// Empties the cache and sets whether it serves from now on.
    func flush(serving nowServing: Bool) {
        staleUntil.store(0, ordering: .relaxed)
        if !nowServing { serving.store(false, ordering: .releasing) }
        for shard in shards {
            let removed = shard.withLockedValue { slots -> Int in
                let cached = slots.values.reduce(0) { if case .cached = $1 { $0 + 1 } else { $0 } }
                slots.removeAll(keepingCapacity: false)
                return cached
            }
            count.subtract(removed, ordering: .relaxed)
        }
        if nowServing { serving.store(true, ordering: .releasing) }
    }
}
