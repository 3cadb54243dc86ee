import NIOConcurrencyHelpers
import Synchronization

/// Session entries split over a fixed power-of-two number of shards, each a dictionary behind its own lock.
/// The shard is chosen from the token's random bytes, so load spreads evenly and no hash of attacker-chosen
/// input decides placement (only authenticated token ids ever reach the map).
final class ShardedSessionMap: Sendable {
    final class Shard: Sendable {
        let entries = NIOLockedValueBox<[TokenID: SessionEntry]>([:])
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
        for id: TokenID, _ body: (inout [TokenID: SessionEntry]) throws(E) -> R
    ) throws(E) -> R {
        try shards[shardIndex(for: id)].entries.withLockedValue { entries in
            Result { () throws(E) -> R in try body(&entries) }
        }.get()
    }

    var count: Int {
        shards.reduce(0) { total, shard in total + shard.entries.withLockedValue { $0.count } }
    }
}
