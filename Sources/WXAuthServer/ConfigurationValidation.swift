import WXAuthWeChat

/// Configuration problems found before anything binds, each with what to do about it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ServerConfiguration {
    /// Throws the first problem that would make the server unsafe or useless. Every message names the setting (its
    /// configuration-file key and flag) and the allowed range, so a mistyped value is refused at start instead of
    /// burning CPU, hanging requests or sending the AppSecret in clear.
    public func validate() throws(ConfigurationError) {
        if isDevelopment && !Self.isLoopback(host) {
            throw ConfigurationError("--dev binds loopback only (127.0.0.1 or ::1), not \(host)")
        }
        if apps.isEmpty {
            throw ConfigurationError("""
                no WeChat app is configured. Give at least one app: \
                --app APPID with its secret in the environment variable WXAUTH_SECRET_<APPID>, \
                or an "apps" entry in --config FILE; or run `wxauthd --dev` to try it with the local simulator
                """)
        }
        try Self.check(port, in: 0...65535, "port (--port)")
        try http.validate()
        if isDevelopment, http.port != nil, let httpHost = http.host, !Self.isLoopback(httpHost) {
            throw ConfigurationError("--dev binds loopback only (127.0.0.1 or ::1), not http.host \(httpHost)")
        }
        try Self.check(maxFrameSize, in: 64...16 * 1024 * 1024, "max_frame_bytes (--max-frame)", unit: "bytes")
        let shards = sessions.shardCount
        if shards <= 0 || shards & (shards - 1) != 0 || shards > 65536 {
            throw ConfigurationError("shards (--shards) must be a power of two between 1 and 65536, not \(shards)")
        }
        try Self.check(sessions.maxEntries, in: Limits.maxSessions, "max_sessions (--max-sessions)")
        try Self.check(maxConnections, in: Limits.maxConnections, "max_connections (--max-connections)")
        try Self.check(threads, in: Limits.threads, "threads (--threads)")
        try Self.check(maxInFlightPerConnection, in: Limits.maxInFlightPerConnection, "max_in_flight_per_connection")
        try Self.checkSeconds(sweepIntervalMilliseconds, in: Limits.sweepInterval, "sweep_interval_seconds (--sweep-interval)")
        try Self.checkSeconds(
            sessions.refreshGraceMilliseconds, in: Limits.refreshGrace, "refresh_grace_seconds (--refresh-grace)")
        try Self.checkSeconds(
            idleTimeoutMilliseconds, in: Limits.idleConnectionTimeout, "idle_connection_timeout_seconds (0 disables)")
        try Self.checkSeconds(frameDeadlineMilliseconds, in: Limits.frameDeadline, "frame_deadline_seconds")
        try Self.checkSeconds(authTimeoutMilliseconds, in: Limits.authTimeout, "auth_timeout_seconds (0 disables)")
        try Self.checkSeconds(shutdownGraceMilliseconds, in: Limits.shutdownGrace, "shutdown grace")
        try Self.check(loginRatePerApp, "login_rate_per_app")
        try Self.check(loginRatePerUser, "login_rate_per_user")
        try Self.checkSeconds(
            upstream.callTimeout.wholeMilliseconds, in: Limits.wechatTimeout, "wechat.timeout_seconds (--wechat-timeout)")
        try Self.check(upstream.maxRetries, in: Limits.wechatRetries, "wechat.max_retries")
        try Self.check(upstream.breakerFailureThreshold, in: Limits.breakerFailures, "wechat.breaker_failures")
        try Self.checkSeconds(
            upstream.breakerCooldown.wholeMilliseconds, in: Limits.breakerCooldown, "wechat.breaker_cooldown_seconds")
        try Self.checkWeChatBaseURL(wechatBaseURL, isDevelopment: isDevelopment)
        try Self.checkUnique(apps.map(\.appID), what: "app id", key: "apps (and --app)")
        try Self.checkUnique(callers.map(\.id), what: "caller id", key: "callers")
        for app in apps where app.secret.isEmpty {
            throw ConfigurationError("app \(app.appID) has an empty secret")
        }
        for age in [userData.maxWatermarkAgeMilliseconds].compactMap({ $0 }) + Array(userData.maxWatermarkAgePerApp.values)
        where age <= 0 {
            throw ConfigurationError("decrypt_max_age_seconds must be positive")
        }
        for app in apps where app.idleTimeoutMilliseconds <= 0 || app.absoluteLifetimeMilliseconds <= 0 {
            throw ConfigurationError("app \(app.appID): idle timeout and absolute lifetime must be positive")
        }
    }

    /// The allowed ranges (README "Limits and defaults"); durations in milliseconds.
    public enum Limits {
        public static let maxSessions = 1...1_000_000_000
        public static let maxConnections = 1...1_000_000
        /// Event-loop threads.
        public static let threads = 1...1024
        public static let maxInFlightPerConnection = 1...65_536
        public static let sweepInterval: ClosedRange<Int64> = 100...3_600_000
        public static let refreshGrace: ClosedRange<Int64> = 0...3_600_000
        public static let idleConnectionTimeout: ClosedRange<Int64> = 0...86_400_000
        public static let frameDeadline: ClosedRange<Int64> = 100...600_000
        public static let authTimeout: ClosedRange<Int64> = 0...600_000
        public static let shutdownGrace: ClosedRange<Int64> = 0...3_600_000
        public static let wechatTimeout: ClosedRange<Int64> = 100...120_000
        public static let wechatRetries = 0...5
        public static let breakerFailures = 1...1000
        public static let breakerCooldown: ClosedRange<Int64> = 100...3_600_000
        public static let loginBurst = 1.0...1_000_000.0
        /// Tokens per second (0.001/s is 0.06 per minute).
        public static let loginRate = 0.001...1_000_000.0
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }

    private static func check<T: Comparable>(
        _ value: T, in range: ClosedRange<T>, _ name: String, unit: String = ""
    ) throws(ConfigurationError) {
        guard !range.contains(value) else { return }
        let suffix = unit.isEmpty ? "" : " \(unit)"
        throw ConfigurationError("\(name) must be between \(range.lowerBound) and \(range.upperBound)\(suffix), not \(value)")
    }

    private static func checkSeconds(_ milliseconds: Int64, in range: ClosedRange<Int64>, _ name: String) throws(ConfigurationError) {
        guard !range.contains(milliseconds) else { return }
        throw ConfigurationError("""
            \(name) must be between \(seconds(range.lowerBound)) and \(seconds(range.upperBound)) seconds, \
            not \(seconds(milliseconds))
            """)
    }

    private static func check(_ rate: RateLimit, _ key: String) throws(ConfigurationError) {
        try check(rate.burst, in: Limits.loginBurst, "\(key).burst", unit: "requests")
        guard Limits.loginRate.contains(rate.perSecond) else {
            throw ConfigurationError("""
                \(key): per_second must be between \(Limits.loginRate.lowerBound) and \(Limits.loginRate.upperBound) \
                (per_minute between \(Limits.loginRate.lowerBound * 60) and \(Limits.loginRate.upperBound * 60)), \
                not \(rate.perSecond) per second
                """)
        }
    }

    private static func checkWeChatBaseURL(_ url: String, isDevelopment: Bool) throws(ConfigurationError) {
        let lowered = url.lowercased()
        let scheme = lowered.hasPrefix("https://") ? "https://" : lowered.hasPrefix("http://") ? "http://" : nil
        guard let scheme, url.count > scheme.count, !url.dropFirst(scheme.count).hasPrefix("/") else {
            throw ConfigurationError("wechat.base_url (--wechat-base-url) must be an https:// URL, not \(url)")
        }
        if scheme == "http://" && !isDevelopment && !isLoopback(authority: url.dropFirst(scheme.count)) {
            throw ConfigurationError("""
                wechat.base_url (--wechat-base-url) must use https:// (the AppSecret travels in its requests); \
                plain http is allowed only with --dev or to a loopback host (a local simulator), not \(url)
                """)
        }
    }

    /// Whether the host of `authority` (`host[:port][/path]`) is loopback: 127.0.0.0/8, [::1] or localhost.
    /// A request there never leaves the machine, so the AppSecret is not sent in clear over a network.
    static func isLoopback(authority: Substring) -> Bool {
        let hostAndPort = authority.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !hostAndPort.contains("@") else { return false }
        let host: Substring
        if hostAndPort.hasPrefix("[") {
            guard let close = hostAndPort.firstIndex(of: "]") else { return false }
            host = hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close]
        } else {
            host = hostAndPort.prefix { $0 != ":" }
        }
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    private static func checkUnique(_ ids: [String], what: String, key: String) throws(ConfigurationError) {
        var seen = Set<String>()
        for id in ids where !seen.insert(id).inserted {
            throw ConfigurationError("\(what) \(id) is configured twice in \(key); each must be unique")
        }
    }

    private static func seconds(_ milliseconds: Int64) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}
