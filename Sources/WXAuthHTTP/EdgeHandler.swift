import Logging
import NIOCore
import WXAuthProtocol
import WXAuthServer

/// What the edge needs from the server: one request performed as the binary protocol would, and the check of a
/// caller's credential. `WXAuthServer` provides both; tests may give their own.
public struct EdgeBackend: Sendable {
    public var respond: @Sendable (RequestMessage) async -> Response
    public var callerPermissions: @Sendable (_ callerID: String, _ secret: String) -> Permissions?

    public init(
        respond: @escaping @Sendable (RequestMessage) async -> Response,
        callerPermissions: @escaping @Sendable (String, String) -> Permissions?
    ) {
        self.respond = respond
        self.callerPermissions = callerPermissions
    }

    public init(server: WXAuthServer) {
        self.init(
            respond: { await server.respond(to: $0) },
            callerPermissions: { server.callerPermissions(callerID: $0, secret: $1) }
        )
    }
}

/// The edge's routes over `EdgeBackend`, with no HTTP library in sight: an `EdgeRequest` in, an `EdgeReply` out.
public final class EdgeHandler: Sendable {
    public typealias Route = HTTPEdgeConfiguration.Route

    private let backend: EdgeBackend
    private let publicRoutes: Set<Route>
    private let tokens: TokenLocator
    private let clients: ClientAddressResolver
    private let loginLimiter: KeyedRateLimiter
    private let logger: Logger

    public init(configuration: HTTPEdgeConfiguration, backend: EdgeBackend, logger: Logger) {
        self.backend = backend
        self.publicRoutes = configuration.publicRoutes
        self.tokens = TokenLocator(headerName: configuration.tokenHeader, cookieName: configuration.tokenCookie)
        self.clients = ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        self.loginLimiter = KeyedRateLimiter(limit: configuration.loginRatePerClient)
        self.logger = logger
    }

    public func handle(_ route: Route, _ request: EdgeRequest) async -> EdgeReply {
        if route == .auth { return await auth(request) }
        if let refusal = authorize(route, request) { return refusal }
        do throws(ServerError) {
            switch route {
            case .login: return try await login(request)
            case .refresh: return try await refresh(request)
            case .logout: return try await logout(request)
            case .userInfo: return try await userInfo(request)
            case .phoneNumber: return try await phoneNumber(request)
            case .auth: return await auth(request)
            }
        } catch {
            return .error(error)
        }
    }

    // MARK: Routes

    private func auth(_ request: EdgeRequest) async -> EdgeReply {
        if let refusal = authorize(.auth, request, credentialHeader: "x-wxauth-caller") {
            return EdgeReply(status: refusal.status, headers: refusal.headers.filter { $0.name != EdgeHeaderName.contentType })
        }
        guard let token = tokens.token(in: request) else { return AuthCheck.missingToken }
        guard FieldLimits.token.contains(token.utf8.count) else {
            return AuthCheck.refusal(ServerError(.invalidToken, "invalid token"))
        }
        return AuthCheck.reply(for: await backend.respond(.validate(.init(token: token))))
    }

