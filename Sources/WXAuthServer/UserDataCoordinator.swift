import Logging
import WXAuthCrypto
import WXAuthProtocol
import WXAuthSessions
import WXAuthWeChat

/// The user-data operations: DECRYPT and VERIFY_SIGNATURE (local, answered at once) and PHONE_NUMBER,
/// CHECK_SESSION_KEY and RESET_SESSION_KEY (which ask WeChat). The session_key is borrowed from the store for the
/// duration of one operation and never appears in a response or a log line.
final class UserDataCoordinator: Sendable {
    private let store: SessionBackend
    private let wechat: (any WeChatUserDataCalling)?
    private let policy: UserDataPolicy
    private let fingerprint: TokenFingerprint
    private let logger: Logger

    init(
        store: SessionBackend, wechat: (any WeChatUserDataCalling)?, policy: UserDataPolicy,
        fingerprint: TokenFingerprint, logger: Logger
    ) {
        self.store = store
        self.wechat = wechat
        self.policy = policy
        self.fingerprint = fingerprint
        self.logger = logger
    }

    // MARK: Local

    func decrypt(token: String, encryptedData: String, iv: String) -> Response {
        answer(token, "decrypt") { key, session in decrypted(token, key, session, encryptedData: encryptedData, iv: iv) }
    }

    /// DECRYPT when the session is in the shared store (its key comes from Redis).
    func decryptShared(token: String, encryptedData: String, iv: String) async -> Response {
        await answerAsync(token, "decrypt") { key, session in decrypted(token, key, session, encryptedData: encryptedData, iv: iv) }
    }

    private func decrypted(_ token: String, _ key: SessionKey, _ session: SessionView, encryptedData: String, iv: String) -> Response {
        let maxAge = policy.maxWatermarkAge(appID: session.appID)
        do throws(UserDataError) {
            let decrypted = try WeChatUserData.decrypt(
                encryptedData: encryptedData, iv: iv, sessionKey: key.bytes, expectedAppID: session.appID,
                maxAgeMilliseconds: maxAge, nowMilliseconds: store.clockNow
            )
            return .decrypted(json: decrypted.json)
        } catch {
            logger.debug("decrypt refused", metadata: [
                "app": "\(session.appID)", "token": "\(fingerprint(token))", "reason": "\(error.reason.name)",
            ])
            return .error(ServerError(error))
        }
    }

    func verifySignature(token: String, rawData: String, signature: String) -> Response {
        answer(token, "verify_signature") { key, _ in verified(key, rawData: rawData, signature: signature) }
    }

    /// VERIFY_SIGNATURE when the session is in the shared store.
    func verifySignatureShared(token: String, rawData: String, signature: String) async -> Response {
        await answerAsync(token, "verify_signature") { key, _ in verified(key, rawData: rawData, signature: signature) }
    }

    private func verified(_ key: SessionKey, rawData: String, signature: String) -> Response {
        do throws(CryptoError) {
            guard try WeChatUserData.signatureMatches(rawData: rawData, signature: signature, sessionKey: key.bytes) else {
                return .error(ServerError(
                    .signatureMismatch,
                    "signature is not sha1(rawData + session_key): altered data, or signed with an older session_key"))
            }
            return .signatureVerified
        } catch {
            logger.error("crypto failure", metadata: ["operation": "\(error.operation)"])
            return .error(ServerError(.internalError, "internal error"))
        }
    }

    // MARK: WeChat

    func phoneNumber(token: String, code: String) async -> Response {
        let session: SessionView
        do {
            session = SessionView(try await store.peek(token))
        } catch {
            return refused(token, "phone_number", error)
        }
        guard let wechat, let app = store.apps.app(session.appID) else { return Self.notConfigured }
        do {
            let info = try await wechat.phoneNumber(appID: app.appID, secret: app.secret, code: code)
            guard info.watermarkAppID == app.appID else {
                logger.warning("phone number watermark names another app", metadata: ["app": "\(app.appID)"])
                return .error(ServerError(
                    .decryptFailed, "the phone number's watermark names another app", reason: .appIDMismatch))
            }
            return .phoneNumber(PhoneNumber(
                phoneNumber: info.phoneNumber, purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode))
        } catch {
            return .error(ServerError(error))
        }
    }

