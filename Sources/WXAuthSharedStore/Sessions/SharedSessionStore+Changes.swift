import Foundation
import NIOCore
import WXAuthCrypto
import WXAuthRedis
import WXAuthSessions

/// LOGIN, REFRESH, REVOKE, REVOKE_USER and the session_key operations of the shared store. Each change is one
/// script on the session's slot; those that rewrite the sealed record read it, build the new record here (only
/// wxauthd holds the keys) and swap it in with a compare-and-set, reading again if another node changed it first.
extension SharedSessionStore {
    /// Opens a session for a user WeChat just identified; refused (`.revoked`) when a REVOKE_USER of that user ran
    /// at or after this LOGIN's creation time on any node.
    public func create(appID: String, openid: String, unionid: String?, sessionKeyBase64: String) async throws(SessionError) -> SessionStore.Issued {
        guard let appIndex = apps.index(of: appID) else { throw .unknownApp }
        guard let raw = Data(base64Encoded: sessionKeyBase64), let sessionKey = SessionKey(bytes: Array(raw)) else {
            throw .malformedSessionKey
        }
        let app = apps[appIndex]
        let user = SharedUserName(appID: appID, openid: openid)
        for _ in 0..<4 {
            let now = clock.nowMilliseconds()
            let id: SharedSessionID
            let record: SharedSessionRecord
            do {
                id = try SharedSessionID.generate(slotTag: user.slotTag, random: random)
                record = try SharedSessionRecord(
                    session: id, appID: appID, openid: openid, unionid: unionid, sessionKey: sessionKey, createdAt: now,
                    absoluteExpiresAt: now + app.absoluteLifetimeMilliseconds, keyring: keyring, random: random)
            } catch {
                throw .cryptoFailure(error.operation)
            }
            let value = try encode(record, id, idle: app.idleTimeoutMilliseconds)
            let reply: RESP3Value
            do {
                reply = try await client.run(
                    SessionScripts.create,
                    keys: [id.keyName, user.indexKeyName, user.watermarkKeyName].map { ByteBuffer(string: $0) },
                    arguments: [
                        ByteBuffer(bytes: value),
                        ByteBuffer(string: String(timeToLive(record, idle: app.idleTimeoutMilliseconds, now: now))),
                        ByteBuffer(string: String(record.createdAt)), ByteBuffer(string: String(record.absoluteExpiresAt)),
                        ByteBuffer(string: String(now)),
                    ],
                    timeout: configuration.commandTimeout)
            } catch {
                throw unavailable("login", error)
            }
            switch reply.integer {
            case 1:
                let token = try encodeToken(SharedSessionToken(keyID: keyring.primaryKeyID, session: id, generation: 1))
                return SessionStore.Issued(
                    token: token, session: record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: app.idleTimeoutMilliseconds))
            case 0:
                throw .revoked
            default:
                continue
            }
        }
        throw .cryptoFailure("no free session id after 4 draws")
    }

    /// Rotates a token (PROTOCOL.md REFRESH): the next generation of the same session; a retry with the old token
    /// inside the grace window gets the same new token; an older token, or the old one after the window, is reuse
    /// and revokes the session.
    public func refresh(_ tokenString: String) async throws(SessionError) -> SessionStore.Issued {
        let token = try authenticate(tokenString)
        for _ in 0..<4 {
            let now = clock.nowMilliseconds()
            let (value, raw) = try await read(token.session, fill: false)
            guard case .live(let record) = value else { throw .revoked }
            guard let appIndex = apps.index(of: record.appID) else { throw .invalidToken }
            let idle = apps[appIndex].idleTimeoutMilliseconds
            if token.generation + 1 == record.generation, now <= record.graceUntil {
                guard now < record.expiresAt(idleTimeoutMilliseconds: idle) else { throw .expired }
                let current = try encodeToken(SharedSessionToken(keyID: keyring.primaryKeyID, session: token.session, generation: record.generation))
                return SessionStore.Issued(token: current, session: record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle))
            }
            switch judge(value, token: token, now: now) {
            case .refused(let error):
                throw error
            case .reuse:
                throw try await revokeForReuse(token.session, now: now)
            case .live:
                var next = record
                next.generation = record.generation &+ 1
                next.graceUntil = now + configuration.refreshGraceMilliseconds
                next.lastSeenAt = max(now, record.lastSeenAt)
                let replacement = try encode(next, token.session, idle: idle)
                guard try await compareAndSet(
                    token.session, expected: raw, replacement: replacement, ttl: timeToLive(next, idle: idle, now: now))
                else { continue }
                let issued = try encodeToken(SharedSessionToken(keyID: keyring.primaryKeyID, session: token.session, generation: next.generation))
                return SessionStore.Issued(token: issued, session: next.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle))
            }
        }
        throw .storeUnavailable
    }

    /// Ends the session of `tokenString` (its current or any rotated token).
    public func revoke(_ tokenString: String) async throws(SessionError) {
        let token = try authenticate(tokenString)
        let now = clock.nowMilliseconds()
        let (value, _) = try await read(token.session, fill: false)
        guard case .live(let record) = value else { throw .revoked }
        guard token.generation <= record.generation else { throw .invalidToken }
        if token.generation == record.generation, case .refused(let error) = judge(value, token: token, now: now) {
            throw error
        }
        guard try await revokeSession(token.session, now: now) else { throw .revoked }
    }

    /// Ends every session of one user of one app, on whichever node made them; returns how many were live.
    /// The user's watermark refuses any LOGIN of that user created before now that has not landed yet.
    public func revokeUser(appID: String, openid: String) async throws(SessionError) -> Int {
        guard apps.index(of: appID) != nil else { throw .unknownApp }
        let user = SharedUserName(appID: appID, openid: openid)
        let now = clock.nowMilliseconds()
        let longestLifetime = apps.apps.map(\.absoluteLifetimeMilliseconds).max() ?? 1
        let reply: RESP3Value
        do {
            reply = try await client.run(
                SessionScripts.revokeUser, keys: [user.indexKeyName, user.watermarkKeyName].map { ByteBuffer(string: $0) },
                arguments: [ByteBuffer(string: String(now)), ByteBuffer(string: String(longestLifetime))],
                timeout: configuration.commandTimeout)
        } catch {
            throw unavailable("revoke_user", error)
        }
        // This node's copies go at once; other nodes' through the invalidations the script's writes cause.
        _ = cache.invalidateAll { value in
            guard case .live(let record) = value else { return false }
            return record.appID == appID && record.openid == openid
        }
        return Int(reply.integer ?? 0)
    }

    // MARK: session_key

    /// Lends the session's session_key to `body` (DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY, RESET_SESSION_KEY),
    /// checking the token like `peek`. The key is opened for this call only and never kept.
    public func withSessionKey<R: Sendable>(
        _ tokenString: String, _ body: (_ sessionKey: SessionKey, _ session: SessionSnapshot) async throws -> R
    ) async throws -> R {
        let (record, appIndex, idle, token) = try await liveRecord(tokenString)
        let key: SessionKey
        do {
            key = try record.sessionKey(session: token.session, keyring: keyring)
        } catch {
            statistics.recordIntegrityFailure()
            throw SessionError.invalidToken
        }
        return try await body(key, record.snapshot(appIndex: appIndex, idleTimeoutMilliseconds: idle))
    }

    /// Stores `newKey` after RESET_SESSION_KEY, if the session still holds `previousKey` (false otherwise).
    public func replaceSessionKey(_ tokenString: String, previousKey: SessionKey, newKey: SessionKey) async throws(SessionError) -> Bool {
        let token = try authenticate(tokenString)
        for _ in 0..<4 {
            let now = clock.nowMilliseconds()
            let (value, raw) = try await read(token.session, fill: false)
            var record: SharedSessionRecord
            let idle: Int64
            switch judge(value, token: token, now: now) {
            case .live(let live, _, let liveIdle): (record, idle) = (live, liveIdle)
            case .refused(let error): throw error
            case .reuse: throw .revoked
            }
            do {
                guard try record.sessionKey(session: token.session, keyring: keyring) == previousKey else { return false }
                try record.replaceSessionKey(newKey, session: token.session, keyring: keyring, random: random)
            } catch {
                throw .cryptoFailure(error.operation)
            }
            record.lastSeenAt = max(now, record.lastSeenAt)
            let replacement = try encode(record, token.session, idle: idle)
            if try await compareAndSet(token.session, expected: raw, replacement: replacement, ttl: timeToLive(record, idle: idle, now: now)) {
                return true
            }
        }
        return false
    }

    func encodeToken(_ token: SharedSessionToken) throws(SessionError) -> String {
        do {
            return try token.encoded(keyring: keyring)
        } catch {
            throw .cryptoFailure(error.operation)
        }
    }
}
