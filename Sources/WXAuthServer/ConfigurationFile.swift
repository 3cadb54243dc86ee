import Foundation
import WXAuthProtocol
import WXAuthSessions

/// The JSON configuration file (`wxauthd --config FILE`). Secrets may be given inline or, better, by naming an
/// environment variable (`secret_env`, `secret_hex_env`). See README "Configuration".
public struct ConfigurationFile: Decodable, Sendable {
    public struct App: Decodable, Sendable {
        var app_id: String
        var secret: String?
        var secret_env: String?
        var idle_timeout_seconds: Double?
        var absolute_lifetime_seconds: Double?
        var decrypt_max_age_seconds: Double?
    }

    public struct Caller: Decodable, Sendable {
        var id: String
        var secret: String?
        var secret_env: String?
        var permissions: [String]
    }

    public struct Key: Decodable, Sendable {
        var id: UInt8
        var secret_hex: String?
        var secret_hex_env: String?
    }

    public struct WeChat: Decodable, Sendable {
        var base_url: String?
        var timeout_seconds: Double?
        var max_retries: Int?
        var breaker_failures: Int?
        var breaker_cooldown_seconds: Double?
    }

    public struct Rate: Decodable, Sendable {
        var per_second: Double?
        var per_minute: Double?
        var burst: Double

        func limit(_ key: String) throws -> RateLimit {
            if per_second != nil && per_minute != nil {
                throw ConfigurationError("\(key): give per_second or per_minute, not both")
            }
            return RateLimit(perSecond: per_second ?? (per_minute ?? 60) / 60, burst: burst)
        }
    }

    /// The HTTP edge (protocol/HTTP.md).
    public struct HTTP: Decodable, Sendable {
        var host: String?
        var port: Int?
        var public_routes: [String]?
        var token_header: String?
        var token_cookie: String?
        var trusted_proxies: [String]?
        var login_rate_per_client: Rate?
        var max_body_bytes: Int?

        func apply(to http: inout HTTPEdgeConfiguration) throws {
            if let host { http.host = host }
            if let port { http.port = port }
            if let public_routes {
                http.publicRoutes = try Set(public_routes.map { name in
                    guard let route = HTTPEdgeConfiguration.Route(rawValue: name) else {
                        let known = HTTPEdgeConfiguration.Route.allCases.map(\.rawValue).joined(separator: ", ")
                        throw ConfigurationError("http.public_routes: unknown route \"\(name)\" (routes: \(known))")
                    }
                    return route
                })
            }
            if let token_header { http.tokenHeader = token_header }
            if let token_cookie { http.tokenCookie = token_cookie }
            if let trusted_proxies { http.trustedProxies = trusted_proxies }
            if let login_rate_per_client { http.loginRatePerClient = try login_rate_per_client.limit("http.login_rate_per_client") }
            if let max_body_bytes { http.maxBodyBytes = max_body_bytes }
        }
    }

    var host: String?
    var port: Int?
    var http: HTTP?
    var max_frame_bytes: Int?
    var max_sessions: Int?
    var shards: Int?
    var refresh_grace_seconds: Double?
    var sweep_interval_seconds: Double?
    var max_connections: Int?
    var threads: Int?
    var max_in_flight_per_connection: Int?
    var idle_connection_timeout_seconds: Double?
    var frame_deadline_seconds: Double?
    var auth_timeout_seconds: Double?
    var login_rate_per_app: Rate?
    var login_rate_per_user: Rate?
    var wechat: WeChat?
    var apps: [App]?
    var callers: [Caller]?
    var keys: [Key]?
    var primary_key: UInt8?
    var data_dir: String?
    var journal_flush: String?
    var snapshot_interval_seconds: Double?
    var decrypt_max_age_seconds: Double?
    var store: Store?

