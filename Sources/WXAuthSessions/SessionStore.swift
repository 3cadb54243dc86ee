import NIOConcurrencyHelpers
import Foundation
import Synchronization
import WXAuthCrypto

/// The session service's state: issues tokens, keeps records in a sharded map, and answers validate, refresh,
/// revoke and revoke-user. No I/O; all time comes from the injected clock and all randomness from the injected
/// source, so every rule below can be tested exactly. Thread-safe.
public final class SessionStore: Sendable {
    /// A token handed out by LOGIN or REFRESH, with the session it names.
    public struct Issued: Sendable, Hashable {
        public var token: String
        public var session: SessionSnapshot

        public init(token: String, session: SessionSnapshot) {
            self.token = token
            self.session = session
        }
    }

    public let configuration: SessionStoreConfiguration
    public let keyring: ServerKeyring
    public let apps: AppRegistry
    public let statistics: SessionStoreStatistics
    let clock: any WallClock
    let random: any RandomSource
    let map: ShardedSessionMap
    let entries = Atomic<Int>(0)
    /// Where LOGIN, REFRESH and revocations are reported for persistence (SessionStore+Persistence.swift).
    let persistenceHook = SessionJournalHook()
    let userRevocations = UserRevocations()

    public init(
        configuration: SessionStoreConfiguration = SessionStoreConfiguration(), keyring: ServerKeyring,
        apps: AppRegistry, clock: any WallClock = SystemWallClock(), random: any RandomSource = OpenSSLRandom()
    ) {
        self.configuration = configuration
        self.keyring = keyring
        self.apps = apps
        self.clock = clock
        self.random = random
        let map = ShardedSessionMap(shardCount: configuration.shardCount)
        self.map = map
        self.statistics = SessionStoreStatistics(countedInShards: { map.validations })
    }

    /// Live sessions plus remembered revoked and rotated tokens.
    public var entryCount: Int { entries.load(ordering: .relaxed) }

    // MARK: - Operations

    /// Creates a session for a user WeChat just identified, and returns its first token.
    public func create(appID: String, openid: String, unionid: String?, sessionKeyBase64: String) throws(SessionError) -> Issued {
        guard let appIndex = apps.index(of: appID) else { throw .unknownApp }
        guard let raw = Data(base64Encoded: sessionKeyBase64), let sessionKey = SessionKey(bytes: Array(raw)) else {
            throw .malformedSessionKey
        }
        try persistenceHook.checkAcceptsChanges()
        guard entries.add(1, ordering: .relaxed).newValue <= configuration.maxEntries else {
            entries.subtract(1, ordering: .relaxed)
            throw .full
        }
        let app = apps[appIndex]
        let now = clock.nowMilliseconds()
        let strings = SessionRecord.strings(openid: openid, unionid: unionid)
        var record = SessionRecord(
            sessionKey: sessionKey, createdAt: now, lastSeenAt: now,
            absoluteExpiresAt: now + app.absoluteLifetimeMilliseconds, mac: Tag128(first: 0, second: 0),
            openid: InlineOpenID(openid), keyID: keyring.primaryKeyID, appIndex: appIndex,
            hasUnionid: strings.unionid != nil
        )
        let token: SessionToken
        do throws(SessionError) {
            token = try insertNew(&record, strings: strings, appID: appID)
        } catch {
            entries.subtract(1, ordering: .relaxed)
            throw error
        }
        // A session whose journal write failed stays in memory (and queued for the journal) but its token is
        // never handed out: it expires unused.
        try persistenceHook.created(id: token.id, record: record, strings: strings, appID: appID)
        return Issued(token: try encode(token), session: SessionSnapshot(record: record, strings: strings, app: app))
    }

    /// Checks a token and slides its idle deadline. The record is re-sealed and written back only when
    /// `lastSeenAt` has fallen `SessionRecord.lastSeenGranularity` behind, or when it was sealed under a key that
    /// is no longer primary; otherwise VALIDATE is a lookup and two MAC checks (token tag, record MAC).
    public func validate(_ tokenString: String) throws(SessionError) -> SessionSnapshot {
        try validate(token: authenticate(tokenString))
    }

    /// `validate(_:)` for the token's 44 ASCII bytes as they sit in a request frame: no String is made.
    public func validate(tokenUTF8: UnsafeRawBufferPointer) throws(SessionError) -> SessionSnapshot {
        try validate(token: authenticate(utf8: tokenUTF8))
    }

