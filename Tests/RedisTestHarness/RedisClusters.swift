import Foundation
import WXAuthRedis

/// A standalone server with an ACL user `alice` / `secret`, for one suite.
public final class StandaloneRedis: Sendable {
    public let server: RedisServerProcess
    public var address: RedisAddress { RedisAddress(host: "127.0.0.1", port: server.port) }

    public init(server: RedisServerProcess) { self.server = server }

    @TaskLocal public static var current: StandaloneRedis?

    public static func with(_ body: (StandaloneRedis) async throws -> Void) async throws {
        let directory = try RedisTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try RedisServerProcess(port: RedisTools.freePorts(1)[0], directory: directory, arguments: [])
        defer { server.stop() }
        try await server.waitUntilReady()
        try RedisTools.cli(port: server.port, ["ACL", "SETUSER", "alice", "on", ">secret", "~*", "&*", "+@all"])
        try await body(StandaloneRedis(server: server))
    }
}

/// Three primaries with one replica each, `cluster-node-timeout` 1000 ms, shared by one suite.
public final class ClusterRedis: Sendable {
    public let servers: [RedisServerProcess]
    public var seeds: [RedisAddress] { servers.map { RedisAddress(host: "127.0.0.1", port: $0.port) } }

    public init(servers: [RedisServerProcess]) { self.servers = servers }

    @TaskLocal public static var current: ClusterRedis?

    public func server(at address: RedisAddress) -> RedisServerProcess? { servers.first { $0.port == address.port } }

    public func nodeID(_ server: RedisServerProcess) throws -> String {
        try RedisTools.cli(port: server.port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func with(_ body: (ClusterRedis) async throws -> Void) async throws {
        let directory = try RedisTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var servers: [RedisServerProcess] = []
        defer { servers.forEach { $0.stop() } }
        for port in RedisTools.freePorts(6) {
            servers.append(try RedisServerProcess(port: port, directory: directory, arguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf", "--cluster-node-timeout", "1000",
            ]))
        }
        for server in servers { try await server.waitUntilReady() }
        try RedisTools.cli(port: servers[0].port, ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" }
            + ["--cluster-replicas", "1", "--cluster-yes"])
        let cluster = ClusterRedis(servers: servers)
        try await cluster.waitUntilHealthy()
        try await body(cluster)
    }

    /// Every live node says `cluster_state:ok` and every primary has a replica in sync.
    public func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let live = servers.filter(\.isRunning)
            let ok = live.allSatisfy { (try? RedisTools.cli(port: $0.port, ["CLUSTER", "INFO"]))?.contains("cluster_state:ok") == true }
            let synced = live.allSatisfy { server in
                let info = (try? RedisTools.cli(port: server.port, ["INFO", "replication"])) ?? ""
                return info.contains("role:master") || info.contains("master_link_status:up")
            }
            if ok && synced { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("the cluster did not become healthy")
    }
}


public func elapsed(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
