import NIOConcurrencyHelpers
import Synchronization
import WXAuthCrypto

/// Where the store reports mutations when a journal is attached. Costs one relaxed atomic load per mutation when
/// none is.
final class SessionJournalHook: Sendable {
    private let journal = NIOLockedValueBox<(any SessionJournal)?>(nil)
    private let attached = Atomic<Bool>(false)

    func attach(_ newJournal: (any SessionJournal)?) {
        journal.withLockedValue { $0 = newJournal }
        attached.store(newJournal != nil, ordering: .releasing)
    }

    private var current: (any SessionJournal)? {
        guard attached.load(ordering: .acquiring) else { return nil }
        return journal.withLockedValue { $0 }
    }

    /// Throws `.storeUnavailable` while the attached journal cannot keep changes. Called before every change.
    func checkAcceptsChanges() throws(SessionError) {
        guard let journal = current, !journal.acceptsChanges else { return }
        throw .storeUnavailable
    }

    func created(id: TokenID, record: SessionRecord, strings: SessionStrings, appID: String) throws(SessionError) {
        guard current != nil else { return }
        try self.record([PersistedEntry(id: id, state: .live(record.persisted(appID: appID, strings: strings)))])
    }

    func refreshed(
        old: TokenID, successor: SessionToken, graceUntil: Int64, forgetAt: Int64, record: SessionRecord,
        strings: SessionStrings, appID: String
    ) throws(SessionError) {
        guard current != nil else { return }
        try self.record([
            PersistedEntry(id: successor.id, state: .live(record.persisted(appID: appID, strings: strings))),
            PersistedEntry(id: old, state: .rotated(successor: successor, graceUntil: graceUntil, forgetAt: forgetAt)),
        ])
    }

    func revoked(_ tombstones: [(TokenID, Int64)]) throws(SessionError) {
        guard !tombstones.isEmpty else { return }
        try record(tombstones.map { PersistedEntry(id: $0.0, state: .revoked(forgetAt: $0.1)) })
    }

    private func record(_ entries: [PersistedEntry]) throws(SessionError) {
        guard let journal = current else { return }
        do {
            try journal.record(entries)
        } catch {
            throw .storeUnavailable
        }
    }
}

extension SessionRecord {
    func persisted(appID: String, strings: SessionStrings) -> PersistedSession {
        PersistedSession(
            keyID: keyID, appID: appID, openid: openidString(strings: strings), unionid: unionid(strings: strings),
            sessionKey: sessionKey, createdAt: createdAt, lastSeenAt: lastSeenAt, absoluteExpiresAt: absoluteExpiresAt,
            mac: mac
        )
    }
}

/// What became of one entry offered to `SessionStore.restore`.
public enum RestoreOutcome: Sendable, Hashable {
    /// Now in the store (new, or replacing an older state of the same token).
    case restored
    /// The store already holds this token in the same or a later state.
    case superseded
    /// The session's deadline or the tombstone's time has passed.
    case expired
    /// The app is no longer configured.
    case unknownApp
    /// The record's MAC does not verify under the configured keys (altered, or its key was removed).
    case integrityFailure
}

extension SessionStore {
    /// Reports every later LOGIN, REFRESH, REVOKE and REVOKE_USER to `journal` (nil stops reporting).
    public func attachJournal(_ journal: (any SessionJournal)?) {
        persistenceHook.attach(journal)
    }

    /// False while the attached journal cannot keep changes: LOGIN, REFRESH, REVOKE and REVOKE_USER then fail with
    /// `.storeUnavailable`. LOGIN checks this before it spends the user's code at WeChat.
    public var acceptsChanges: Bool {
        (try? persistenceHook.checkAcceptsChanges()) != nil
    }

