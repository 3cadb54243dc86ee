import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import WXAuthCrypto
import WXAuthProtocol

/// An async client for wxauthd. One TCP connection; any number of concurrent calls are pipelined over it and
/// matched to their responses by request id. Error answers are thrown as `ServerError` (check `isRetryable`).
public final class WXAuthClient: Sendable {
    /// A token with the session it names (LOGIN and REFRESH answers).
    public struct IssuedSession: Sendable, Hashable {
        public var token: String
        public var session: SessionView
    }

    private let channel: any Channel
    public let hello: Hello
    public let requestTimeout: TimeAmount

    private init(channel: any Channel, hello: Hello, requestTimeout: TimeAmount) {
        self.channel = channel
        self.hello = hello
        self.requestTimeout = requestTimeout
    }

    /// Connects, reads HELLO and, when the server asks for it, authenticates with the caller's secret (which never
    /// crosses the wire; only an HMAC over the server's nonce does).
    public static func connect(
        host: String, port: Int, callerID: String? = nil, callerSecret: String? = nil,
        requestTimeout: TimeAmount = .seconds(10), connectTimeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WXAuthClient {
        let helloBox = HelloBox()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let promise = channel.eventLoop.makePromise(of: Hello.self)
                    helloBox.future = promise.futureResult
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: 16 * 1024 * 1024))
                    )
                    try channel.pipeline.syncOperations.addHandler(ClientChannelHandler(helloPromise: promise))
                }
            }
            .connect(host: host, port: port)
            .get()
        do {
            guard let helloFuture = helloBox.future else { throw WXAuthClientError.connectionClosed }
            let hello = try await helloFuture.get()
            let client = WXAuthClient(channel: channel, hello: hello, requestTimeout: requestTimeout)
            if let callerID, let callerSecret {
                try await client.authenticate(callerID: callerID, secret: callerSecret)
            } else if hello.authenticationRequired {
                throw WXAuthClientError.authenticationRequired
            }
            return client
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Sends AUTH with `HMAC-SHA256(secret, "wxauth-auth-v1" || nonce)`; returns the granted permissions.
    @discardableResult
    public func authenticate(callerID: String, secret: String) async throws -> Permissions {
        let proof = try HMACKey(key: Array(secret.utf8)).authenticationCode(for: Array("wxauth-auth-v1".utf8) + hello.nonce)
        guard case .authenticated(let permissions) = try await expectOK(.auth(callerID: callerID, proof: proof)) else {
            throw WXAuthClientError.protocolViolation("AUTH answered with another body")
        }
        return permissions
    }

    /// Sends any request and returns the response, error answers included (for tools that show every status).
    public func send(_ request: Request) async throws -> Response {
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let pending = ClientChannelHandler.PendingRequest(request: request, promise: promise, timeout: requestTimeout)
        channel.writeAndFlush(pending, promise: nil)
        return try await promise.futureResult.get()
    }

    public func ping() async throws -> Int64 {
        guard case .pong(let time) = try await expectOK(.ping) else { throw unexpected() }
        return time
    }

    public func login(appID: String, code: String) async throws -> IssuedSession {
        guard case .loggedIn(let token, let session) = try await expectOK(.login(appID: appID, code: code)) else {
            throw unexpected()
        }
        return IssuedSession(token: token, session: session)
    }

    public func validate(token: String) async throws -> SessionView {
        guard case .validated(let session) = try await expectOK(.validate(token: token)) else { throw unexpected() }
        return session
    }

    public func refresh(token: String) async throws -> IssuedSession {
        guard case .refreshed(let token, let session) = try await expectOK(.refresh(token: token)) else {
            throw unexpected()
        }
        return IssuedSession(token: token, session: session)
    }

    public func revoke(token: String) async throws {
        guard case .revoked = try await expectOK(.revoke(token: token)) else { throw unexpected() }
    }

    /// Revokes every session of one user; returns how many there were.
    public func revokeUser(appID: String, openid: String) async throws -> Int {
        guard case .userRevoked(let count) = try await expectOK(.revokeUser(appID: appID, openid: openid)) else {
            throw unexpected()
        }
        return Int(count)
    }

    // MARK: User data (the session_key stays in wxauthd)

    /// Decrypts `encryptedData` (from `wx.getUserInfo` and friends) with the session's session_key; returns the
    /// plaintext JSON. Refusals are `ServerError` DECRYPT_FAILED with a `reason`.
    public func decrypt(token: String, encryptedData: String, iv: String) async throws -> String {
        guard case .decrypted(let json) = try await expectOK(.decrypt(token: token, encryptedData: encryptedData, iv: iv)) else {
            throw unexpected()
        }
        return json
    }

    /// Checks `signature == sha1(rawData + session_key)`; a mismatch throws SIGNATURE_MISMATCH.
    public func verifySignature(token: String, rawData: String, signature: String) async throws {
        guard case .signatureVerified = try await expectOK(.verifySignature(token: token, rawData: rawData, signature: signature)) else {
            throw unexpected()
        }
    }

    /// The user's phone number for a getPhoneNumber button `code`.
    public func phoneNumber(token: String, code: String) async throws -> PhoneNumber {
        guard case .phoneNumber(let phone) = try await expectOK(.phoneNumber(token: token, code: code)) else { throw unexpected() }
        return phone
    }

    /// Whether WeChat still considers the session's stored session_key current.
    public func checkSessionKey(token: String) async throws -> Bool {
        guard case .sessionKeyChecked(let current) = try await expectOK(.checkSessionKey(token: token)) else { throw unexpected() }
        return current
    }

    /// Asks WeChat for a new session_key and stores it in the session.
    public func resetSessionKey(token: String) async throws {
        guard case .sessionKeyReset = try await expectOK(.resetSessionKey(token: token)) else { throw unexpected() }
    }

    public func close() async throws {
        try await channel.close()
    }

    private func expectOK(_ request: Request) async throws -> Response {
        let response = try await send(request)
        if case .error(let error) = response { throw error }
        return response
    }

    private func unexpected() -> WXAuthClientError {
        .protocolViolation("response body does not match the request")
    }
}

/// Hands the HELLO future from the channel initializer to `connect`.
private final class HelloBox: Sendable {
    private let storage = NIOLockedValueBox<EventLoopFuture<Hello>?>(nil)

    var future: EventLoopFuture<Hello>? {
        get { storage.withLockedValue { $0 } }
        set { storage.withLockedValue { $0 = newValue } }
    }
}