    /// `"store": {"url": "redis://...", "near_cache_capacity": N, "near_cache_stale_reads_seconds": S}`: sessions in
    /// Redis shared by several nodes (README "Several nodes"); `--store`, `--near-cache-capacity` and
    /// `--near-cache-stale-reads` win over it.
    public struct Store: Codable, Sendable {
        public var url: String?
        public var near_cache_capacity: Int?
        public var near_cache_stale_reads_seconds: Double?
    }

    /// Reads and decodes the file; a key the file format does not have (at any level: `caller` for `callers`,
    /// a misspelt `secret_env`) is refused rather than silently ignored.
    public static func load(path: String) throws -> ConfigurationFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read configuration file \(path)")
        }
        let file: ConfigurationFile
        let json: Any
        do {
            file = try JSONDecoder().decode(ConfigurationFile.self, from: data)
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigurationError("configuration file \(path) is not valid: \(error)")
        }
        let unknown = ConfigurationKeys.unknown(in: json, decoded: file)
        if let first = unknown.first {
            let more = unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""
            throw ConfigurationError(
                "configuration file \(path): unknown key \"\(first)\"\(more); the keys are listed in the README")
        }
        return file
    }
    /// Whether the file lists `http.public_routes` (else `--dev` opens every route).
    public var givesHTTPPublicRoutes: Bool { http?.public_routes != nil }
    /// The shared store settings (`store`), if the file has them.
    public var sharedStore: Store? { store }
    /// Persistence settings (`data_dir`, `journal_flush`, `snapshot_interval_seconds`); flags override them.
    public var dataDirectory: String? { data_dir }
    public var journalFlush: String? { journal_flush }
    public var snapshotIntervalSeconds: Double? { snapshot_interval_seconds }

    /// Applies the file to `configuration`, reading secrets from `environment`.
    public func apply(to configuration: inout ServerConfiguration, environment: [String: String]) throws {
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        try http?.apply(to: &configuration.http)
        if let max_frame_bytes { configuration.maxFrameSize = max_frame_bytes }
        if let max_sessions { configuration.sessions.maxEntries = max_sessions }
        if let shards { configuration.sessions.shardCount = shards }
        if let refresh_grace_seconds {
            configuration.sessions.refreshGraceMilliseconds = try Self.milliseconds(refresh_grace_seconds, "refresh_grace_seconds")
        }
        if let sweep_interval_seconds {
            configuration.sweepIntervalMilliseconds = try Self.milliseconds(sweep_interval_seconds, "sweep_interval_seconds")
        }
        if let max_connections { configuration.maxConnections = max_connections }
        if let threads { configuration.threads = threads }
        if let max_in_flight_per_connection { configuration.maxInFlightPerConnection = max_in_flight_per_connection }
        if let idle_connection_timeout_seconds {
            configuration.idleTimeoutMilliseconds = try Self.milliseconds(
                idle_connection_timeout_seconds, "idle_connection_timeout_seconds")
        }
        if let frame_deadline_seconds {
            configuration.frameDeadlineMilliseconds = try Self.milliseconds(frame_deadline_seconds, "frame_deadline_seconds")
        }
        if let auth_timeout_seconds {
            configuration.authTimeoutMilliseconds = try Self.milliseconds(auth_timeout_seconds, "auth_timeout_seconds")
        }
        if let login_rate_per_app { configuration.loginRatePerApp = try login_rate_per_app.limit("login_rate_per_app") }
        if let login_rate_per_user { configuration.loginRatePerUser = try login_rate_per_user.limit("login_rate_per_user") }
        if let url = wechat?.base_url { configuration.wechatBaseURL = url }
        if let timeout = wechat?.timeout_seconds {
            configuration.upstream.callTimeout = .milliseconds(try Self.milliseconds(timeout, "wechat.timeout_seconds"))
        }
        if let retries = wechat?.max_retries { configuration.upstream.maxRetries = retries }
        if let failures = wechat?.breaker_failures { configuration.upstream.breakerFailureThreshold = failures }
        if let cooldown = wechat?.breaker_cooldown_seconds {
            configuration.upstream.breakerCooldown = .milliseconds(try Self.milliseconds(cooldown, "wechat.breaker_cooldown_seconds"))
        }
        if let age = decrypt_max_age_seconds {
            configuration.userData.maxWatermarkAgeMilliseconds = try Self.milliseconds(age, "decrypt_max_age_seconds")
        }
        for app in apps ?? [] {
            if let age = app.decrypt_max_age_seconds {
                configuration.userData.maxWatermarkAgePerApp[app.app_id] = try Self.milliseconds(
                    age, "apps[\(app.app_id)].decrypt_max_age_seconds")
            }
            let secret = try Self.secret(inline: app.secret, env: app.secret_env, environment: environment,
                                         what: "app \(app.app_id)")
            configuration.apps.append(AppConfiguration(
                appID: app.app_id, secret: secret,
                idleTimeoutMilliseconds: try app.idle_timeout_seconds.map {
                    try Self.milliseconds($0, "apps[\(app.app_id)].idle_timeout_seconds")
                } ?? AppConfiguration.defaultIdleTimeoutMilliseconds,
                absoluteLifetimeMilliseconds: try app.absolute_lifetime_seconds.map {
                    try Self.milliseconds($0, "apps[\(app.app_id)].absolute_lifetime_seconds")
                } ?? AppConfiguration.defaultAbsoluteLifetimeMilliseconds
            ))
        }
        for caller in callers ?? [] {
            let secret = try Self.secret(inline: caller.secret, env: caller.secret_env, environment: environment,
                                         what: "caller \(caller.id)")
            var permissions: Permissions = []
            for name in caller.permissions {
                guard let permission = Permissions(name: name) else {
                    throw ConfigurationError("caller \(caller.id): unknown permission \(name)")
                }
                permissions.formUnion(permission)
            }
            configuration.callers.append(CallerConfiguration(id: caller.id, secret: secret, permissions: permissions))
        }
    }

    /// The server keys the file names, or nil when it names none.
    public func keyring(environment: [String: String]) throws -> ServerKeyring? {
        guard let keys, !keys.isEmpty else { return nil }
        let material = try keys.map { key -> ServerKeyring.KeyMaterial in
            let hex = try Self.secret(inline: key.secret_hex, env: key.secret_hex_env, environment: environment,
                                      what: "server key \(key.id)")
            guard let bytes = Self.decodeHex(hex) else {
                throw ConfigurationError("server key \(key.id) is not hex")
            }
            guard bytes.contains(where: { $0 != 0 }) else {
                throw ConfigurationError("server key \(key.id) is all zeros; use 32+ random bytes (openssl rand -hex 32)")
            }
            return ServerKeyring.KeyMaterial(id: key.id, secret: bytes)
        }
        do {
            return try ServerKeyring(keys: material, primary: primary_key ?? material.map(\.id).max()!)
        } catch {
            throw ConfigurationError("server keys: \(error)")
        }
    }

    /// Seconds as given in the file or a flag, in milliseconds; refuses what cannot be a duration (NaN, infinite,
    /// more than a year). Ranges are checked by `ServerConfiguration.validate()`.
    public static func milliseconds(_ seconds: Double, _ name: String) throws(ConfigurationError) -> Int64 {
        guard seconds.isFinite, abs(seconds) <= 366 * 86_400 else {
            throw ConfigurationError("\(name) must be a number of seconds, not \(seconds)")
        }
        return Int64((seconds * 1000).rounded())
    }

    static func secret(inline: String?, env: String?, environment: [String: String], what: String) throws -> String {
        if let env {
            guard let value = environment[env], !value.isEmpty else {
                throw ConfigurationError("\(what): environment variable \(env) is not set")
            }
            return value
        }
        guard let inline, !inline.isEmpty else {
            throw ConfigurationError("\(what): give \"secret_env\" (an environment variable name) or \"secret\"")
        }
        return inline
    }

    public static func decodeHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
