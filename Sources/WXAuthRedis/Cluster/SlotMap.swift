/// Slot -> primary lookup for routing: one small integer per slot into a table of addresses.
struct SlotMap: Sendable {
    private(set) var primaries: [RedisAddress] = []
    private var owners = [Int16](repeating: -1, count: HashSlot.count)

    init(topology: ClusterTopology) {
        for shard in topology.shards {
            let index = indexOf(shard.primary)
            for range in shard.slots {
                for slot in range { owners[Int(slot)] = index }
            }
        }
    }

    func primary(for slot: UInt16) -> RedisAddress? {
        let index = owners[Int(slot)]
        return index < 0 ? nil : primaries[Int(index)]
    }

    /// What a MOVED reply says: `slot` is now served by `address`.
    mutating func assign(_ slot: UInt16, to address: RedisAddress) {
        owners[Int(slot)] = indexOf(address)
    }

    var coversEverySlot: Bool { !owners.contains(-1) }

    private mutating func indexOf(_ address: RedisAddress) -> Int16 {
        if let index = primaries.firstIndex(of: address) { return Int16(index) }
        primaries.append(address)
        return Int16(primaries.count - 1)
    }
}
