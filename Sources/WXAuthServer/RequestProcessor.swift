import Logging
import NIOCore
import WXAuthProtocol
import WXAuthSessions
import WXAuthSharedStore

/// Turns a decoded request into its response. Everything but the WeChat calls (LOGIN, PHONE_NUMBER,
/// CHECK_SESSION_KEY, RESET_SESSION_KEY) is answered synchronously on the calling event loop, encoded straight into
/// the connection's outbound buffer; those return work to run asynchronously so they never hold back the requests
/// behind them.
final class RequestProcessor: Sendable {
    enum Outcome: Sendable {
        /// The response frame is in the buffer.
        case answered
        case deferred(@Sendable () async -> Response)
    }

    let store: SessionStore
    let backend: SessionBackend
    let callers: CallerRegistry
    private let login: LoginCoordinator
    private let userData: UserDataCoordinator
    private let fingerprint: TokenFingerprint
    private let logger: Logger

    init(
        store: SessionStore, backend: SessionBackend, callers: CallerRegistry, login: LoginCoordinator,
        userData: UserDataCoordinator, fingerprint: TokenFingerprint, logger: Logger
    ) {
        self.store = store
        self.backend = backend
        self.callers = callers
        self.login = login
        self.userData = userData
        self.fingerprint = fingerprint
        self.logger = logger
    }

    /// Processes an authorized request (AUTH is handled by the connection state machine): a synchronous answer is
    /// written into `buffer` as one frame for `requestID`.
    func process(_ message: RequestMessage, requestID: UInt32, into buffer: inout ByteBuffer) -> Outcome {
        if case .shared(let shared) = backend {
            return processShared(message, shared: shared, requestID: requestID, into: &buffer)
        }
        switch message {
        case .validate(let validate):
            self.validate(validate, requestID: requestID, into: &buffer)
            return .answered
        case .login, .phoneNumber, .checkSessionKey, .resetSessionKey:
            return process(memoryOrSharedDeferred: message)
        default:
            FrameEncoder.writeResponse(answer(message), requestID: requestID, into: &buffer)
            return .answered
        }
    }

    /// The hot path: the token's bytes from the frame to the store, the store's snapshot encoded into the buffer.
    private func validate(_ request: RequestMessage.Validate, requestID: UInt32, into buffer: inout ByteBuffer) {
        let outcome = request.token.withUnsafeReadableBytes { token in
            Result { () throws(SessionError) in try store.validate(tokenUTF8: token) }
        }
        switch outcome {
        case .success(let snapshot):
            buffer.writeValidatedFrame(snapshot, requestID: requestID)
        case .failure(let error):
            let refused = refusal(error, "validate", token: request.tokenString)
            FrameEncoder.writeResponse(refused, requestID: requestID, into: &buffer)
        }
    }

    /// With the shared store: VALIDATE from the near cache and PING are answered at once; everything else talks
    /// to Redis and is deferred.
    private func processShared(
        _ message: RequestMessage, shared: SharedSessionStore, requestID: UInt32, into buffer: inout ByteBuffer
    ) -> Outcome {
        switch message {
        case .validate(let request):
            let cached = request.token.withUnsafeReadableBytes { shared.validateFromCache(tokenUTF8: $0) }
            switch cached {
            case .answered(.success(let snapshot)):
                buffer.writeValidatedFrame(snapshot, requestID: requestID)
                return .answered
            case .answered(.failure(let error)):
                FrameEncoder.writeResponse(refusal(error, "validate", token: request.tokenString), requestID: requestID, into: &buffer)
                return .answered
            case .needsStore:
                let token = request.tokenString
                return .deferred { [self] in
                    do throws(SessionError) {
                        return .validated(SessionView(try await shared.validate(token)))
                    } catch {
                        return refusal(error, "validate", token: token)
                    }
                }
            }
        case .ping, .auth:
            FrameEncoder.writeResponse(answer(message), requestID: requestID, into: &buffer)
            return .answered
        case .login, .phoneNumber, .checkSessionKey, .resetSessionKey:
            return process(memoryOrSharedDeferred: message)
        case .refresh(let request):
            return .deferred { [self] in
                do throws(SessionError) {
                    let issued = try await shared.refresh(request.token)
                    return .refreshed(token: issued.token, session: SessionView(issued.session))
                } catch {
                    return refusal(error, "refresh", token: request.token)
                }
            }
        case .revoke(let request):
            return .deferred { [self] in
                do throws(SessionError) {
                    try await shared.revoke(request.token)
                    return .revoked
                } catch {
                    return refusal(error, "revoke", token: request.token)
                }
            }
        case .revokeUser(let request):
            return .deferred { [self] in
                do throws(SessionError) {
                    let count = try await shared.revokeUser(appID: request.appID, openid: request.openid)
                    logger.info("user sessions revoked", metadata: ["app": "\(request.appID)", "count": "\(count)"])
                    return .userRevoked(count: UInt32(clamping: count))
                } catch {
                    return .error(ServerError(error))
                }
            }
        case .decrypt(let request):
            return .deferred { [userData] in
                await userData.decryptShared(token: request.token, encryptedData: request.encryptedData, iv: request.iv)
            }
        case .verifySignature(let request):
            return .deferred { [userData] in
                await userData.verifySignatureShared(token: request.token, rawData: request.rawData, signature: request.signature)
            }
        }
    }

