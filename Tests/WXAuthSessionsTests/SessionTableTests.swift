import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// The open-addressing table each shard keeps its entries in.
@Suite("Session table (open addressing)")
struct SessionTableTests {
    /// Ids whose `high` words are close, so their home slots collide and probe chains form.
    static func crowded(_ count: Int) -> [TokenID] {
        (0..<count).map { TokenID(high: UInt64($0) << 40, low: UInt64($0)) }
    }

    static func random(_ count: Int) -> [TokenID] {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<TokenID>()
        while seen.count < count { seen.insert(TokenID(high: generator.next(), low: generator.next())) }
        return Array(seen)
    }

    static func forgetAt(_ entry: SessionEntry?) -> Int64? {
        guard case .revoked(let forgetAt) = entry else { return nil }
        return forgetAt
    }

    @Test("insert, look up, replace, delete")
    func basics() {
        var table = SessionTable()
        let a = TokenID(high: 1, low: 1), b = TokenID(high: 2, low: 2)
        #expect(table[a] == nil)
        #expect(table.updateValue(.revoked(forgetAt: 10), forKey: a) == nil)
        table[b] = .revoked(forgetAt: 20)
        #expect(Self.forgetAt(table[a]) == 10 && Self.forgetAt(table[b]) == 20)
        #expect(Self.forgetAt(table.updateValue(.revoked(forgetAt: 11), forKey: a)) == 10)
        #expect(table.count == 2)
        #expect(Self.forgetAt(table.removeValue(forKey: a)) == 11)
        #expect(table[a] == nil && table.count == 1 && table.tombstones == 1)
        #expect(table.removeValue(forKey: a) == nil, "removing twice")
        #expect(Self.forgetAt(table[b]) == 20)
    }

    @Test("a tombstone keeps later entries of the probe chain reachable, and is reused by an insert")
    func tombstonesInProbeChains() {
        var table = SessionTable(minimumCapacity: 8)
        let ids = Self.crowded(5)  // all share home slot 0 at this capacity
        for (index, id) in ids.enumerated() { table[id] = .revoked(forgetAt: Int64(index)) }
        table[ids[1]] = nil
        table[ids[3]] = nil
        #expect(table.tombstones == 2)
        for index in [0, 2, 4] { #expect(Self.forgetAt(table[ids[index]]) == Int64(index), "past the tombstones") }
        #expect(table[ids[1]] == nil && table[ids[3]] == nil)
        // Re-inserting a deleted id takes the first tombstone on its path and is found again.
        table[ids[3]] = .revoked(forgetAt: 33)
        #expect(table.tombstones == 1 && table.count == 4)
        #expect(Self.forgetAt(table[ids[3]]) == 33)
        for index in [0, 2, 4] { #expect(Self.forgetAt(table[ids[index]]) == Int64(index)) }
    }

    @Test("grows past 80% load and keeps every entry; many keys, colliding and random")
    func growth() {
        for ids in [Self.crowded(3000), Self.random(50_000)] {
            var table = SessionTable()
            var capacities: Set<Int> = []
            for (index, id) in ids.enumerated() {
                table[id] = .revoked(forgetAt: Int64(index))
                #expect((table.count + table.tombstones) * 5 <= table.capacity * 4)
                capacities.insert(table.capacity)
            }
            #expect(capacities.count > 5, "the table grew")
            #expect(table.count == ids.count)
            var missing = 0
            for (index, id) in ids.enumerated() where Self.forgetAt(table[id]) != Int64(index) { missing += 1 }
            #expect(missing == 0)
            var visited = 0
            table.forEach { _, _ in visited += 1 }
            #expect(visited == ids.count)
        }
    }

    @Test("deletion then re-insertion of many keys; tombstones never fill the table")
    func churn() {
        let ids = Self.random(20_000)
        var table = SessionTable()
        for round in 0..<5 {
            for (index, id) in ids.enumerated() { table[id] = .revoked(forgetAt: Int64(index + round)) }
            #expect(table.count == ids.count)
            for id in ids.prefix(15_000) { table[id] = nil }
            #expect(table.count == 5000)
            for (index, id) in ids.enumerated() {
                #expect(Self.forgetAt(table[id]) == (index < 15_000 ? nil : Int64(index + round)))
            }
        }
        #expect(table.capacity < 4 * 20_000, "churn does not inflate the table: \(table.capacity)")
    }

    @Test("removeAll(where:) leaves tombstones; shrinkIfSparse gives memory back and keeps the survivors")
    func shrink() {
        let ids = Self.random(10_000)
        var table = SessionTable()
        for (index, id) in ids.enumerated() { table[id] = .revoked(forgetAt: Int64(index)) }
        let big = table.capacity
        let removed = table.removeAll { _, entry in (Self.forgetAt(entry) ?? 0) >= 10 }
        #expect(removed.count == 9990 && table.count == 10 && table.tombstones == 9990)
        let shrank = table.shrinkIfSparse()
        #expect(shrank)
        #expect(table.capacity < 64 && table.tombstones == 0, "capacity \(big) -> \(table.capacity)")
        for index in 0..<10 { #expect(Self.forgetAt(table[ids[index]]) == Int64(index)) }
        let again = table.shrinkIfSparse()
        #expect(!again, "nothing to do")
        // And it grows again from there.
        for (index, id) in ids.enumerated().dropFirst(10) { table[id] = .revoked(forgetAt: Int64(index)) }
        #expect(table.count == 10_000)
    }

    @Test("a slot stays compact: a live record in the table is at most 112 bytes")
    func slotSize() {
        #expect(MemoryLayout<SessionRecord>.size <= 89)
        #expect(MemoryLayout<SessionEntry>.size <= 90)
        #expect(MemoryLayout<(TokenID, SessionEntry)>.stride <= 112)
    }
}
