/// Configuration problems found before anything binds, each with what to do about it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ServerConfiguration {
    /// Throws the first problem that would make the server unsafe or useless.
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
        if maxFrameSize < 64 || maxFrameSize > 16 * 1024 * 1024 {
            throw ConfigurationError("max frame size must be between 64 bytes and 16 MiB")
        }
        let shards = sessions.shardCount
        if shards <= 0 || shards & (shards - 1) != 0 || shards > 65536 {
            throw ConfigurationError("shard count must be a power of two between 1 and 65536")
        }
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

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }
}