    /// Calls `body` with every entry that is still alive at `now` (live sessions within their deadlines, tombstones
    /// not yet forgotten). Each shard is copied under its lock (copy-on-write, so the lock is held for a moment)
    /// and walked outside it; concurrent mutations are reported through the journal, whose replay is idempotent.
    public func forEachPersistedEntry<E: Error>(now: Int64, _ body: (PersistedEntry) throws(E) -> Void) throws(E) {
        for shard in map.shards {
            let copy = shard.entries.withLockedValue { $0 }
            try copy.table.forEach { (id, entry) throws(E) in
                switch entry {
                case .live(let record):
                    guard Int(record.appIndex) < apps.apps.count else { return }
                    let app = apps[record.appIndex]
                    guard now < record.expiresAt(idleTimeoutMilliseconds: app.idleTimeoutMilliseconds) else { return }
                    let strings = copy.strings(of: id, record: record)
                    try body(PersistedEntry(id: id, state: .live(record.persisted(appID: app.appID, strings: strings))))
                case .rotated(let successor, let graceUntil, let forgetAt):
                    guard now < forgetAt else { return }
                    try body(PersistedEntry(id: id, state: .rotated(successor: successor, graceUntil: graceUntil, forgetAt: forgetAt)))
                case .revoked(let forgetAt):
                    guard now < forgetAt else { return }
                    try body(PersistedEntry(id: id, state: .revoked(forgetAt: forgetAt)))
                }
            }
        }
    }

    /// Sizes every shard for `count` entries spread evenly (plus 5% for the unevenness of random ids), so restoring
    /// a snapshot of that many does not rebuild tables on the way. Never shrinks.
    public func reserveCapacity(forEntries count: Int) {
        let perShard = count / map.shards.count
        let reserve = perShard + perShard / 20 + 16
        for shard in map.shards {
            shard.entries.withLockedValue { $0.table.reserveCapacity(reserve) }
        }
    }

    /// Puts one persisted entry back. A live session must belong to a configured app, verify under the keyring
    /// and still be within its deadlines (under the app's current idle timeout); a tombstone must not be past its
    /// time. When the token is already present the later state wins (live < rotated < revoked; between two live
    /// copies the one seen more recently), so snapshot and journal can be applied in any order, any number of
    /// times. Not counted against `maxEntries` (restoring never logs anyone out), but counted in `entryCount`.
    @discardableResult
    public func restore(_ entry: PersistedEntry, now: Int64) -> RestoreOutcome {
        let value: SessionEntry
        var strings = SessionStrings.none
        var lastSeen: Int64 = .min
        switch entry.state {
        case .live(let session):
            guard let appIndex = apps.index(of: session.appID) else { return .unknownApp }
            // Kept as persisted (an empty unionid stays "present and empty"): the MAC covers exactly that.
            strings = SessionStrings(
                longOpenid: session.openid.utf8.count > InlineOpenID.capacity ? session.openid : nil,
                unionid: session.unionid.flatMap { $0.isEmpty ? nil : $0 }
            )
            let record = SessionRecord(
                sessionKey: session.sessionKey, createdAt: session.createdAt, lastSeenAt: session.lastSeenAt,
                absoluteExpiresAt: session.absoluteExpiresAt, mac: session.mac, openid: InlineOpenID(session.openid),
                keyID: session.keyID, appIndex: appIndex, hasUnionid: session.unionid != nil
            )
            guard record.verify(id: entry.id, appID: session.appID, strings: strings, keyring: keyring) else {
                statistics.recordIntegrityFailure()
                return .integrityFailure
            }
            guard now < record.expiresAt(idleTimeoutMilliseconds: apps[appIndex].idleTimeoutMilliseconds) else {
                return .expired
            }
            value = .live(record)
            lastSeen = record.lastSeenAt
        case .rotated(let successor, let graceUntil, let forgetAt):
            guard now < forgetAt else { return .expired }
            value = .rotated(successor: successor, graceUntil: graceUntil, forgetAt: forgetAt)
        case .revoked(let forgetAt):
            guard now < forgetAt else { return .expired }
            value = .revoked(forgetAt: forgetAt)
        }
        let rank = entry.rank
        let outcome = map.withShard(for: entry.id) { entries -> RestoreOutcome? in
            if let existing = entries[entry.id] {
                let existingRank: Int
                switch existing {
                case .live(let current):
                    existingRank = 0
                    if rank == 0 && current.lastSeenAt >= lastSeen { return .superseded }
                case .rotated: existingRank = 1
                case .revoked: existingRank = 2
                }
                if existingRank > rank || (existingRank == rank && rank != 0) { return .superseded }
                entries.store(value, strings: strings, for: entry.id)
                return .restored
            }
            entries.store(value, strings: strings, for: entry.id)
            return nil
        }
        guard let outcome else {
            entries.add(1, ordering: .relaxed)
            return .restored
        }
        return outcome
    }
}
