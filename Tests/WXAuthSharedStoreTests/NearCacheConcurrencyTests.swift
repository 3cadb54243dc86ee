import Testing
@testable import WXAuthSessions
@testable import WXAuthSharedStore

/// The near cache hammered from many tasks at once (fills, invalidations, lookups, flushes, slides), as the event
/// loops, the Redis replies and the invalidation feed do; run under the thread sanitizer by scripts/test.sh.
@Suite struct NearCacheConcurrencyTests {
    @Test func concurrentFillsInvalidationsAndFlushesKeepTheCountExact() async throws {
        let cache = NearCache(shardCount: 8, capacity: 100_000)
        cache.flush(serving: true)
        let entry = NearCache.Entry(value: .revoked(absoluteExpiresAt: 1), raw: Array("R0000000000001".utf8))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<5_000 {
                        let id = SharedSessionID(slotTag: UInt32(worker), high: UInt64(index % 500), low: UInt32(index % 7))
                        switch index % 5 {
                        case 0, 1:
                            if let ticket = cache.beginFill(id) { cache.completeFill(id, ticket: ticket, entry: entry) }
                        case 2:
                            cache.invalidate(id)
                        case 3:
                            _ = cache.lookup(id)
                            _ = cache.claimSlide(id)
                        default:
                            if index % 1_000 == 4 { cache.flush(serving: true) }
                            if index % 1_700 == 4 { _ = cache.invalidateAll { _ in true } }
                        }
                    }
                }
            }
        }
        // The counter matches what is really there: remove everything and it comes back to zero.
        #expect(cache.entryCount >= 0)
        cache.flush(serving: true)
        #expect(cache.entryCount == 0)
    }
}
