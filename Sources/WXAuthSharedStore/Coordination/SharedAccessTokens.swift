import Logging
import NIOCore
import Synchronization
import WXAuthCrypto
import WXAuthRedis

/// One access token per namespace (app), shared by every node through Redis: nodes read the stored token; when
/// there is none (or it is about to expire), one node at a time fetches a new one under a lock key and stores it,
/// while the others wait for it. Invalidation deletes the stored token only if it is still the token the caller
/// found stale, so a node never throws away a newer token another node just stored (the failure WxJava users meet
/// when several instances each refresh and invalidate on their own).
///
/// Keys (one slot): `wxt:{hash}` holds the token sealed with AES-256-GCM (key name as associated data), expiring
/// with the token; `wxt:{hash}:fetching` is the fetch lock (`SET NX PX`, renewed while the fetch runs). A stored
/// value that does not open is counted in `unreadableValues`, deleted and never used.
///
/// Redis trouble never fails a caller: `current` answers nil, `invalidate` does nothing, and `fetchExclusively`
/// fetches without coordination (as a single node would), logging a warning.
public final class SharedAccessTokens: Sendable {
    public struct Configuration: Sendable {
        /// Lifetime of the fetch lock without renewal: how long others wait after the fetching node died.
        public var lockTTL: Duration
        /// How long `fetchExclusively` waits for another node's fetch before fetching itself.
        public var waitingAtMost: Duration
        /// A stored token with less time than this left is replaced by `fetchExclusively` (refresh ahead).
        public var refreshWhenRemainingBelow: Duration

        public init(lockTTL: Duration = .seconds(10), waitingAtMost: Duration = .seconds(15),
                    refreshWhenRemainingBelow: Duration = .seconds(300)) {
            self.lockTTL = lockTTL
            self.waitingAtMost = waitingAtMost
            self.refreshWhenRemainingBelow = refreshWhenRemainingBelow
        }
    }

    public let configuration: Configuration
    private let client: any RedisClient
    private let naming: CoordinationKeyNaming
    private let sealer: CoordinationSealer
    private let random: any RandomSource
    private let logger: Logger
    private let unreadable = Atomic<Int>(0)
    private let uncoordinated = Atomic<Int>(0)

    public init(client: any RedisClient, secret: CoordinationSecret, configuration: Configuration = .init(),
                random: any RandomSource = OpenSSLRandom(), logger: Logger = Logger(label: "wxauth.coordination")) throws(CryptoError) {
        self.client = client
        self.configuration = configuration
        naming = CoordinationKeyNaming(secret: secret)
        sealer = try CoordinationSealer(secret: secret, random: random)
        self.random = random
        self.logger = logger
    }

    /// Stored tokens that did not open (tampered or foreign) since start.
    public var unreadableValues: Int { unreadable.load(ordering: .relaxed) }
    /// Fetches done without the lock because Redis could not be used or the wait ran out.
    public var uncoordinatedFetches: Int { uncoordinated.load(ordering: .relaxed) }

    /// The stored token of `namespace` with its remaining life; nil when there is none, it does not open, or Redis
    /// cannot be asked.
    public func current(namespace: String) async -> SharedAccessToken? {
        let keys = keyNames(for: namespace)
        do {
            let reply = try await client.run(Self.readScript, keys: [keys.token], arguments: [])
            guard let stored = try StoredToken(reply: reply) else { return nil }
            return await open(stored, keys: keys)
        } catch {
            logger.warning("could not read the shared access token", metadata: ["redis.error": "\(error)"])
            return nil
        }
    }

    /// A token for `namespace` that has more than `refreshWhenRemainingBelow` left: the stored one, or one from
    /// `fetch`, called by one node at a time; the others wait for what it stores. A failing `fetch` releases the
    /// lock at once and its error is thrown to this caller only.
    public func fetchExclusively<Failure: Error>(
        namespace: String, fetch: @Sendable () async throws(Failure) -> SharedAccessToken
    ) async throws(Failure) -> SharedAccessToken {
        let keys = keyNames(for: namespace)
        let lockID: String
        do {
            lockID = Hex.encode(try random.bytes(count: 16))
        } catch {
            return try await fetchUncoordinated(fetch, reason: "no random lock id: \(error)")
        }
        let deadline = WaitDeadline(after: configuration.waitingAtMost)
        var backoff = PollBackoff()
        while true {
            let answer: ReadOrLockReply
            do {
                answer = try ReadOrLockReply(reply: try await client.run(Self.readOrLockScript, keys: [keys.token, keys.lock], arguments: [
                    lockID, configuration.lockTTL.redisMilliseconds, configuration.refreshWhenRemainingBelow.redisMilliseconds,
                ]))
            } catch {
                return try await fetchUncoordinated(fetch, reason: "\(error)")
            }
            switch answer {
            case .lockTaken:
                return try await fetchHoldingLock(keys: keys, lockID: lockID, fetch: fetch)
            case .lockHeldElsewhere:
                break
            case .token(let stored):
                if let token = await open(stored, keys: keys) { return token }
            }
            guard await deadline.sleep(backoff.pause()) else {
                return try await fetchUncoordinated(fetch, reason: "another node's fetch did not finish in time")
            }
        }
    }

