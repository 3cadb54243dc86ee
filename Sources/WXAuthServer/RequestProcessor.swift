import Logging
import WXAuthProtocol
import WXAuthSessions

/// Turns a decoded request into its response. Everything but the WeChat calls (LOGIN, PHONE_NUMBER,
/// CHECK_SESSION_KEY, RESET_SESSION_KEY) is answered synchronously on the calling event loop; those return work to
/// run asynchronously so they never hold back the requests behind them.
final class RequestProcessor: Sendable {
    enum Outcome: Sendable {
        case immediate(Response)
        case deferred(@Sendable () async -> Response)
    }

    let store: SessionStore
    let callers: CallerRegistry
    private let login: LoginCoordinator
    private let userData: UserDataCoordinator
    private let fingerprint: TokenFingerprint
    private let logger: Logger

    init(
        store: SessionStore, callers: CallerRegistry, login: LoginCoordinator, userData: UserDataCoordinator,
        fingerprint: TokenFingerprint, logger: Logger
    ) {
        self.store = store
        self.callers = callers
        self.login = login
        self.userData = userData
        self.fingerprint = fingerprint
        self.logger = logger
    }

    /// Processes an authorized request (AUTH is handled by the connection state machine).
    func process(_ request: Request) -> Outcome {
        switch request {
        case .ping:
            return .immediate(.pong(serverTime: store.clockNow))
        case .auth:
            return .immediate(.error(ServerError(.malformedRequest, "already authenticated")))
        case .login(let appID, let code):
            return .deferred { [login] in await login.login(appID: appID, code: code) }
        case .validate(let token):
            return answer(token, "validate") { () throws(SessionError) in .validated(SessionView(try store.validate(token))) }
        case .refresh(let token):
            return answer(token, "refresh") { () throws(SessionError) in
                let issued = try store.refresh(token)
                return .refreshed(token: issued.token, session: SessionView(issued.session))
            }
        case .revoke(let token):
            return answer(token, "revoke") { () throws(SessionError) in
                try store.revoke(token)
                return .revoked
            }
        case .revokeUser(let appID, let openid):
            do {
                let count = try store.revokeUser(appID: appID, openid: openid)
                logger.info("user sessions revoked", metadata: ["app": "\(appID)", "count": "\(count)"])
                return .immediate(.userRevoked(count: UInt32(clamping: count)))
            } catch {
                return .immediate(.error(ServerError(error)))
            }
        case .decrypt(let token, let encryptedData, let iv):
            return .immediate(userData.decrypt(token: token, encryptedData: encryptedData, iv: iv))
        case .verifySignature(let token, let rawData, let signature):
            return .immediate(userData.verifySignature(token: token, rawData: rawData, signature: signature))
        case .phoneNumber(let token, let code):
            return .deferred { [userData] in await userData.phoneNumber(token: token, code: code) }
        case .checkSessionKey(let token):
            return .deferred { [userData] in await userData.checkSessionKey(token: token) }
        case .resetSessionKey(let token):
            return .deferred { [userData] in await userData.resetSessionKey(token: token) }
        }
    }

    private func answer(_ token: String, _ operation: String, _ body: () throws(SessionError) -> Response) -> Outcome {
        do {
            return .immediate(try body())
        } catch {
            if logger.logLevel <= .debug {
                logger.debug("\(operation) refused", metadata: ["token": "\(fingerprint(token))", "reason": "\(error)"])
            }
            if case .cryptoFailure(let operation) = error {
                logger.error("crypto failure", metadata: ["operation": "\(operation)"])
            }
            return .immediate(.error(ServerError(error)))
        }
    }
}
