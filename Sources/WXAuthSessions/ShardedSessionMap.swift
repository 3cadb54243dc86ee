import NIOConcurrencyHelpers
import Synchronization

/// One shard's sessions: the open-addressing table of fixed-size entries, and the side table of strings that do
/// not fit a record (unionids, long openids), holding only the live sessions that have them.
struct SessionShardContents: Sendable {
    var table = SessionTable()
    private(set) var strings: [TokenID: SessionStrings] = [:]
    /// VALIDATEs that consulted this shard: counted under the shard's lock, which the lookup holds anyway, so no
    /// counter is shared by every core (`SessionStoreStatistics.mapLookups` sums them).
    var validations = 0

    var count: Int { table.count }

    /// The entry of `id`. Setting anything but a live entry (or nil) also drops the id's strings; setting a live
    /// entry keeps the strings it has (use `insertLive` to give a new session its strings).
    subscript(id: TokenID) -> SessionEntry? {
        get { table[id] }
        set {
            if case .live = newValue {} else if !strings.isEmpty { strings.removeValue(forKey: id) }
            table[id] = newValue
        }
    }

    mutating func removeValue(forKey id: TokenID) -> SessionEntry? {
        if !strings.isEmpty { strings.removeValue(forKey: id) }
        return table.removeValue(forKey: id)
    }

    mutating func insertLive(_ record: SessionRecord, strings newStrings: SessionStrings, for id: TokenID) {
        table[id] = .live(record)
        if newStrings.isEmpty {
            if !strings.isEmpty { strings.removeValue(forKey: id) }
        } else {
            strings[id] = newStrings
        }
    }

    /// Sets the entry of `id` with the strings of a live one (ignored for tombstones).
    mutating func store(_ entry: SessionEntry, strings newStrings: SessionStrings, for id: TokenID) {
        if case .live(let record) = entry {
            insertLive(record, strings: newStrings, for: id)
        } else {
            self[id] = entry
        }
    }

    /// The side-table strings of the live `record` stored under `id`: looked up only when the record says it has
    /// some (a unionid or a long openid), so most reads never touch the side table.
    func strings(of id: TokenID, record: SessionRecord) -> SessionStrings {
        record.hasUnionid || record.openid.isOverflow ? strings(of: id) : .none
    }

    /// The side-table strings of `id` (`.none` when it has none).
    func strings(of id: TokenID) -> SessionStrings {
        strings.isEmpty ? .none : strings[id] ?? .none
    }

    /// Removes every entry `shouldRemove` picks, with its strings; returns how many.
    mutating func removeAll(where shouldRemove: (SessionEntry) -> Bool) -> Int {
        let removed = table.removeAll { _, entry in shouldRemove(entry) }
        if !strings.isEmpty {
            for id in removed { strings.removeValue(forKey: id) }
        }
        return removed.count
    }

    /// Gives memory back after a sweep: the table when sparse, the side table when it is mostly empty.
    mutating func shrinkIfSparse() {
        table.shrinkIfSparse()
        if strings.capacity > 64 && strings.capacity > 4 * strings.count {
            strings = Dictionary(uniqueKeysWithValues: strings.map { ($0.key, $0.value) })
        }
    }
}

/// Session entries split over a fixed power-of-two number of shards, each behind its own lock. The shard is
/// chosen from the token's random bytes (`low`; the table inside uses `high`), so load spreads evenly and no hash
/// of attacker-chosen input decides placement (only authenticated token ids ever reach the map).
final class ShardedSessionMap: Sendable {
    final class Shard: Sendable {
        let entries = NIOLockedValueBox(SessionShardContents())
    }

    let shards: [Shard]
    private let mask: UInt64

    init(shardCount: Int) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shard count must be a power of two")
        self.shards = (0..<shardCount).map { _ in Shard() }
        self.mask = UInt64(shardCount - 1)
    }

    func shardIndex(for id: TokenID) -> Int { Int(id.low & mask) }

    func withShard<R: Sendable, E: Error>(
        for id: TokenID, _ body: (inout SessionShardContents) throws(E) -> R
    ) throws(E) -> R {
        try shards[shardIndex(for: id)].entries.withLockedValue { entries in
            Result { () throws(E) -> R in try body(&entries) }
        }.get()
    }

    /// `withShard`, counting a VALIDATE lookup in the shard.
    func withValidation<R: Sendable, E: Error>(
        for id: TokenID, _ body: (inout SessionShardContents) throws(E) -> R
    ) throws(E) -> R {
        try withShard(for: id) { (entries) throws(E) -> R in
            entries.validations &+= 1
            return try body(&entries)
        }
    }

    var count: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLockedValue { $0.count } }
    }

    var validations: Int {
        shards.reduce(0) { total, shard in total &+ shard.entries.withLockedValue { $0.validations } }
    }
}
