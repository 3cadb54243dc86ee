/// Narrow access to the session_key for the user-data operations (DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY,
/// RESET_SESSION_KEY). The key is lent to a closure and never returned by any other API; callers must not keep,
/// log or send it anywhere but WeChat.
extension SessionStore {
    /// Checks `tokenString` exactly like `peek` (no sliding of the idle deadline) and calls `body` with the
    /// session's raw session_key and its public view. `body` runs outside the store's locks.
    public func withSessionKey<R>(
        _ tokenString: String, _ body: (_ sessionKey: SessionKey, _ session: SessionSnapshot) throws -> R
    ) throws -> R {
        let (key, session) = try lendSessionKey(tokenString)
        return try body(key, session)
    }

    /// The async form, for operations that ask WeChat about the key.
    public func withSessionKey<R: Sendable>(
        _ tokenString: String, _ body: (_ sessionKey: SessionKey, _ session: SessionSnapshot) async throws -> R
    ) async throws -> R {
        let (key, session) = try lendSessionKey(tokenString)
        return try await body(key, session)
    }

    /// Stores `newKey` in the session of `tokenString` (after RESET_SESSION_KEY), provided the session still holds
    /// `previousKey` (a concurrent reset wins once; the loser gets `false`). The record is re-sealed and reported
    /// to the journal. Other sessions of the same user keep their keys (which WeChat no longer accepts).
    @discardableResult
    public func replaceSessionKey(_ tokenString: String, previousKey: SessionKey, newKey: SessionKey) throws(SessionError) -> Bool {
        let token = try authenticate(tokenString)
        try persistenceHook.checkAcceptsChanges()
        statistics.recordLookup()
        let now = clock.nowMilliseconds()
        let outcome = try map.withShard(for: token.id) {
            (entries) throws(SessionError) -> (SessionRecord, SessionStrings, String)? in
            guard let entry = entries[token.id] else { throw .invalidToken }
            guard case .live(var record) = entry else { throw .revoked }
            let strings = entries.strings(of: token.id, record: record)
            let app = try checkLive(record, strings: strings, id: token.id, now: now, in: &entries)
            guard record.sessionKey == previousKey else { return nil }
            record.sessionKey = newKey
            // Strictly later than any earlier copy, so a journal replay keeps this one (SessionStore.restore).
            record.lastSeenAt = max(now, record.lastSeenAt + 1)
            try seal(&record, id: token.id, strings: strings, appID: app.appID)
            entries[token.id] = .live(record)
            return (record, strings, app.appID)
        }
        guard let (record, strings, appID) = outcome else { return false }
        try persistenceHook.created(id: token.id, record: record, strings: strings, appID: appID)
        return true
    }

    private func lendSessionKey(_ tokenString: String) throws(SessionError) -> (SessionKey, SessionSnapshot) {
        let token = try authenticate(tokenString)
        statistics.recordLookup()
        let now = clock.nowMilliseconds()
        return try map.withShard(for: token.id) { (entries) throws(SessionError) -> (SessionKey, SessionSnapshot) in
            guard let entry = entries[token.id] else { throw .invalidToken }
            guard case .live(let record) = entry else { throw .revoked }
            let strings = entries.strings(of: token.id, record: record)
            let app = try checkLive(record, strings: strings, id: token.id, now: now, in: &entries)
            return (record.sessionKey, SessionSnapshot(record: record, strings: strings, app: app))
        }
    }
}