    private func login(_ request: EdgeRequest) async throws(ServerError) -> EdgeReply {
        let client = clients.clientAddress(peer: request.peerAddress, forwardedFor: request.headerValues("x-forwarded-for"))
        if let wait = loginLimiter.take(client) {
            logger.info("http login rate limited", metadata: ["client": "\(client)"])
            let milliseconds = UInt32(clamping: max(1, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
            throw ServerError(.rateLimited, "too many logins from this address", retryAfterMilliseconds: milliseconds)
        }
        let body = try RequestBodyDecoder.decode(LoginBody.self, from: request.body)
        try RequestBodyDecoder.check(body.app_id, "app_id", FieldLimits.appID)
        try RequestBodyDecoder.check(body.code, "code", FieldLimits.code)
        switch await backend.respond(.login(.init(appID: body.app_id, code: body.code))) {
        case .loggedIn(let token, let session): return .json(200, SessionBody(token: token, session: session))
        case let other: throw Self.failure(other)
        }
    }

    private func refresh(_ request: EdgeRequest) async throws(ServerError) -> EdgeReply {
        let token = try sessionToken(request)
        switch await backend.respond(.refresh(.init(token: token))) {
        case .refreshed(let token, let session): return .json(200, SessionBody(token: token, session: session))
        case let other: throw Self.failure(other)
        }
    }

    private func logout(_ request: EdgeRequest) async throws(ServerError) -> EdgeReply {
        let token = try sessionToken(request)
        switch await backend.respond(.revoke(.init(token: token))) {
        case .revoked: return .json(200, LogoutBody())
        case let other: throw Self.failure(other)
        }
    }

    private func userInfo(_ request: EdgeRequest) async throws(ServerError) -> EdgeReply {
        let body = try RequestBodyDecoder.decode(UserInfoBody.self, from: request.body)
        try RequestBodyDecoder.check(body.token, "token", FieldLimits.token)
        try RequestBodyDecoder.check(body.encrypted_data, "encrypted_data", FieldLimits.encryptedData)
        try RequestBodyDecoder.check(body.iv, "iv", FieldLimits.iv)
        switch (body.raw_data, body.signature) {
        case (let rawData?, let signature?):
            try RequestBodyDecoder.check(rawData, "raw_data", FieldLimits.rawData)
            try RequestBodyDecoder.check(signature, "signature", FieldLimits.signature)
            let verified = await backend.respond(.verifySignature(.init(token: body.token, rawData: rawData, signature: signature)))
            guard case .signatureVerified = verified else { throw Self.failure(verified) }
        case (nil, nil):
            break
        default:
            throw ServerError(.malformedRequest, "give raw_data and signature together, or neither")
        }
        let decrypted = await backend.respond(.decrypt(.init(token: body.token, encryptedData: body.encrypted_data, iv: body.iv)))
        guard case .decrypted(let json) = decrypted else { throw Self.failure(decrypted) }
        guard let bytes = UserInfoReply.body(decryptedJSON: json) else {
            throw ServerError(.decryptFailed, "the decrypted data is not a JSON object", reason: .badPaddingOrKey)
        }
        return EdgeReply(status: 200, headers: EdgeReply.jsonHeaders, body: bytes)
    }

    private func phoneNumber(_ request: EdgeRequest) async throws(ServerError) -> EdgeReply {
        let body = try RequestBodyDecoder.decode(PhoneNumberBody.self, from: request.body)
        try RequestBodyDecoder.check(body.token, "token", FieldLimits.token)
        try RequestBodyDecoder.check(body.code, "code", FieldLimits.phoneCode)
        switch await backend.respond(.phoneNumber(.init(token: body.token, code: body.code))) {
        case .phoneNumber(let phone): return .json(200, PhoneNumberReplyBody(phone))
        case let other: throw Self.failure(other)
        }
    }

    // MARK: Helpers

    /// The token of /v1/refresh and /v1/logout: `{"token": ...}` in the body, else `Authorization: Bearer`.
    private func sessionToken(_ request: EdgeRequest) throws(ServerError) -> String {
        var token: String?
        if !request.body.isEmpty {
            token = try RequestBodyDecoder.decode(TokenBody.self, from: request.body).token
        }
        if token == nil, let authorization = request.header("authorization") {
            token = TokenLocator.bearer(authorization)
        }
        guard let token else { throw ServerError(.malformedRequest, "give the token in the body or as Authorization: Bearer") }
        try RequestBodyDecoder.check(token, "token", FieldLimits.token)
        return token
    }

    /// Public routes pass (nil); the others need a caller whose permissions cover what the route does: without a
    /// valid credential 401 NOT_AUTHORIZED with a Basic challenge, with one that lacks the permission 403.
    private func authorize(_ route: Route, _ request: EdgeRequest, credentialHeader: String = "authorization") -> EdgeReply? {
        guard !publicRoutes.contains(route) else { return nil }
        guard let credential = CallerCredential.parse(authorization: request.header(credentialHeader)),
              let permissions = backend.callerPermissions(credential.callerID, credential.secret)
        else {
            logger.debug("http caller refused", metadata: ["route": "\(route.rawValue)"])
            let error = ServerError(.notAuthorized, "this route needs a caller credential: \(credentialHeader == "authorization" ? "Authorization" : "X-WXAuth-Caller"): Basic base64(caller_id:secret)")
            return .json(401, ErrorBody(error), extraHeaders: [EdgeHeader(EdgeHeaderName.wwwAuthenticate, #"Basic realm="wxauth-callers""#)])
        }
        guard permissions.isSuperset(of: Self.permissions(for: route)) else {
            return .error(ServerError(.notAuthorized, "caller \(credential.callerID) may not call \(route.rawValue)"))
        }
        return nil
    }

    static func permissions(for route: Route) -> Permissions {
        switch route {
        case .login: .login
        case .auth: .validate
        case .refresh: .refresh
        case .logout: .revoke
        case .userInfo: [.decrypt, .verifySignature]
        case .phoneNumber: .phoneNumber
        }
    }

    /// A response that is not the route's success: its error, or INTERNAL_ERROR for an unexpected success shape.
    static func failure(_ response: Response) -> ServerError {
        if case .error(let error) = response { return error }
        return ServerError(.internalError, "internal error")
    }
}