    private func validate(token: SessionToken) throws(SessionError) -> SessionSnapshot {
        let now = clock.nowMilliseconds()
        let outcome = try map.withValidation(for: token.id) { (entries) throws(SessionError) -> SessionSnapshot? in
            guard let entry = entries[token.id] else { throw .invalidToken }
            guard case .live(var record) = entry else {
                // A rotated token used after its grace window is reuse (PROTOCOL.md REFRESH): revoke the session,
                // which takes other shards' locks, so it happens below, outside this one.
                if case .rotated(_, let graceUntil, _) = entry, now > graceUntil { return nil }
                throw .revoked
            }
            let strings = entries.strings(of: token.id, record: record)
            let app = try checkLive(record, strings: strings, id: token.id, now: now, in: &entries)
            let granularity = SessionRecord.lastSeenGranularity(idleTimeoutMilliseconds: app.idleTimeoutMilliseconds)
            if now - record.lastSeenAt >= granularity || record.keyID != keyring.primaryKeyID {
                record.lastSeenAt = max(now, record.lastSeenAt)
                try seal(&record, id: token.id, strings: strings, appID: app.appID)
                entries[token.id] = .live(record)
            }
            return SessionSnapshot(record: record, strings: strings, app: app)
        }
        guard let session = outcome else {
            statistics.recordReuse()
            // Revoked in memory even if the journal cannot keep it now (it stays queued and is retried).
            try? revokeChain(from: token.id)
            throw .revoked
        }
        return session
    }

    /// Checks a token without touching it (no sliding of the idle deadline).
    public func peek(_ tokenString: String) throws(SessionError) -> SessionSnapshot {
        try peek(token: authenticate(tokenString))
    }

    /// `peek(_:)` for the token's 44 ASCII bytes as they sit in a request frame.
    public func peek(tokenUTF8: UnsafeRawBufferPointer) throws(SessionError) -> SessionSnapshot {
        try peek(token: authenticate(utf8: tokenUTF8))
    }

    private func peek(token: SessionToken) throws(SessionError) -> SessionSnapshot {
        statistics.recordLookup()
        let now = clock.nowMilliseconds()
        return try map.withShard(for: token.id) { (entries) throws(SessionError) -> SessionSnapshot in
            guard let entry = entries[token.id] else { throw .invalidToken }
            guard case .live(let record) = entry else { throw .revoked }
            let strings = entries.strings(of: token.id, record: record)
            let app = try checkLive(record, strings: strings, id: token.id, now: now, in: &entries)
            return SessionSnapshot(record: record, strings: strings, app: app)
        }
    }

    /// Rotates a token: a new token for the same session; the old one stops working. A retry with the old token
    /// inside the grace window returns the same new token; a retry after it is reuse and revokes the session.
    public func refresh(_ tokenString: String) throws(SessionError) -> Issued {
        let old = try authenticate(tokenString)
        // Also guards the retry inside the grace window: its successor was journaled by the first attempt, and
        // is on disk once the journal accepts changes again.
        try persistenceHook.checkAcceptsChanges()
        for _ in 0..<4 {
            statistics.recordLookup()
            let now = clock.nowMilliseconds()
            let (snapshot, strings) = map.withShard(for: old.id) { ($0[old.id], $0.strings(of: old.id)) }
            switch snapshot {
            case nil:
                throw .invalidToken
            case .revoked:
                throw .revoked
            case .rotated(let successor, let graceUntil, _):
                guard now <= graceUntil else {
                    statistics.recordReuse()
                    try? revokeChain(from: old.id)
                    throw .revoked
                }
                return try issuedView(of: successor, now: now)
            case .live(let record):
                // Check the entry as it is now, not the copy: a concurrent refresh may have rotated it meanwhile.
                let checked = try map.withShard(for: old.id) { (entries) throws(SessionError) -> AppConfiguration? in
                    guard case .live(let current) = entries[old.id], current.mac.matches(record.mac) else { return nil }
                    return try checkLive(current, strings: strings, id: old.id, now: now, in: &entries)
                }
                guard let app = checked else { continue }
                var successor = record
                successor.lastSeenAt = now
                entries.add(1, ordering: .relaxed)  // the old token's tombstone; refresh is never refused for space
                let newToken: SessionToken
                do throws(SessionError) {
                    newToken = try insertNew(&successor, strings: strings, appID: app.appID)
                } catch {
                    entries.subtract(1, ordering: .relaxed)
                    throw error
                }
                let swapped = map.withShard(for: old.id) { entries -> Bool in
                    guard case .live(let current) = entries[old.id], current.mac.matches(record.mac) else { return false }
                    entries[old.id] = .rotated(
                        successor: newToken, graceUntil: now + configuration.refreshGraceMilliseconds,
                        forgetAt: record.absoluteExpiresAt
                    )
                    return true
                }
                guard swapped else {
                    // Someone changed the session meanwhile (validate, refresh, revoke): undo and look again.
                    map.withShard(for: newToken.id) { _ = $0.removeValue(forKey: newToken.id) }
                    entries.subtract(1, ordering: .relaxed)
                    continue
                }
                try persistenceHook.refreshed(
                    old: old.id, successor: newToken, graceUntil: now + configuration.refreshGraceMilliseconds,
                    forgetAt: record.absoluteExpiresAt, record: successor, strings: strings, appID: app.appID
                )
                return Issued(
                    token: try encode(newToken), session: SessionSnapshot(record: successor, strings: strings, app: app)
                )
            }
        }
        throw .cryptoFailure("refresh did not settle under contention")
    }

