import WXAuthCrypto
import WXAuthRedis

/// A token bucket per key, held in Redis so that every node draws from the same bucket: `burst` tokens at most,
/// refilled at `perSecond`. One Lua script (EVALSHA) refills and takes atomically, reading the time from the Redis
/// server (`TIME`), so nodes whose clocks disagree still agree on the bucket. A bucket left alone expires once it
/// would be full again (plus a second), so idle keys cost nothing.
///
/// Key names: `wxr:{hash}` with a keyed hash of the namespace and the key (`CoordinationKeyNaming`): a key may be
/// an address or a user id; it never appears in Redis.
public final class ClusterRateLimiter: Sendable {
    /// Tokens added per second.
    public let perSecond: Double
    /// Most tokens a bucket holds (and a fresh bucket starts with).
    public let burst: Double
    /// Separates limiters that share a Redis and a secret (e.g. `"login:" + appID`).
    public let namespace: String

    private let client: any RedisClient
    private let naming: CoordinationKeyNaming

    /// - Parameters:
    ///   - client: the cluster (or standalone) client; each call is one EVALSHA to the key's primary.
    ///   - perSecond: refill rate, > 0.
    ///   - burst: bucket size, >= 1.
    ///   - namespace: what this limiter counts (two limiters with the same namespace share buckets).
    ///   - secret: the deployment's coordination secret (names keys).
    public init(client: any RedisClient, perSecond: Double, burst: Double, namespace: String, secret: CoordinationSecret) {
        precondition(perSecond > 0 && perSecond.isFinite, "a rate limiter needs a positive rate")
        precondition(burst >= 1 && burst.isFinite, "a rate limiter needs a burst of at least one")
        self.client = client
        self.perSecond = perSecond
        self.burst = burst
        self.namespace = namespace
        naming = CoordinationKeyNaming(secret: secret)
    }

    /// Takes one token from `key`'s bucket: nil when allowed, otherwise how long until a token will be there
    /// (nothing is taken then). Throws the Redis client's error when Redis cannot answer within its deadline; the
    /// caller decides whether to fail open or closed.
    public func take(_ key: String) async throws -> Duration? {
        let reply = try await client.run(Self.script, keys: [keyName(for: key)],
                                         arguments: [String(perSecond), String(burst)])
        guard let microseconds = reply.integer else {
            throw RedisClientError(.unexpectedReply, "rate limit script answered \(reply)")
        }
        return microseconds <= 0 ? nil : .microseconds(microseconds)
    }

    func keyName(for key: String) -> String {
        naming.name(prefix: SharedStoreKeys.ratePrefix, namespace: namespace, item: key)
    }

    /// KEYS[1]: the bucket (a hash: `t` tokens, `ts` last update in µs of server time). ARGV: rate per second,
    /// burst. Answers 0 when a token was taken, else the microseconds until one will be available.
    static let script = RedisScript("""
        local now = redis.call('TIME')
        local nowMicros = tonumber(now[1]) * 1000000 + tonumber(now[2])
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 't', 'ts')
        local tokens = tonumber(state[1])
        local updated = tonumber(state[2])
        if tokens == nil or updated == nil then
          tokens = burst
          updated = nowMicros
        end
        local elapsed = nowMicros - updated
        if elapsed < 0 then elapsed = 0 end
        tokens = math.min(burst, tokens + elapsed * rate / 1000000)
        if tokens < 1 then
          return math.ceil((1 - tokens) * 1000000 / rate)
        end
        tokens = tokens - 1
        redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%d', nowMicros))
        redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
        return 0
        """)
}