    func checkSessionKey(token: String) async -> Response {
        guard let wechat else { return Self.notConfigured }
        return await answerAsync(token, "check_session_key") { key, session in
            guard let app = store.apps.app(session.appID) else { return Self.notConfigured }
            let signature = try WeChatUserData.sessionKeySignature(sessionKey: key.bytes)
            do throws(WeChatError) {
                let current = try await wechat.checkSessionKey(
                    appID: app.appID, secret: app.secret, openid: session.openid, signature: signature)
                return .sessionKeyChecked(current: current)
            } catch {
                return .error(ServerError(error))
            }
        }
    }

    func resetSessionKey(token: String) async -> Response {
        guard let wechat else { return Self.notConfigured }
        return await answerAsync(token, "reset_session_key") { key, session in
            guard let app = store.apps.app(session.appID) else { return Self.notConfigured }
            let signature = try WeChatUserData.sessionKeySignature(sessionKey: key.bytes)
            let fresh: String
            do throws(WeChatError) {
                fresh = try await wechat.resetSessionKey(
                    appID: app.appID, secret: app.secret, openid: session.openid, signature: signature)
            } catch {
                if case .rejected(87009, _) = error {
                    return .error(ServerError(
                        .wechatRejected, "the stored session_key is no longer the user's current one; log in again",
                        errcode: 87009))
                }
                return .error(ServerError(error))
            }
            guard let bytes = WeChatUserData.decodeBase64(fresh), let newKey = SessionKey(bytes: bytes) else {
                return .error(ServerError(.wechatUnavailable, "WeChat returned a malformed session_key", errcode: 0))
            }
            guard try await store.replaceSessionKey(token, previousKey: key, newKey: newKey) else {
                return .error(ServerError(.internalError, "the session changed during the reset; check it and retry"))
            }
            logger.info("session_key reset", metadata: ["app": "\(app.appID)", "token": "\(fingerprint(token))"])
            return .sessionKeyReset
        }
    }

    // MARK: Helpers

    static let notConfigured = Response.error(ServerError(
        .wechatUnavailable, "WeChat user-data calls are not configured on this server", errcode: 0))

    /// The synchronous form, for the in-memory store (DECRYPT and VERIFY_SIGNATURE answered on the event loop).
    private func answer(_ token: String, _ operation: String, _ body: (SessionKey, SessionView) throws -> Response) -> Response {
        guard case .memory(let memory) = store else { return .error(ServerError(.internalError, "internal error")) }
        do {
            return try memory.withSessionKey(token) { key, snapshot in try body(key, SessionView(snapshot)) }
        } catch let error as SessionError {
            return refused(token, operation, error)
        } catch {
            logger.error("user data operation failed", metadata: ["operation": "\(operation)", "error": "\(type(of: error))"])
            return .error(ServerError(.internalError, "internal error"))
        }
    }

    private func answerAsync(
        _ token: String, _ operation: String, _ body: (SessionKey, SessionView) async throws -> Response
    ) async -> Response {
        do {
            return try await store.withSessionKey(token) { key, snapshot in try await body(key, SessionView(snapshot)) }
        } catch let error as SessionError {
            return refused(token, operation, error)
        } catch {
            logger.error("user data operation failed", metadata: ["operation": "\(operation)", "error": "\(type(of: error))"])
            return .error(ServerError(.internalError, "internal error"))
        }
    }

    private func refused(_ token: String, _ operation: String, _ error: SessionError) -> Response {
        if logger.logLevel <= .debug {
            logger.debug("\(operation) refused", metadata: ["token": "\(fingerprint(token))", "reason": "\(error)"])
        }
        return .error(ServerError(error))
    }
}

/// DECRYPT's watermark age limits: one default and per-app overrides (`decrypt_max_age_seconds`).
public struct UserDataPolicy: Sendable {
    /// nil: watermarks of any age are accepted.
    public var maxWatermarkAgeMilliseconds: Int64?
    public var maxWatermarkAgePerApp: [String: Int64] = [:]

    public init(maxWatermarkAgeMilliseconds: Int64? = nil, maxWatermarkAgePerApp: [String: Int64] = [:]) {
        self.maxWatermarkAgeMilliseconds = maxWatermarkAgeMilliseconds
        self.maxWatermarkAgePerApp = maxWatermarkAgePerApp
    }

    func maxWatermarkAge(appID: String) -> Int64? {
        maxWatermarkAgePerApp[appID] ?? maxWatermarkAgeMilliseconds
    }
}