    /// Ends the session of `tokenString` (following rotations to the current token).
    public func revoke(_ tokenString: String) throws(SessionError) {
        let token = try authenticate(tokenString)
        try persistenceHook.checkAcceptsChanges()
        statistics.recordLookup()
        let now = clock.nowMilliseconds()
        try map.withShard(for: token.id) { (entries) throws(SessionError) in
            switch entries[token.id] {
            case nil: throw .invalidToken
            case .revoked: throw .revoked
            case .rotated: break
            case .live(let record):
                _ = try checkLive(record, strings: entries.strings(of: token.id), id: token.id, now: now, in: &entries)
            }
        }
        try revokeChain(from: token.id)
    }

    /// Ends every live session of one user of one app; returns how many.
    public func revokeUser(appID: String, openid: String) throws(SessionError) -> Int {
        guard let appIndex = apps.index(of: appID) else { throw .unknownApp }
        try persistenceHook.checkAcceptsChanges()
        let idleTimeout = apps[appIndex].idleTimeoutMilliseconds
        let now = clock.nowMilliseconds()
        var revoked = 0
        var journaled: [(TokenID, Int64)] = []
        for shard in map.shards {
            revoked += shard.entries.withLockedValue { entries -> Int in
                var matches: [(TokenID, Int64)] = []
                entries.table.forEach { id, entry in
                    guard case .live(let record) = entry, record.appIndex == appIndex else { return }
                    let strings = entries.strings(of: id, record: record)
                    guard record.hasOpenID(openid, strings: strings),
                          now < record.expiresAt(idleTimeoutMilliseconds: idleTimeout),
                          record.verify(id: id, appID: appID, strings: strings, keyring: keyring)
                    else { return }
                    matches.append((id, record.absoluteExpiresAt))
                }
                for (id, forgetAt) in matches { entries[id] = .revoked(forgetAt: forgetAt) }
                journaled += matches
                return matches.count
            }
        }
        // Sessions that a concurrent REFRESH rotated into an already-scanned shard are caught by the watermark.
        let longestLifetime = apps.apps.map(\.absoluteLifetimeMilliseconds).max() ?? 0
        userRevocations.revoke(appIndex: appIndex, openid: openid, at: now, forgetAt: now + longestLifetime)
        try persistenceHook.revoked(journaled)
        return revoked
    }

    /// Removes expired sessions and tombstones whose time is up, and gives shrunken shards their memory back.
    /// Returns how many entries were removed.
    @discardableResult
    public func sweep() -> Int {
        let now = clock.nowMilliseconds()
        userRevocations.prune(now: now)
        var removed = 0
        for shard in map.shards {
            removed += shard.entries.withLockedValue { entries -> Int in
                let dead = entries.removeAll { isDead($0, now: now) }
                entries.shrinkIfSparse()
                return dead
            }
        }
        entries.subtract(removed, ordering: .relaxed)
        statistics.recordSwept(removed)
        return removed
    }

    // MARK: - Internals

    func authenticate(_ tokenString: String) throws(SessionError) -> SessionToken {
        guard let token = SessionToken.parse(tokenString, keyring: keyring) else {
            statistics.recordRejectedToken()
            throw .invalidToken
        }
        return token
    }

    func authenticate(utf8: UnsafeRawBufferPointer) throws(SessionError) -> SessionToken {
        guard let token = SessionToken.parse(utf8: utf8, keyring: keyring) else {
            statistics.recordRejectedToken()
            throw .invalidToken
        }
        return token
    }

