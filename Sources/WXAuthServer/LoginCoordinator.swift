import Logging
import WXAuthProtocol
import WXAuthSessions
import WXAuthWeChat

/// LOGIN: asks WeChat who the code belongs to, then opens a session. The only operation that waits on I/O.
final class LoginCoordinator: Sendable {
    private let exchanger: any CodeExchanging
    private let store: SessionStore
    private let fingerprint: TokenFingerprint
    private let logger: Logger

    init(exchanger: any CodeExchanging, store: SessionStore, fingerprint: TokenFingerprint, logger: Logger) {
        self.exchanger = exchanger
        self.store = store
        self.fingerprint = fingerprint
        self.logger = logger
    }

    func login(appID: String, code: String) async -> Response {
        guard let app = store.apps.app(appID) else {
            return .error(ServerError(.unknownApp, "app \(appID) is not configured"))
        }
        let identity: WeChatIdentity
        do {
            identity = try await exchanger.exchange(appID: app.appID, secret: app.secret, code: code)
        } catch {
            logger.info("login refused by WeChat", metadata: ["app": "\(appID)", "outcome": "\(error)"])
            return .error(ServerError(error))
        }
        do {
            let issued = try store.create(
                appID: app.appID, openid: identity.openid, unionid: identity.unionid,
                sessionKeyBase64: identity.sessionKey
            )
            logger.debug("session opened", metadata: ["app": "\(appID)", "token": "\(fingerprint(issued.token))"])
            return .loggedIn(token: issued.token, session: issued.session)
        } catch {
            if case .cryptoFailure(let operation) = error {
                logger.error("no token issued: crypto failure", metadata: ["operation": "\(operation)"])
            }
            return .error(ServerError(error))
        }
    }
}
