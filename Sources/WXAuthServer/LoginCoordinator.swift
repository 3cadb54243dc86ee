import Logging
import WXAuthProtocol
import WXAuthSessions
import WXAuthSharedStore
import WXAuthWeChat

/// LOGIN: asks WeChat who the code belongs to, then opens a session. The only operation that waits on I/O.
/// Same-code LOGINs are coalesced and their outcome remembered (`CodeOutcomeCache`); LOGINs are rate limited per
/// app (before WeChat is asked, to protect the app's quota) and per user (after, before a session is made).
/// A caller waits at most `deadline` (`UpstreamPolicy.callTimeout`); the WeChat call behind it runs on and its
/// outcome is kept for the code, so a retry with the same code gets the session WeChat's answer made.
final class LoginCoordinator: Sendable {
    private let exchanger: any CodeExchanging
    private let store: SessionBackend
    private let fingerprint: TokenFingerprint
    private let outcomes = CodeOutcomeCache()
    private let unusedIdentities = UnusedIdentityCache()
    private let perApp: any LoginRateLimiting
    private let perUser: any LoginRateLimiting
    /// With the shared store: one jscode2session per code across nodes (the code's outcome is kept in Redis).
    private let sharedOutcomes: SharedCodeOutcomes?
    private let deadline: Duration
    private let logger: Logger

    init(
        exchanger: any CodeExchanging, store: SessionBackend, fingerprint: TokenFingerprint,
        perApp: RateLimit, perUser: RateLimit, coordination: ClusterCoordination? = nil, deadline: Duration, logger: Logger
    ) {
        self.exchanger = exchanger
        self.store = store
        self.fingerprint = fingerprint
        self.perApp = coordination?.perApp ?? KeyedRateLimiter(limit: perApp)
        self.perUser = coordination?.perUser ?? KeyedRateLimiter(limit: perUser)
        self.sharedOutcomes = coordination?.codeOutcomes
        self.deadline = deadline
        self.logger = logger
    }

    func login(appID: String, code: String) async -> Response {
        guard let app = store.apps.app(appID) else {
            return .error(ServerError(.unknownApp, "app \(appID) is not configured"))
        }
        let key = appID + "\u{0}" + fingerprint(code)
        let outcome = await outcomes.outcome(for: key, waitingAtMost: deadline) { [self] in
            await performLoginOnce(app: app, code: code, key: key)
        }
        guard let response = outcome else {
            logger.info("login answer late: caller answered, WeChat call runs on", metadata: ["app": "\(appID)"])
            return .error(ServerError(
                .wechatUnavailable, "WeChat did not answer in time; retry with the same code (its outcome is kept)",
                errcode: 0
            ))
        }
        // A remembered session that has since ended (revoked, rotated, expired) is not handed out again: for that
        // caller the code is simply used, as WeChat would say.
        if case .loggedIn(let token, _) = response, (try? await store.peek(token)) == nil {
            return .error(ServerError(.wechatRejected, "code been used; its session has ended", errcode: 40163))
        }
        return response
    }

    /// With the shared store, the code's outcome is produced by one node and read by the others (a node waits up
    /// to the LOGIN deadline for another's WeChat call); otherwise this node performs the LOGIN.
    private func performLoginOnce(app: AppConfiguration, code: String, key: String) async -> Response {
        guard let sharedOutcomes else { return await performLogin(app: app, code: code, key: key) }
        do {
            // Named by the code itself (SharedCodeOutcomes keys it with the deployment's secret): `key` is keyed
            // with this process's own fingerprint key, which other nodes do not share.
            let shared = try await sharedOutcomes.outcome(for: app.appID + "\u{0}" + code, waitingAtMost: deadline) { [self] in
                SharedLoginOutcome.encode(await performLogin(app: app, code: code, key: key))
            }
            guard let shared else {
                return .error(ServerError(
                    .wechatUnavailable, "another node's WeChat call for this code did not finish in time; retry with the same code",
                    errcode: 0))
            }
            return SharedLoginOutcome.decode(shared) ?? .error(ServerError(.internalError, "internal error"))
        } catch {
            logger.warning("login code coordination unavailable", metadata: ["app": "\(app.appID)"])
            return .error(ServerError(SessionError.storeUnavailable))
        }
    }

    private func performLogin(app: AppConfiguration, code: String, key: String) async -> Response {
        // A session that could not be kept is refused before the user's code is spent at WeChat.
        guard store.acceptsChanges else { return .error(ServerError(SessionError.storeUnavailable)) }
        let identity: WeChatIdentity
        if let kept = unusedIdentities.take(key) {
            // WeChat already answered for this code (a retry after RATE_LIMITED or STORE_UNAVAILABLE).
            identity = kept
        } else {
            if let wait = await perApp.acquire(app.appID) {
                return .error(Self.rateLimited(wait, "too many logins for this app"))
            }
            do {
                identity = try await exchanger.exchange(appID: app.appID, secret: app.secret, code: code)
            } catch {
                logger.info("login refused by WeChat", metadata: ["app": "\(app.appID)", "outcome": "\(error)"])
                return .error(ServerError(error))
            }
        }
        if let wait = await perUser.acquire(app.appID + "\u{0}" + identity.openid) {
            logger.info("login rate limited per user", metadata: ["app": "\(app.appID)"])
            unusedIdentities.keep(identity, for: key)
            return .error(Self.rateLimited(wait, "too many logins for this user"))
        }
        do {
            let issued = try await store.create(
                appID: app.appID, openid: identity.openid, unionid: identity.unionid,
                sessionKeyBase64: identity.sessionKey
            )
            logger.debug("session opened", metadata: ["app": "\(app.appID)", "token": "\(fingerprint(issued.token))"])
            return .loggedIn(token: issued.token, session: SessionView(issued.session))
        } catch {
            switch error {
            case .cryptoFailure(let operation):
                logger.error("no token issued: crypto failure", metadata: ["operation": "\(operation)"])
            case .storeUnavailable, .full:
                // The code is spent at WeChat: keep its answer so a retry with the same code gets the session.
                unusedIdentities.keep(identity, for: key)
            default:
                break
            }
            return .error(ServerError(error))
        }
    }

    private static func rateLimited(_ wait: Duration, _ message: String) -> ServerError {
        ServerError(.rateLimited, message, errcode: 0, retryAfterMilliseconds: UInt32(clamping: max(wait.wholeMilliseconds, 1)))
    }
}
