import WXAuthCrypto

/// A live session as it leaves or enters the store for persistence: the record with its app id spelled out (so a
/// reordered app list cannot move a session to another app) and its MAC, which is verified again on import.
public struct PersistedSession: Sendable {
    public var keyID: UInt8
    public var appID: String
    public var openid: String
    public var unionid: String?
    public var sessionKey: SessionKey
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var absoluteExpiresAt: Int64
    public var mac: Tag128

    public init(
        keyID: UInt8, appID: String, openid: String, unionid: String?, sessionKey: SessionKey, createdAt: Int64,
        lastSeenAt: Int64, absoluteExpiresAt: Int64, mac: Tag128
    ) {
        self.keyID = keyID
        self.appID = appID
        self.openid = openid
        self.unionid = unionid
        self.sessionKey = sessionKey
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.mac = mac
    }
}

/// One slot of the session map as persisted: a live session or a tombstone, under its token id.
public struct PersistedEntry: Sendable {
    public enum State: Sendable {
        case live(PersistedSession)
        /// Replaced by REFRESH (see `SessionEntry.rotated`).
        case rotated(successor: SessionToken, graceUntil: Int64, forgetAt: Int64)
        case revoked(forgetAt: Int64)
    }

    public var id: TokenID
    public var state: State

    public init(id: TokenID, state: State) {
        self.id = id
        self.state = state
    }

    /// Entries of one token only move forward: live, then rotated, then revoked. Replay keeps the highest rank, so
    /// the order in which concurrent mutations reached the journal does not matter.
    var rank: Int {
        switch state {
        case .live: 0
        case .rotated: 1
        case .revoked: 2
        }
    }
}

/// Receives every mutation of the store that must survive a restart: LOGIN, REFRESH, REVOKE, REVOKE_USER (and the
/// revocations that reuse detection causes). VALIDATE is not reported (only its idle deadline moves; snapshots
/// carry it). Called after the change took effect in memory, outside the shard locks, on the caller's thread;
/// one call is one atomic change (a REFRESH reports the tombstone and the new session together).
public protocol SessionJournal: Sendable {
    /// False while earlier changes could not be written (they are kept and retried). The store then refuses
    /// every change before making it, so nothing is acknowledged that would be lost.
    var acceptsChanges: Bool { get }
    /// Records one atomic change. Throws when the change cannot be kept as the flush policy promises: it could
    /// not be encoded, or (policy `always`) its write or sync failed. The change stays queued and is retried
    /// ahead of anything later, so a later success means it is on disk too.
    func record(_ entries: [PersistedEntry]) throws(JournalRecordFailure)
}

/// Why `SessionJournal.record` could not keep a change. The description never contains session data.
public struct JournalRecordFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
