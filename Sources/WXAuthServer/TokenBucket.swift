import NIOConcurrencyHelpers
import Synchronization

/// A rate: `perSecond` sustained, `burst` at once.
public struct RateLimit: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// The classic token bucket, without a clock of its own.
struct TokenBucket: Sendable {
    private var tokens: Double
    private var updated: ContinuousClock.Instant
    let limit: RateLimit

    init(limit: RateLimit, now: ContinuousClock.Instant) {
        self.limit = limit
        self.tokens = limit.burst
        self.updated = now
    }

    /// Takes one token; returns nil when allowed, otherwise how long until a token is available.
    mutating func take(now: ContinuousClock.Instant) -> Duration? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        let missing = 1 - tokens
        return .milliseconds(Int64((missing / limit.perSecond * 1000).rounded(.up)))
    }

    /// True when the bucket is full again (it can be forgotten).
    mutating func isFull(now: ContinuousClock.Instant) -> Bool {
        refill(now: now)
        return tokens >= limit.burst
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        let elapsed = now - updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(limit.burst, tokens + seconds * limit.perSecond)
        updated = now
    }
}

/// One token bucket per key (an app, a user, a client address), forgotten once full again so memory follows
/// active keys only. Public for the HTTP edge's per-client login limit.
public final class KeyedRateLimiter: Sendable {
    private let limit: RateLimit
    private let buckets = NIOLockedValueBox<[String: TokenBucket]>([:])

    public init(limit: RateLimit) {
        self.limit = limit
    }

    /// nil when allowed; otherwise the time until the key may try again.
    public func take(_ key: String) -> Duration? {
        let now = ContinuousClock.now
        return buckets.withLockedValue { buckets in
            if buckets.count > 50_000 {
                buckets = buckets.filter { _, bucket in
                    var bucket = bucket
                    return !bucket.isFull(now: now)
                }
            }
            var bucket = buckets[key] ?? TokenBucket(limit: limit, now: now)
            let wait = bucket.take(now: now)
            buckets[key] = bucket
            return wait
        }
    }
}
