import Testing
import WXAuthCrypto
import WXAuthRedis
@testable import WXAuthSessions
@testable import WXAuthSharedStore

/// The near cache's rules without Redis: fills that race an invalidation are dropped, nothing is served while the
/// feed is down (unless stale reads are allowed, and then only for their bound), and a re-established feed empties it.
@Suite struct NearCacheTests {
    let id = SharedSessionID(slotTag: 1, high: 2, low: 3)
    let entry = NearCache.Entry(value: .revoked(absoluteExpiresAt: 99), raw: Array("R0000000000099".utf8))

    func serving(_ stale: Duration? = nil) -> NearCache {
        let cache = NearCache(shardCount: 4, capacity: 10, staleReadsWhileFeedDown: stale)
        cache.flush(serving: true)
        return cache
    }

    @Test func aFillRacedByAnInvalidationIsNotInstalled() throws {
        let cache = serving()
        let ticket = try #require(cache.beginFill(id))
        cache.invalidate(id)  // the push for a change made after the read
        cache.completeFill(id, ticket: ticket, entry: entry)
        #expect(cache.lookup(id) == nil)
        // Without a race it is installed.
        let again = try #require(cache.beginFill(id))
        cache.completeFill(id, ticket: again, entry: entry)
        #expect(cache.lookup(id)?.value == entry.value)
        #expect(cache.entryCount == 1)
    }

    @Test func aFlushDropsPendingFillsToo() throws {
        let cache = serving()
        let ticket = try #require(cache.beginFill(id))
        cache.flush(serving: true)
        cache.completeFill(id, ticket: ticket, entry: entry)
        #expect(cache.lookup(id) == nil && cache.entryCount == 0)
    }

    @Test func nothingIsServedOrFilledWhileTheFeedIsDown() throws {
        let cache = serving()
        cache.completeFill(id, ticket: try #require(cache.beginFill(id)), entry: entry)
        cache.feedLost()
        #expect(cache.lookup(id) == nil && cache.entryCount == 0)
        #expect(cache.beginFill(id) == nil)
        cache.flush(serving: true)
        #expect(cache.beginFill(id) != nil)
    }

    @Test func staleReadsAreBoundedInTime() async throws {
        let cache = serving(.milliseconds(300))
        cache.completeFill(id, ticket: try #require(cache.beginFill(id)), entry: entry)
        cache.feedLost()
        #expect(!cache.isServing)
        #expect(cache.lookup(id) != nil, "stale reads allowed: the cached entry answers while the feed is down")
        #expect(cache.beginFill(id) == nil, "nothing new is cached while the feed is down")
        try await Task.sleep(for: .milliseconds(400))
        #expect(cache.lookup(id) == nil, "past the bound nothing stale is served")
        cache.feedLost()  // the listener's next retry empties it
        #expect(cache.entryCount == 0)
    }

    @Test func theCapacityBoundsFills() throws {
        let cache = serving()
        for low in 0..<10 {
            let other = SharedSessionID(slotTag: 1, high: 2, low: UInt32(low))
            cache.completeFill(other, ticket: try #require(cache.beginFill(other)), entry: entry)
        }
        #expect(cache.entryCount == 10)
        #expect(cache.beginFill(SharedSessionID(slotTag: 9, high: 9, low: 9)) == nil)
    }

    @Test func invalidationPushesEvictTheirKeysAndANullFlushesAll() throws {
        let cache = serving()
        let other = SharedSessionID(slotTag: 7, high: 8, low: 9)
        for key in [id, other] { cache.completeFill(key, ticket: try #require(cache.beginFill(key)), entry: entry) }
        InvalidationListener.apply(.push([.blobString(.init(string: "invalidate")), .array([.blobString(.init(string: id.keyName))])]), to: cache)
        #expect(cache.lookup(id) == nil && cache.lookup(other) != nil)
        InvalidationListener.apply(.push([.blobString(.init(string: "invalidate")), .null]), to: cache)
        #expect(cache.entryCount == 0 && cache.isServing)
    }
}
