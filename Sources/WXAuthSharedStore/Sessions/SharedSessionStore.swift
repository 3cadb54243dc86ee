import Logging
import NIOCore
import Synchronization
import WXAuthCrypto
import WXAuthRedis
import WXAuthSessions

/// Sessions kept in Redis (standalone or Cluster) so several wxauthd nodes serve the same sessions: one key per
/// session (`SharedSessionID.keyName`), the HMAC-sealed record with its session_key encrypted
/// (`SharedSessionRecord`), changes made atomically by Lua scripts on the session's slot (`SessionScripts`), and a
/// near cache per node (`NearCache`, kept fresh by `InvalidationListener`) so most VALIDATEs make no round trip.
///
/// The rules are the in-memory store's (PROTOCOL.md "Sessions"): the same statuses, grace window, reuse detection
/// and idle sliding; a Redis call that fails or passes its deadline answers `.storeUnavailable`.
public final class SharedSessionStore: Sendable {
    public let configuration: SharedStoreConfiguration
    public let keyring: ServerKeyring
    public let apps: AppRegistry
    public let statistics = SessionStoreStatistics()
    let client: any RedisClient
    let cache: NearCache
    private let listener: InvalidationListener
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    private let listening = Mutex<Task<Void, Never>?>(nil)
    private let slides = Atomic<Int>(0)

    public init(
        client: any RedisClient, keyring: ServerKeyring, apps: AppRegistry,
        configuration: SharedStoreConfiguration = SharedStoreConfiguration(), clock: any WallClock = SystemWallClock(),
        random: any RandomSource = OpenSSLRandom(), logger: Logger
    ) {
        self.client = client
        self.keyring = keyring
        self.apps = apps
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
        cache = NearCache(capacity: configuration.nearCacheCapacity, staleReadsWhileFeedDown: configuration.staleReadsWhileFeedDown)
        listener = InvalidationListener(client: client, cache: cache, logger: logger)
    }

    /// Starts the invalidation feed; until it is up, every read goes to Redis.
    public func start() {
        listening.withLock { task in
            guard task == nil else { return }
            task = Task { [listener] in await listener.run() }
        }
    }

    /// Stops the feed and closes every Redis connection.
    public func shutdown() async {
        let task = listening.withLock { task in defer { task = nil }; return task }
        task?.cancel()
        await task?.value
        await client.shutdown()
    }

    public var clockNow: Int64 { clock.nowMilliseconds() }

    /// Whether the near cache answers now (its invalidation feed is up).
    public var isNearCacheServing: Bool { cache.isServing }

    /// Sessions in this node's near cache.
    public var nearCacheEntries: Int { cache.entryCount }

    // MARK: - VALIDATE

    public enum CachedValidation: Sendable {
        /// Decided without Redis: the session, or the refusal.
        case answered(Result<SessionSnapshot, SessionError>)
        /// Not in the near cache, or the answer needs a change in Redis (reuse of a rotated token).
        case needsStore
    }

