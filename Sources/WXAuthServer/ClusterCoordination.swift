import Logging
import NIOCore
import WXAuthCrypto
import WXAuthProtocol
import WXAuthRedis
import WXAuthSessions
import WXAuthSharedStore
import WXAuthWeChat

/// What several nodes sharing a Redis store must not do twice (issue 13 item 5): exchange one LOGIN code twice,
/// let each node apply the LOGIN rate limits on its own, or fetch (and invalidate) an app's access token each.
/// Everything goes through the store's Redis; keys and stored values are keyed and sealed with a secret derived
/// from the server's primary key, which every node shares.
public struct ClusterCoordination: Sendable {
    let codeOutcomes: SharedCodeOutcomes
    let perApp: any LoginRateLimiting
    let perUser: any LoginRateLimiting
    /// Hand to `WeChatUserDataClient(accessTokenSharing:)` so PHONE_NUMBER's access token is fetched once for all.
    public let accessTokens: any AccessTokenSharing

    public init(
        client: any RedisClient, keyring: ServerKeyring, loginRatePerApp: RateLimit, loginRatePerUser: RateLimit,
        logger: Logger
    ) throws {
        var secretBytes = try keyring.primary.authenticationCode(for: Array("wxauth-coordination-secret-v1".utf8))
        let secret = try CoordinationSecret(secretBytes)
        for index in secretBytes.indices { secretBytes[index] = 0 }
        codeOutcomes = try SharedCodeOutcomes(
            client: client, secret: secret, configuration: .init(namespace: "login-code"), logger: logger)
        perApp = ClusterLoginLimit(ClusterRateLimiter(
            client: client, perSecond: loginRatePerApp.perSecond, burst: loginRatePerApp.burst, namespace: "login-app", secret: secret),
            logger: logger)
        perUser = ClusterLoginLimit(ClusterRateLimiter(
            client: client, perSecond: loginRatePerUser.perSecond, burst: loginRatePerUser.burst, namespace: "login-user", secret: secret),
            logger: logger)
        accessTokens = SharedAccessTokenAdapter(tokens: try SharedAccessTokens(client: client, secret: secret, logger: logger))
    }
}

/// A LOGIN rate limit: the process's own buckets, or the cluster's.
protocol LoginRateLimiting: Sendable {
    /// Takes a token for `key`: nil when allowed; otherwise the time until the key may try again.
    func acquire(_ key: String) async -> Duration?
}

extension KeyedRateLimiter: LoginRateLimiting {
    func acquire(_ key: String) async -> Duration? { take(key) }
}

/// The cluster's bucket; when Redis cannot answer the LOGIN is let through (it will need Redis to store its
/// session anyway, and answers STORE_UNAVAILABLE then, before WeChat is asked only if the store refuses).
struct ClusterLoginLimit: LoginRateLimiting {
    let limiter: ClusterRateLimiter
    let logger: Logger

    init(_ limiter: ClusterRateLimiter, logger: Logger) {
        self.limiter = limiter
        self.logger = logger
    }

    func acquire(_ key: String) async -> Duration? {
        do {
            return try await limiter.take(key)
        } catch {
            logger.warning("cluster rate limit unavailable; LOGIN let through", metadata: ["limit": "\(limiter.namespace)"])
            return nil
        }
    }
}

/// `AccessTokenSharing` (WXAuthWeChat's seam) over `SharedAccessTokens` (the Redis side), one namespace per app.
struct SharedAccessTokenAdapter: AccessTokenSharing {
    let tokens: SharedAccessTokens

    func sharedToken(appID: String) async -> AccessToken? {
        await tokens.current(namespace: appID).map { AccessToken(value: $0.value, lifetime: $0.remaining) }
    }

    func fetchExclusively(
        appID: String, fetch: @Sendable () async throws(WeChatError) -> AccessToken
    ) async throws(WeChatError) -> AccessToken {
        let shared = try await tokens.fetchExclusively(namespace: appID) { () async throws(WeChatError) -> SharedAccessToken in
            let fetched = try await fetch()
            return SharedAccessToken(value: fetched.value, remaining: fetched.lifetime)
        }
        return AccessToken(value: shared.value, lifetime: shared.remaining)
    }

    func invalidate(appID: String, token: String) async {
        await tokens.invalidate(namespace: appID, value: token)
    }
}

/// A LOGIN's answer as other nodes receive it through `SharedCodeOutcomes`: the status byte and the response body.
/// Definite answers (a session, WeChat's rejection) are kept for the code; others are not.
enum SharedLoginOutcome {
    static func encode(_ response: Response) -> SharedOutcome {
        var buffer = ByteBuffer()
        buffer.writeInteger(response.status.rawValue)
        response.encodeBody(into: &buffer)
        let definite: Bool
        switch response {
        case .loggedIn: definite = true
        case .error(let error): definite = error.status == .wechatRejected
        default: definite = false
        }
        return SharedOutcome(payload: Array(buffer.readableBytesView), isDefinite: definite)
    }

    static func decode(_ outcome: SharedOutcome) -> Response? {
        var buffer = ByteBuffer(bytes: outcome.payload)
        guard let status = buffer.readInteger(as: UInt8.self) else { return nil }
        return try? Response.decode(status: Status(rawValue: status), opcode: .login, body: &buffer)
    }
}
