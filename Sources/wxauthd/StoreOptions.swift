import Logging
import WXAuthRedis
import WXAuthServer
import WXAuthSessions
import WXAuthSharedStore

/// `--store redis://host:port[,host:port...]` (or `WXAUTH_STORE`): sessions in Redis, shared by every wxauthd
/// node pointed at it. The seeds may be any nodes of a Redis Cluster, or one standalone server (told apart by
/// `INFO cluster`). The ACL user and password come from `WXAUTH_REDIS_USERNAME` and `WXAUTH_REDIS_PASSWORD`, never
/// from the URL (it would show in `ps`).
enum StoreOptions {
    static func seeds(_ url: String) throws -> [RedisAddress] {
        guard url.hasPrefix("redis://") else {
            throw ConfigurationError("--store must be redis://host:port[,host:port...] (rediss:// TLS is not supported yet), not \(url)")
        }
        let list = url.dropFirst("redis://".count).split(separator: "/", maxSplits: 1).first ?? ""
        if list.contains("@") {
            throw ConfigurationError("--store: put the Redis user and password in WXAUTH_REDIS_USERNAME and WXAUTH_REDIS_PASSWORD, not in the URL")
        }
        let seeds = list.split(separator: ",").map { RedisAddress(parsing: String($0)) }
        guard !seeds.isEmpty, seeds.allSatisfy({ $0 != nil }) else {
            throw ConfigurationError("--store: every seed must be host:port, as in redis://127.0.0.1:7000,127.0.0.1:7001")
        }
        return seeds.compactMap { $0 }
    }

    /// Connects to the seeds and answers the client for the deployment found there (cluster or standalone).
    static func client(url: String, environment: [String: String], logger: Logger) async throws -> any RedisClient {
        let seeds = try seeds(url)
        var connection = RedisConnectionConfiguration(
            username: environment["WXAUTH_REDIS_USERNAME"], password: environment["WXAUTH_REDIS_PASSWORD"],
            clientName: "wxauthd")
        connection.commandTimeout = .seconds(1)
        var lastError: (any Error)?
        for seed in seeds {
            let probe = RedisStandaloneClient(address: seed, configuration: connection, logger: logger)
            do {
                let info = try await probe.execute(RedisCommand(["INFO", "cluster"]), timeout: .seconds(2)).string ?? ""
                if info.contains("cluster_enabled:1") {
                    await probe.shutdown()
                    return RedisClusterClient(configuration: .init(seeds: seeds, connection: connection), logger: logger)
                }
                return probe
            } catch {
                lastError = error
                await probe.shutdown()
            }
        }
        throw ConfigurationError("--store: no Redis seed answered (\(seeds.map(\.description).joined(separator: ", "))): \(lastError.map { "\($0)" } ?? "")")
    }
}
