import Logging
import Synchronization
import Testing
import WXAuthWeChat

/// AccessTokenManager with an `AccessTokenSharing` (the hook several nodes share tokens through), here a fake
/// that keeps one token in memory and records what it was asked.
@Suite(.serialized) struct AccessTokenManagerCoordinationTests {
    final class CountingFetcher: AccessTokenFetching {
        let calls = Atomic<Int>(0)
        func fetchAccessToken(appID: String, secret: String) async throws(WeChatError) -> AccessToken {
            let n = calls.add(1, ordering: .relaxed).newValue
            return AccessToken(value: "fetched-\(n)", lifetime: .seconds(7200))
        }
    }

    final class FakeSharing: AccessTokenSharing {
        struct Record {
            var stored: AccessToken?
            var sharedReads = 0
            var exclusiveFetches = 0
            var invalidated: [String] = []
        }
        let record: Mutex<Record>

        init(stored: AccessToken?) { record = Mutex(Record(stored: stored)) }

        func sharedToken(appID: String) async -> AccessToken? {
            record.withLock { $0.sharedReads += 1; return $0.stored }
        }

        func fetchExclusively(appID: String, fetch: @Sendable () async throws(WeChatError) -> AccessToken) async throws(WeChatError) -> AccessToken {
            let stored = record.withLock { record -> AccessToken? in
                record.exclusiveFetches += 1
                return record.stored
            }
            if let stored, stored.lifetime > .seconds(300) { return stored }
            let token = try await fetch()
            record.withLock { $0.stored = token }
            return token
        }

        func invalidate(appID: String, token: String) async {
            record.withLock { record in
                record.invalidated.append(token)
                if record.stored?.value == token { record.stored = nil }
            }
        }
    }

    final class TestClock: Sendable {
        let offset = Atomic<Int64>(0)
        let base = ContinuousClock.now
        var now: ContinuousClock.Instant { base + .seconds(offset.load(ordering: .relaxed)) }
    }

    @Test func usesTheSharedTokenAndDoesNotFetch() async throws {
        let fetcher = CountingFetcher()
        let sharing = FakeSharing(stored: AccessToken(value: "shared-1", lifetime: .seconds(7000)))
        let manager = AccessTokenManager(fetcher: fetcher, sharing: sharing, logger: Logger(label: "test"))
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await manager.token(appID: "a", secret: "s") } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens == ["shared-1"])
        #expect(fetcher.calls.load(ordering: .relaxed) == 0)
        #expect(sharing.record.withLock { $0.sharedReads } == 1)  // one read for twenty callers: in-process singleflight
    }

    @Test func withoutASharedTokenFetchesThroughTheSharedLock() async throws {
        let fetcher = CountingFetcher()
        let sharing = FakeSharing(stored: nil)
        let manager = AccessTokenManager(fetcher: fetcher, sharing: sharing, logger: Logger(label: "test"))
        #expect(try await manager.token(appID: "a", secret: "s") == "fetched-1")
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
        #expect(sharing.record.withLock { ($0.exclusiveFetches, $0.stored?.value) } == (1, "fetched-1"))
    }

    @Test func aStaleTokenIsInvalidatedInTheSharedStoreBeforeTheRetry() async throws {
        let fetcher = CountingFetcher()
        let sharing = FakeSharing(stored: AccessToken(value: "shared-1", lifetime: .seconds(7000)))
        let manager = AccessTokenManager(fetcher: fetcher, sharing: sharing, logger: Logger(label: "test"))
        let seen = Mutex<[String]>([])
        let value = try await manager.withToken(appID: "a", secret: "s") { (token: String) throws(WeChatError) -> String in
            let attempt = seen.withLock { $0.append(token); return $0.count }
            if attempt == 1 { throw .rejected(errcode: 40001, errmsg: "stale") }
            return token
        }
        #expect(seen.withLock { $0 } == ["shared-1", "fetched-1"])
        #expect(value == "fetched-1")
        #expect(sharing.record.withLock { $0.invalidated } == ["shared-1"])
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
    }

    @Test func refreshAheadAsksTheSharedStoreWhetherToFetch() async throws {
        let fetcher = CountingFetcher()
        let clock = TestClock()
        let sharing = FakeSharing(stored: AccessToken(value: "shared-1", lifetime: .seconds(7200)))
        let manager = AccessTokenManager(fetcher: fetcher, sharing: sharing, logger: Logger(label: "test"), now: { clock.now })
        #expect(try await manager.token(appID: "a", secret: "s") == "shared-1")
        // Another node already replaced the shared token; ours is due for refresh ahead.
        sharing.record.withLock { $0.stored = AccessToken(value: "shared-2", lifetime: .seconds(7200)) }
        clock.offset.store(7200 - 200, ordering: .relaxed)
        #expect(try await manager.token(appID: "a", secret: "s") == "shared-1")  // still valid meanwhile
        var polls = 0
        while try await manager.token(appID: "a", secret: "s") != "shared-2", polls < 100 {
            polls += 1
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await manager.token(appID: "a", secret: "s") == "shared-2")
        #expect(sharing.record.withLock { $0.exclusiveFetches } == 1)
        #expect(fetcher.calls.load(ordering: .relaxed) == 0)
    }
}