    /// The operations that wait on WeChat, the same with either store.
    private func process(memoryOrSharedDeferred message: RequestMessage) -> Outcome {
        switch message {
        case .login(let request):
            return .deferred { [login] in await login.login(appID: request.appID, code: request.code) }
        case .phoneNumber(let request):
            return .deferred { [userData] in await userData.phoneNumber(token: request.token, code: request.code) }
        case .checkSessionKey(let request):
            return .deferred { [userData] in await userData.checkSessionKey(token: request.token) }
        case .resetSessionKey(let request):
            return .deferred { [userData] in await userData.resetSessionKey(token: request.token) }
        default:
            preconditionFailure("only the WeChat operations are deferred here")
        }
    }

    /// The synchronous answers other than VALIDATE.
    private func answer(_ message: RequestMessage) -> Response {
        switch message {
        case .ping:
            return .pong(serverTime: backend.clockNow)
        case .auth:
            return .error(ServerError(.malformedRequest, "already authenticated"))
        case .refresh(let request):
            do {
                let issued = try store.refresh(request.token)
                return .refreshed(token: issued.token, session: SessionView(issued.session))
            } catch {
                return refusal(error, "refresh", token: request.token)
            }
        case .revoke(let request):
            do {
                try store.revoke(request.token)
                return .revoked
            } catch {
                return refusal(error, "revoke", token: request.token)
            }
        case .revokeUser(let request):
            do {
                let count = try store.revokeUser(appID: request.appID, openid: request.openid)
                logger.info("user sessions revoked", metadata: ["app": "\(request.appID)", "count": "\(count)"])
                return .userRevoked(count: UInt32(clamping: count))
            } catch {
                return .error(ServerError(error))
            }
        case .decrypt(let request):
            return userData.decrypt(token: request.token, encryptedData: request.encryptedData, iv: request.iv)
        case .verifySignature(let request):
            return userData.verifySignature(token: request.token, rawData: request.rawData, signature: request.signature)
        case .validate, .login, .phoneNumber, .checkSessionKey, .resetSessionKey:
            preconditionFailure("answered in process(_:requestID:into:)")
        }
    }

    private func refusal(_ error: SessionError, _ operation: String, token: @autoclosure () -> String) -> Response {
        if logger.logLevel <= .debug {
            logger.debug("\(operation) refused", metadata: ["token": "\(fingerprint(token()))", "reason": "\(error)"])
        }
        if case .cryptoFailure(let operation) = error {
            logger.error("crypto failure", metadata: ["operation": "\(operation)"])
        }
        return .error(ServerError(error))
    }
}

extension RequestProcessor {
    /// The same operations for front ends that are not a binary connection (the HTTP edge): the request's
    /// response as a value. Answers made synchronously into a frame are read back from it, so both front ends
    /// share every rule, status and message.
    func response(to message: RequestMessage) async -> Response {
        var frame = ByteBuffer()
        switch process(message, requestID: 1, into: &frame) {
        case .deferred(let work):
            return await work()
        case .answered:
            var decoder = FrameDecoder(maxFrameSize: Int(UInt32.max))
            guard let decoded = try? decoder.decode(buffer: &frame),
                  let response = try? decoded.decodeResponse(to: message.opcode)
            else { return .error(ServerError(.internalError, "internal error")) }
            return response
        }
    }
}