    /// Deletes the stored token if it is still `value` (the caller found it stale); a different stored token, or
    /// none, is left alone. An unreadable stored value is deleted too.
    public func invalidate(namespace: String, value: String) async {
        let keys = keyNames(for: namespace)
        do {
            let reply = try await client.run(Self.readScript, keys: [keys.token], arguments: [])
            guard let stored = try StoredToken(reply: reply) else { return }
            guard let opened = sealer.open(stored.sealed, keyName: keys.token) else {
                await discardUnreadable(stored, keys: keys)
                return
            }
            guard constantTimeEquals(opened, Array(value.utf8)) else { return }
            _ = try await client.run(CoordinationScripts.deleteIfEqual, keys: [ByteBuffer(string: keys.token)],
                                     arguments: [ByteBuffer(bytes: stored.sealed)])
        } catch {
            logger.warning("could not invalidate the shared access token", metadata: ["redis.error": "\(error)"])
        }
    }

    struct KeyNames {
        var token: String
        var lock: String
    }

    func keyNames(for namespace: String) -> KeyNames {
        let token = naming.name(prefix: SharedStoreKeys.accessTokenPrefix, namespace: namespace)
        return KeyNames(token: token, lock: token + ":fetching")
    }

    private func fetchHoldingLock<Failure: Error>(
        keys: KeyNames, lockID: String, fetch: @Sendable () async throws(Failure) -> SharedAccessToken
    ) async throws(Failure) -> SharedAccessToken {
        let renewal = CoordinationLease(client: client, key: keys.lock, value: lockID, ttl: configuration.lockTTL)
            .startRenewing(logger: logger)
        defer { renewal.cancel() }
        let token: SharedAccessToken
        do throws(Failure) {
            token = try await fetch()
        } catch {
            renewal.cancel()
            _ = try? await client.run(CoordinationScripts.deleteIfEqual, keys: [keys.lock], arguments: [lockID])
            throw error
        }
        do {
            let sealed = try sealer.seal(Array(token.value.utf8), keyName: keys.token)
            _ = try await client.run(Self.storeScript, keys: [ByteBuffer(string: keys.token), ByteBuffer(string: keys.lock)], arguments: [
                ByteBuffer(bytes: sealed), ByteBuffer(string: token.remaining.redisMilliseconds), ByteBuffer(string: lockID),
            ])
        } catch {
            logger.warning("could not store the shared access token", metadata: ["redis.error": "\(error)"])
        }
        return token
    }

    private func fetchUncoordinated<Failure: Error>(
        _ fetch: @Sendable () async throws(Failure) -> SharedAccessToken, reason: String
    ) async throws(Failure) -> SharedAccessToken {
        uncoordinated.add(1, ordering: .relaxed)
        logger.warning("fetching the access token without cross-node coordination", metadata: ["reason": "\(reason)"])
        return try await fetch()
    }

    /// The token if `stored` opens and has time left; an unreadable value is counted and deleted.
    private func open(_ stored: StoredToken, keys: KeyNames) async -> SharedAccessToken? {
        guard let opened = sealer.open(stored.sealed, keyName: keys.token) else {
            await discardUnreadable(stored, keys: keys)
            return nil
        }
        guard stored.remaining > .zero else { return nil }
        return SharedAccessToken(value: String(decoding: opened, as: UTF8.self), remaining: stored.remaining)
    }

    private func discardUnreadable(_ stored: StoredToken, keys: KeyNames) async {
        unreadable.add(1, ordering: .relaxed)
        logger.warning("unreadable access token in Redis; deleting it", metadata: ["redis.key": "\(keys.token)"])
        _ = try? await client.run(CoordinationScripts.deleteIfEqual, keys: [ByteBuffer(string: keys.token)],
                                  arguments: [ByteBuffer(bytes: stored.sealed)])
    }

    /// KEYS[1]: the token. Answers nil, or {sealed value, milliseconds left}.
    static let readScript = RedisScript("""
        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        return {v, redis.call('PTTL', KEYS[1])}
        """)

    /// KEYS[1]: the token, KEYS[2]: the lock. ARGV: lock id, lock milliseconds, refresh threshold milliseconds.
    /// Answers {sealed value, milliseconds left} for a token with more than the threshold left; else takes the
    /// lock and answers 1, or answers 0 when another node holds it.
    static let readOrLockScript = RedisScript("""
        local v = redis.call('GET', KEYS[1])
        if v then
          local left = redis.call('PTTL', KEYS[1])
          if left > tonumber(ARGV[3]) then return {v, left} end
        end
        if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        return 0
        """)

    /// KEYS[1]: the token, KEYS[2]: the lock. ARGV: sealed token, its milliseconds, lock id. Stores the token and
    /// releases the lock if it is still ours.
    static let storeScript = RedisScript("""
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
        return 1
        """)
}
