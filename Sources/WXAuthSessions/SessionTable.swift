/// One shard's entries in an open-addressing hash table with linear probing, keyed by token id. The home slot
/// comes from the id's `high` word (the shard comes from `low`): the bits are uniformly random already and only
/// authenticated token ids reach the table, so no hash function and no flooding defence are needed.
///
/// Deletion leaves a tombstone (probe chains stay intact); insertion reuses the first tombstone on its path.
/// Occupied slots plus tombstones stay at or below 80% of the capacity: past that the table is rebuilt, grown to
/// about 1.9x its live count (53% full). `shrinkIfSparse` (run by the sweep) rebuilds a table that is under a
/// quarter full or mostly tombstones. Capacity need not be a power of two (`home` maps the id by multiply-shift),
/// so growth in steps of 1.5x keeps memory close to the live count.
struct SessionTable: Sendable {
    private enum Content: Sendable {
        case empty
        case deleted
        case occupied(SessionEntry)
    }

    private struct Slot: Sendable {
        var id: TokenID
        var content: Content
    }

    static let minimumCapacity = 8

    private var slots: ContiguousArray<Slot>
    private(set) var count = 0
    private(set) var tombstones = 0

    init(minimumCapacity: Int = 0) {
        slots = Self.emptySlots(Self.capacity(forLiveCount: minimumCapacity))
    }

    var capacity: Int { slots.count }

    var isEmpty: Bool { count == 0 }

    subscript(id: TokenID) -> SessionEntry? {
        get {
            guard case .found(let index) = find(id), case .occupied(let entry) = slots[index].content else { return nil }
            return entry
        }
        set {
            if let newValue {
                updateValue(newValue, forKey: id)
            } else {
                removeValue(forKey: id)
            }
        }
    }

    /// Inserts or replaces the entry of `id`; returns the entry it replaced.
    @discardableResult
    mutating func updateValue(_ entry: SessionEntry, forKey id: TokenID) -> SessionEntry? {
        switch find(id) {
        case .found(let index):
            guard case .occupied(let old) = slots[index].content else { preconditionFailure("found a free slot") }
            slots[index].content = .occupied(entry)
            return old
        case .free(var index):
            if (count + tombstones + 1) * 5 > capacity * 4 {
                rebuild(capacity: Self.capacity(forLiveCount: count + 1))
                guard case .free(let fresh) = find(id) else { preconditionFailure("id appeared during rebuild") }
                index = fresh
            }
            if case .deleted = slots[index].content { tombstones -= 1 }
            slots[index] = Slot(id: id, content: .occupied(entry))
            count += 1
            return nil
        }
    }

    /// Removes the entry of `id` (leaving a tombstone); returns it.
    @discardableResult
    mutating func removeValue(forKey id: TokenID) -> SessionEntry? {
        guard case .found(let index) = find(id), case .occupied(let old) = slots[index].content else { return nil }
        slots[index].content = .deleted
        count -= 1
        tombstones += 1
        return old
    }

    /// Calls `body` with every entry, in slot order.
    func forEach<E: Error>(_ body: (TokenID, SessionEntry) throws(E) -> Void) throws(E) {
        for slot in slots {
            if case .occupied(let entry) = slot.content { try body(slot.id, entry) }
        }
    }

    /// Removes every entry for which `shouldRemove` is true; returns the removed ids.
    mutating func removeAll(where shouldRemove: (TokenID, SessionEntry) -> Bool) -> [TokenID] {
        var removed: [TokenID] = []
        for index in slots.indices {
            guard case .occupied(let entry) = slots[index].content, shouldRemove(slots[index].id, entry) else { continue }
            slots[index].content = .deleted
            removed.append(slots[index].id)
        }
        count -= removed.count
        tombstones += removed.count
        return removed
    }

    /// Rebuilds the table when it is under a quarter full (gives memory back) or when tombstones are more than a
    /// quarter of the slots (shortens probe chains). Returns whether it did.
    @discardableResult
    mutating func shrinkIfSparse() -> Bool {
        let sparse = capacity > 64 && count * 4 < capacity
        guard sparse || tombstones * 4 > capacity else { return false }
        rebuild(capacity: Self.capacity(forLiveCount: count))
        return true
    }

    /// Makes room for `liveCount` entries without a rebuild, sized so that they fill it to the 80% limit (restoring
    /// a snapshot: no room is left over that growth would not have left).
    mutating func reserveCapacity(_ liveCount: Int) {
        let needed = liveCount + liveCount / 4 + 1
        guard needed > capacity else { return }
        rebuild(capacity: needed)
    }

    // MARK: - Probing

    private enum Probe {
        case found(Int)
        /// Not present; where it would go (the first tombstone on the path, else the empty slot that ended it).
        case free(Int)
    }

    private func home(_ id: TokenID) -> Int {
        Int(truncatingIfNeeded: UInt64(slots.count).multipliedFullWidth(by: id.high).high)
    }

    /// Linear probe from the home slot. Terminates: the load limit keeps at least one slot empty.
    private func find(_ id: TokenID) -> Probe {
        var index = home(id)
        var firstDeleted = -1
        let end = slots.count
        while true {
            switch slots[index].content {
            case .empty:
                return .free(firstDeleted >= 0 ? firstDeleted : index)
            case .deleted:
                if firstDeleted < 0 { firstDeleted = index }
            case .occupied:
                if slots[index].id == id { return .found(index) }
            }
            index += 1
            if index == end { index = 0 }
        }
    }

    private mutating func rebuild(capacity newCapacity: Int) {
        let old = slots
        slots = Self.emptySlots(newCapacity)
        tombstones = 0
        for slot in old {
            guard case .occupied = slot.content else { continue }
            guard case .free(let index) = find(slot.id) else { preconditionFailure("duplicate id in table") }
            slots[index] = slot
        }
    }

    /// About 1.9x the live count (53% full after a rebuild), at least `minimumCapacity`.
    static func capacity(forLiveCount liveCount: Int) -> Int {
        max(minimumCapacity, liveCount + liveCount * 7 / 8 + 1)
    }

    private static func emptySlots(_ capacity: Int) -> ContiguousArray<Slot> {
        ContiguousArray(repeating: Slot(id: TokenID(high: 0, low: 0), content: .empty), count: capacity)
    }
}