    /// Verifies a live record and its deadlines; removes it when it fails either. Returns its app.
    func checkLive(
        _ record: SessionRecord, strings: SessionStrings, id: TokenID, now: Int64,
        in entries: inout SessionShardContents
    ) throws(SessionError) -> AppConfiguration {
        guard Int(record.appIndex) < apps.apps.count,
              record.verify(id: id, appID: apps[record.appIndex].appID, strings: strings, keyring: keyring)
        else {
            statistics.recordIntegrityFailure()
            if entries.removeValue(forKey: id) != nil { self.entries.subtract(1, ordering: .relaxed) }
            throw .invalidToken
        }
        let app = apps[record.appIndex]
        guard now < record.expiresAt(idleTimeoutMilliseconds: app.idleTimeoutMilliseconds) else {
            // Left in place: every reader gets the same TOKEN_EXPIRED until the sweep frees it.
            throw .expired
        }
        if userRevocations.isRevoked(
            appIndex: record.appIndex, openid: record.openidString(strings: strings), createdAt: record.createdAt
        ) {
            entries[id] = .revoked(forgetAt: record.absoluteExpiresAt)
            throw .revoked
        }
        return app
    }

    /// Seals `record` under a fresh token id and stores it. The caller has counted the entry.
    private func insertNew(
        _ record: inout SessionRecord, strings: SessionStrings, appID: String
    ) throws(SessionError) -> SessionToken {
        while true {
            let token: SessionToken
            do {
                token = try SessionToken.generate(keyring: keyring, random: random)
            } catch {
                throw .cryptoFailure(error.operation)
            }
            try seal(&record, id: token.id, strings: strings, appID: appID)
            let sealed = record
            let inserted = map.withShard(for: token.id) { entries -> Bool in
                guard entries[token.id] == nil else { return false }
                entries.insertLive(sealed, strings: strings, for: token.id)
                return true
            }
            if inserted { return token }
        }
    }

    func seal(_ record: inout SessionRecord, id: TokenID, strings: SessionStrings, appID: String) throws(SessionError) {
        do {
            try record.seal(id: id, appID: appID, strings: strings, keyID: keyring.primaryKeyID, key: keyring.primary)
        } catch {
            throw .cryptoFailure(error.operation)
        }
    }

    private func encode(_ token: SessionToken) throws(SessionError) -> String {
        do {
            return try token.encoded(keyring: keyring)
        } catch {
            throw .cryptoFailure(error.operation)
        }
    }

    /// The current state of a successor token, for a REFRESH retry inside the grace window.
    private func issuedView(of token: SessionToken, now: Int64) throws(SessionError) -> Issued {
        let session = try map.withShard(for: token.id) { (entries) throws(SessionError) -> SessionSnapshot in
            guard case .live(let record) = entries[token.id] else { throw .revoked }
            let strings = entries.strings(of: token.id, record: record)
            let app = try checkLive(record, strings: strings, id: token.id, now: now, in: &entries)
            return SessionSnapshot(record: record, strings: strings, app: app)
        }
        return Issued(token: try encode(token), session: session)
    }

    /// Marks `start` and every token it was rotated into as revoked. Throws `.storeUnavailable` when the journal
    /// could not keep the revocation (it holds in memory, and stays queued for the journal).
    private func revokeChain(from start: TokenID) throws(SessionError) {
        var next: TokenID? = start
        var hops = 0
        var journaled: [(TokenID, Int64)] = []
        while let id = next, hops < 64 {
            hops += 1
            next = map.withShard(for: id) { entries -> TokenID? in
                switch entries[id] {
                case .live(let record):
                    entries[id] = .revoked(forgetAt: record.absoluteExpiresAt)
                    journaled.append((id, record.absoluteExpiresAt))
                    return nil
                case .rotated(let successor, _, let forgetAt):
                    entries[id] = .revoked(forgetAt: forgetAt)
                    journaled.append((id, forgetAt))
                    return successor.id
                case .revoked, nil:
                    return nil
                }
            }
        }
        try persistenceHook.revoked(journaled)
    }

    private func isDead(_ entry: SessionEntry, now: Int64) -> Bool {
        switch entry {
        case .live(let record):
            guard Int(record.appIndex) < apps.apps.count else { return true }
            return now >= record.expiresAt(idleTimeoutMilliseconds: apps[record.appIndex].idleTimeoutMilliseconds)
        case .rotated(_, _, let forgetAt), .revoked(let forgetAt):
            return now >= forgetAt
        }
    }
}

extension SessionStore {
    /// The store's clock reading (PING answers with it).
    public var clockNow: Int64 { clock.nowMilliseconds() }
}
