import NIOCore
import WXAuthPersistence
import WXAuthProtocol
import WXAuthSessions
import WXAuthWeChat

/// Everything wxauthd runs with. Immutable once the server starts; each default is documented in the README.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port: Int = 7400
    /// Largest accepted frame (`length` field), default 64 KiB.
    public var maxFrameSize: Int = WireFormat.defaultMaxFrameSize
    public var sessions = SessionStoreConfiguration()
    public var apps: [AppConfiguration] = []
    /// Internal services allowed to call; empty means the server runs open (dev).
    public var callers: [CallerConfiguration] = []
    /// How often expired sessions are removed. Default 30 s.
    public var sweepIntervalMilliseconds: Int64 = 30_000
    /// Requests one connection may have in progress before the server stops reading from it. Default 1024.
    public var maxInFlightPerConnection: Int = 1024
    /// Event-loop threads serving connections (`threads`, `--threads`). Default: one per core.
    public var threads: Int = System.coreCount
    /// Connections beyond this are answered SERVER_FULL and closed. Default 10,000.
    public var maxConnections: Int = 10_000
    /// A connection with nothing in flight and no bytes for this long is closed. Default 300 s; 0 disables.
    public var idleTimeoutMilliseconds: Int64 = 300_000
    /// A frame whose first byte arrived must be complete within this long. Default 10 s.
    public var frameDeadlineMilliseconds: Int64 = 10_000
    /// With callers configured, a connection that has not authenticated within this long is closed (sshd's
    /// LoginGraceTime), so unauthenticated connections cannot hold the connection cap. Default 10 s.
    public var authTimeoutMilliseconds: Int64 = 10_000
    /// Failed AUTHs allowed per source address; over it, the address's connections are refused (`RATE_LIMITED` in
    /// place of HELLO) until the bucket refills. Default 1/s, burst 20.
    public var authFailuresPerAddress = RateLimit(perSecond: 1, burst: 20)
    /// Longest wait for in-flight requests on graceful shutdown. Default 10 s.
    public var shutdownGraceMilliseconds: Int64 = 10_000
    /// LOGINs per app, checked before WeChat is asked (protects the app's WeChat quota). Default 200/s, burst 400.
    public var loginRatePerApp = RateLimit(perSecond: 200, burst: 400)
    /// LOGINs per user (app + openid). Default 10 per minute, burst 10 (WeChat allows 100/min per user).
    public var loginRatePerUser = RateLimit(perSecond: 10.0 / 60.0, burst: 10)
    /// Retries, backoff and circuit breaker for WeChat calls, and their deadline (`wechat.timeout_seconds`).
    public var upstream = UpstreamPolicy()
    /// Where WeChat lives (`wechat.base_url`, `--wechat-base-url`). https only, except with `--dev`.
    public var wechatBaseURL = "https://api.weixin.qq.com"
    /// Where sessions survive restarts (`--data-dir`); nil keeps them in memory only. See docs/PERSISTENCE.md.
    public var persistence: PersistenceConfiguration?
    /// DECRYPT's watermark age limits (`decrypt_max_age_seconds`, global or per app). Default: no limit.
    public var userData = UserDataPolicy()
    /// The HTTP edge (`http` in the file, `--http-port`); off unless a port is given. See protocol/HTTP.md.
    public var http = HTTPEdgeConfiguration()
    /// `--dev`: loopback only, open, embedded simulator. Never set silently.
    public var isDevelopment = false

    public init() {}
}

/// An internal service allowed to call wxauthd.
public struct CallerConfiguration: Sendable, Hashable {
    public var id: String
    public var secret: String
    public var permissions: Permissions

    public init(id: String, secret: String, permissions: Permissions) {
        self.id = id
        self.secret = secret
        self.permissions = permissions
    }
}
