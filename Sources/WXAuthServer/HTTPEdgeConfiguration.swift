/// The HTTP edge's settings (`http` in the configuration file, `--http-port`). The edge itself lives in
/// WXAuthHTTP; its settings are here so that the file, the flags and `validate()` treat them like every other key.
public struct HTTPEdgeConfiguration: Sendable, Hashable {
    /// The edge's routes, by the name the configuration file uses (`http.public_routes`).
    public enum Route: String, Sendable, Hashable, CaseIterable {
        case login
        case auth
        case refresh
        case logout
        case userInfo = "user-info"
        case phoneNumber = "phone-number"

        /// What a mini program or a gateway calls without a caller credential by default. The user-data routes
        /// hand out personal data (and spend WeChat quota), so they need a caller credential unless listed.
        public static let defaultPublic: Set<Route> = [.login, .auth, .refresh, .logout]
    }

    /// Address to bind. Default: the binary protocol's host.
    public var host: String?
    /// TCP port; nil leaves the edge off (`--http-port`; 0 picks a free one).
    public var port: Int?
    /// Routes answered without a caller credential (`Authorization: Basic base64(caller_id:secret)`).
    public var publicRoutes: Set<Route> = Route.defaultPublic
    /// `GET /v1/auth` also reads the token from this request header (after `Authorization: Bearer`).
    public var tokenHeader: String?
    /// `GET /v1/auth` also reads the token from this cookie (after the header).
    public var tokenCookie: String?
    /// Peers (exact IP addresses) whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    public var trustedProxies: [String] = []
    /// `POST /v1/login` per client address. Default 1/s, burst 20 (a NAT of many phones stays under it; a
    /// script spraying codes does not).
    public var loginRatePerClient = RateLimit(perSecond: 1, burst: 20)
    /// Largest accepted request body. Default 64 KiB (the binary protocol's default frame).
    public var maxBodyBytes: Int = 65_536

    public init() {}

    func validate() throws(ConfigurationError) {
        if let port, !(0...65_535).contains(port) {
            throw ConfigurationError("http.port (--http-port) must be 0 to 65535, not \(port)")
        }
        guard loginRatePerClient.perSecond > 0, loginRatePerClient.perSecond.isFinite,
              loginRatePerClient.burst >= 1, loginRatePerClient.burst.isFinite
        else {
            throw ConfigurationError("http.login_rate_per_client needs a positive rate and a burst of at least 1")
        }
        guard (1_024...1_048_576).contains(maxBodyBytes) else {
            throw ConfigurationError("http.max_body_bytes must be 1024 to 1048576, not \(maxBodyBytes)")
        }
        for name in [tokenHeader, tokenCookie].compactMap({ $0 }) {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: ";") }) else {
                throw ConfigurationError("http.token_header / http.token_cookie: \"\(name)\" is not a header or cookie name")
            }
        }
    }
}