    /// VALIDATE from the near cache, synchronously (the event loop's hot path). Slides the idle deadline in the
    /// background when it has fallen `slideGranularity` behind.
    public func validateFromCache(tokenUTF8: UnsafeRawBufferPointer) -> CachedValidation {
        guard let token = SharedSessionToken.parse(utf8: tokenUTF8, keyring: keyring) else {
            statistics.recordRejectedToken()
            return .answered(.failure(.invalidToken))
        }
        guard let entry = cache.lookup(token.session) else { return .needsStore }
        let now = clock.nowMilliseconds()
        switch judge(entry.value, token: token, now: now) {
        case .live(let record, let appIndex, let idle):
            slideIfDue(token.session, raw: entry.raw, record: record, idle: idle, now: now)
            return .answered(.success(record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle)))
        case .refused(let error):
            return .answered(.failure(error))
        case .reuse:
            return .needsStore
        }
    }

    /// VALIDATE through Redis (a near-cache miss): reads, caches, decides; a rotated token used after its grace
    /// window revokes the session.
    public func validate(_ tokenString: String) async throws(SessionError) -> SessionSnapshot {
        let token = try authenticate(tokenString)
        let now = clock.nowMilliseconds()
        let (value, raw) = try await read(token.session, fill: true)
        switch judge(value, token: token, now: now) {
        case .live(let record, let appIndex, let idle):
            slideIfDue(token.session, raw: raw, record: record, idle: idle, now: now, claimed: false)
            return record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle)
        case .refused(let error):
            throw error
        case .reuse:
            throw try await revokeForReuse(token.session, now: now)
        }
    }

    /// Checks a token without sliding its idle deadline (the user-data operations). Near cache first.
    public func peek(_ tokenString: String) async throws(SessionError) -> SessionSnapshot {
        let (record, appIndex, idle, _) = try await liveRecord(tokenString)
        return record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle)
    }

    // MARK: - Internals

    enum Judgement {
        case live(SharedSessionRecord, appIndex: UInt16, idle: Int64)
        case refused(SessionError)
        /// A rotated token after its grace window.
        case reuse
    }

    /// What a token of `token.generation` means for a session whose key holds `value`.
    func judge(_ value: SharedSessionValue, token: SharedSessionToken, now: Int64) -> Judgement {
        guard case .live(let record) = value else { return .refused(.revoked) }
        guard let appIndex = apps.index(of: record.appID) else { return .refused(.invalidToken) }
        let idle = apps[appIndex].idleTimeoutMilliseconds
        if token.generation == record.generation {
            guard now < record.expiresAt(idleTimeoutMilliseconds: idle) else { return .refused(.expired) }
            return .live(record, appIndex: appIndex, idle: idle)
        }
        guard token.generation < record.generation else { return .refused(.invalidToken) }
        if token.generation + 1 == record.generation, now <= record.graceUntil { return .refused(.revoked) }
        return .reuse
    }

    func authenticate(_ tokenString: String) throws(SessionError) -> SharedSessionToken {
        guard let token = SharedSessionToken.parse(tokenString, keyring: keyring) else {
            statistics.recordRejectedToken()
            throw .invalidToken
        }
        return token
    }

    /// The session's value from Redis (nil: no such key, or a value that failed verification, which is counted).
    /// With `fill`, the value is put in the near cache unless a change raced the read.
    func read(_ id: SharedSessionID, fill: Bool) async throws(SessionError) -> (SharedSessionValue, [UInt8]) {
        statistics.recordLookup()
        let ticket = fill ? cache.beginFill(id) : nil
        let outcome = await fetch(id)
        if let ticket {
            cache.completeFill(id, ticket: ticket, entry: (try? outcome.get()).map { NearCache.Entry(value: $0.0, raw: $0.1) })
        }
        return try outcome.get()
    }

    /// GET and verify, without touching the cache.
    private func fetch(_ id: SharedSessionID) async -> Result<(SharedSessionValue, [UInt8]), SessionError> {
        let reply: RESP3Value
        do {
            reply = try await client.execute(.get(id.keyName), timeout: configuration.commandTimeout)
        } catch {
            return .failure(unavailable("GET", error))
        }
        guard case .blobString(let buffer) = reply else { return .failure(.invalidToken) }
        let raw = Array(buffer.readableBytesView)
        guard let value = SharedSessionValue.decode(raw, session: id, keyring: keyring) else {
            statistics.recordIntegrityFailure()
            logger.warning("shared session value failed verification; treated as absent", metadata: ["key": "\(id.keyName)"])
            return .failure(.invalidToken)
        }
        return .success((value, raw))
    }

    /// The live record a current-generation token names (near cache first), for operations that do not change it.
    func liveRecord(_ tokenString: String) async throws(SessionError) -> (SharedSessionRecord, UInt16, Int64, SharedSessionToken) {
        let token = try authenticate(tokenString)
        let now = clock.nowMilliseconds()
        let value: SharedSessionValue
        if let entry = cache.lookup(token.session) {
            value = entry.value
        } else {
            value = try await read(token.session, fill: true).0
        }
        switch judge(value, token: token, now: now) {
        case .live(let record, let appIndex, let idle): return (record, appIndex, idle, token)
        case .refused(let error): throw error
        case .reuse: throw .revoked
        }
    }

    /// Time to live of a value: the session's deadline plus the linger, at least 1 ms.
    func timeToLive(_ record: SharedSessionRecord, idle: Int64, now: Int64) -> Int64 {
        max(1, record.expiresAt(idleTimeoutMilliseconds: idle) - now + configuration.expiredLingerMilliseconds)
    }

    func encode(_ record: SharedSessionRecord, _ id: SharedSessionID, idle: Int64) throws(SessionError) -> [UInt8] {
        do {
            return try record.encoded(session: id, idleTimeoutMilliseconds: idle, keyring: keyring)
        } catch {
            throw .cryptoFailure(error.operation)
        }
    }

    /// Swaps `expected` for `replacement` if the key still holds `expected`; false when it changed meanwhile.
    func compareAndSet(_ id: SharedSessionID, expected: [UInt8], replacement: [UInt8], ttl: Int64) async throws(SessionError) -> Bool {
        let reply: RESP3Value
        do {
            reply = try await client.run(
                SessionScripts.compareAndSet, keys: [ByteBuffer(string: id.keyName)],
                arguments: [ByteBuffer(bytes: expected), ByteBuffer(bytes: replacement), ByteBuffer(string: String(ttl))],
                timeout: configuration.commandTimeout)
        } catch {
            throw unavailable("compare-and-set", error)
        }
        cache.invalidate(id)
        return reply.integer == 1
    }

    /// Marks the session revoked until its absolute deadline. true when this call revoked it.
    func revokeSession(_ id: SharedSessionID, now: Int64) async throws(SessionError) -> Bool {
        let reply: RESP3Value
        do {
            reply = try await client.run(
                SessionScripts.revoke, keys: [ByteBuffer(string: id.keyName)], arguments: [ByteBuffer(string: String(now))],
                timeout: configuration.commandTimeout)
        } catch {
            throw unavailable("revoke", error)
        }
        cache.invalidate(id)
        switch reply.integer {
        case 1: return true
        case 2: return false
        default: throw .invalidToken
        }
    }

    /// A rotated token used after its grace window (RFC 9700 4.14.2): the whole session is revoked. Returns the
    /// refusal to throw.
    func revokeForReuse(_ id: SharedSessionID, now: Int64) async throws(SessionError) -> SessionError {
        statistics.recordReuse()
        _ = try await revokeSession(id, now: now)
        return .revoked
    }

    /// Starts one background write of the slid idle deadline when it has fallen far enough behind.
    private func slideIfDue(
        _ id: SharedSessionID, raw: [UInt8], record: SharedSessionRecord, idle: Int64, now: Int64, claimed: Bool = true
    ) {
        guard now - record.lastSeenAt >= SharedSessionRecord.slideGranularity(idleTimeoutMilliseconds: idle) else { return }
        if claimed { guard cache.claimSlide(id) else { return } }
        guard slides.add(1, ordering: .relaxed).newValue <= 10_000 else {
            slides.subtract(1, ordering: .relaxed)
            return
        }
        var slid = record
        slid.lastSeenAt = max(now, record.lastSeenAt)
        Task { [self] in
            defer { slides.subtract(1, ordering: .relaxed) }
            guard let value = try? encode(slid, id, idle: idle) else { return }
            _ = try? await compareAndSet(id, expected: raw, replacement: value, ttl: timeToLive(slid, idle: idle, now: now))
        }
    }

    func unavailable(_ operation: String, _ error: any Error) -> SessionError {
        logger.warning("redis call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
        return .storeUnavailable
    }
}
