import WXAuthSessions
import WXAuthSharedStore

/// Where sessions live: this process's sharded map (the default, optionally persisted to disk) or Redis shared by
/// several nodes (`--store redis://...`). The operations that wait on I/O anyway (LOGIN, the user-data calls) go
/// through here; `RequestProcessor` answers the in-memory hot path itself, synchronously.
enum SessionBackend: Sendable {
    case memory(SessionStore)
    case shared(SharedSessionStore)

    var apps: AppRegistry {
        switch self {
        case .memory(let store): store.apps
        case .shared(let store): store.apps
        }
    }

    var clockNow: Int64 {
        switch self {
        case .memory(let store): store.clockNow
        case .shared(let store): store.clockNow
        }
    }

    /// False while a change could not be kept (the journal is failing). Redis answers that per call instead.
    var acceptsChanges: Bool {
        switch self {
        case .memory(let store): store.acceptsChanges
        case .shared: true
        }
    }

    func create(appID: String, openid: String, unionid: String?, sessionKeyBase64: String) async throws(SessionError) -> SessionStore.Issued {
        switch self {
        case .memory(let store):
            try store.create(appID: appID, openid: openid, unionid: unionid, sessionKeyBase64: sessionKeyBase64)
        case .shared(let store):
            try await store.create(appID: appID, openid: openid, unionid: unionid, sessionKeyBase64: sessionKeyBase64)
        }
    }

    func peek(_ token: String) async throws(SessionError) -> SessionSnapshot {
        switch self {
        case .memory(let store): try store.peek(token)
        case .shared(let store): try await store.peek(token)
        }
    }

    func withSessionKey<R: Sendable>(
        _ token: String, _ body: (_ sessionKey: SessionKey, _ session: SessionSnapshot) async throws -> R
    ) async throws -> R {
        switch self {
        case .memory(let store): try await store.withSessionKey(token, body)
        case .shared(let store): try await store.withSessionKey(token, body)
        }
    }

    func replaceSessionKey(_ token: String, previousKey: SessionKey, newKey: SessionKey) async throws(SessionError) -> Bool {
        switch self {
        case .memory(let store): try store.replaceSessionKey(token, previousKey: previousKey, newKey: newKey)
        case .shared(let store): try await store.replaceSessionKey(token, previousKey: previousKey, newKey: newKey)
        }
    }
}
