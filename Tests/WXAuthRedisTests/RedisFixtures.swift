import Foundation
import Testing
@testable import WXAuthRedis

/// A standalone server with an ACL user `alice` / `secret`, for one suite.
final class StandaloneRedis: Sendable {
    let server: RedisServerProcess
    var address: RedisAddress { RedisAddress(host: "127.0.0.1", port: server.port) }

    init(server: RedisServerProcess) { self.server = server }

    @TaskLocal static var current: StandaloneRedis?

    static func with(_ body: (StandaloneRedis) async throws -> Void) async throws {
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
final class ClusterRedis: Sendable {
    let servers: [RedisServerProcess]
    var seeds: [RedisAddress] { servers.map { RedisAddress(host: "127.0.0.1", port: $0.port) } }

    init(servers: [RedisServerProcess]) { self.servers = servers }

    @TaskLocal static var current: ClusterRedis?

    func server(at address: RedisAddress) -> RedisServerProcess? { servers.first { $0.port == address.port } }

    func nodeID(_ server: RedisServerProcess) throws -> String {
        try RedisTools.cli(port: server.port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func with(_ body: (ClusterRedis) async throws -> Void) async throws {
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
    func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
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

/// Suite traits that start the servers once for a whole suite and always stop them.
struct StandaloneRedisTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await StandaloneRedis.with { redis in try await StandaloneRedis.$current.withValue(redis) { try await function() } }
    }
}

struct ClusterRedisTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await ClusterRedis.with { cluster in try await ClusterRedis.$current.withValue(cluster) { try await function() } }
    }
}

extension Trait where Self == StandaloneRedisTrait {
    static var standaloneRedis: Self { Self() }
}

extension Trait where Self == ClusterRedisTrait {
    static var redisCluster: Self { Self() }
}

func elapsed(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
