import Foundation
import Logging
import RedisTestHarness
import Testing
import WXAuthClient
import WXAuthProtocol
import WeChatSimulator

/// Two real `wxauthd --store redis://...` processes over a real Redis Cluster, as an operator runs them: one is
/// killed with SIGKILL, the other serves every session; and the start-up refusals of the store flags.
@Suite("wxauthd --store over a Redis Cluster", .serialized, .redisCluster, .timeLimit(.minutes(2)))
struct SharedStoreDaemonTests {
    var redis: ClusterRedis { ClusterRedis.current! }

    struct Node {
        let process: Process
        let port: Int
    }

    var seeds: String { "redis://" + redis.seeds.map { "\($0.host):\($0.port)" }.joined(separator: ",") }

    /// Starts wxauthd with `config`; the store comes from `--store` unless `storeFlag` is false (then from the file).
    func start(config: URL, environment: [String: String], storeFlag: Bool = true) throws -> Node {
        let process = Process()
        process.executableURL = try DaemonBinaryTests.executable("wxauthd")
        process.arguments = ["--config", config.path, "--port", "0", "--log-level", "warning"] + (storeFlag ? ["--store", seeds] : [])
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = try DaemonReadyLine.read(from: out)
        guard let port = ready["port"] as? Int else {
            process.terminate()
            throw TestFailure("wxauthd --store did not start")
        }
        return Node(process: process, port: port)
    }

    @Test func aNodeKilledWithSIGKILLLeavesEverySessionToTheOther() async throws {
        let simulator = try await ServerUnderTest.simulator(logger: Logger(label: "sim"))
        defer { Task { try? await simulator.shutdown() } }
        let directory = try RedisTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("wxauthd.json")
        try Data("""
            {"apps": [{"app_id": "\(TestServer.appID)", "secret_env": "TEST_APP_SECRET"}],
             "keys": [{"id": 1, "secret_hex_env": "TEST_KEY_1"}],
             "wechat": {"base_url": "\(simulator.baseURL)"},
             "store": {"url": "\(seeds)", "near_cache_capacity": 1000}}
            """.utf8).write(to: config)
        let environment = ["TEST_APP_SECRET": TestServer.secret, "TEST_KEY_1": String(repeating: "5a", count: 32)]
        // One node gets the store from the flag, the other from the file's "store" section.
        let one = try start(config: config, environment: environment)
        let two = try start(config: config, environment: environment, storeFlag: false)
        defer { for node in [one, two] where node.process.isRunning { node.process.terminate() } }

        let first = try await WXAuthClient.connect(host: "127.0.0.1", port: one.port)
        var tokens: [String] = []
        for index in 0..<20 {
            tokens.append(try await first.login(appID: TestServer.appID, code: simulator.mintCode(appID: TestServer.appID, user: "d-\(index)")).token)
        }
        kill(one.process.processIdentifier, SIGKILL)
        one.process.waitUntilExit()
        try? await first.close()

        let second = try await WXAuthClient.connect(host: "127.0.0.1", port: two.port)
        for token in tokens { #expect(try await second.validate(token: token).appID == TestServer.appID) }
        let refreshed = try await second.refresh(token: tokens[0])
        await #expect { try await second.validate(token: tokens[0]) } throws: { ($0 as? ServerError)?.status == .tokenRevoked }
        #expect(try await second.validate(token: refreshed.token).appID == TestServer.appID)
        try? await second.close()
        two.process.terminate()
        two.process.waitUntilExit()
        #expect(two.process.terminationStatus == 0)
    }

    @Test func storeFlagsThatCannotWorkAreRefusedAtStart() throws {
        let directory = try RedisTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = try DaemonBinaryTests.run("wxauthd", ["--dev", "--port", "0", "--sim-port", "0", "--store", "rediss://127.0.0.1:1"])
        #expect(bad.status == 78 && bad.stderr.contains("--store"))
        let inURL = try DaemonBinaryTests.run("wxauthd", ["--dev", "--port", "0", "--sim-port", "0", "--store", "redis://user:pw@127.0.0.1:1"])
        #expect(inURL.status == 78 && inURL.stderr.contains("WXAUTH_REDIS_PASSWORD"))
        let nobody = try DaemonBinaryTests.run("wxauthd", ["--dev", "--port", "0", "--sim-port", "0", "--store", "redis://127.0.0.1:1"])
        #expect(nobody.status == 78 && nobody.stderr.contains("no Redis seed answered"))
        let config = directory.appendingPathComponent("wxauthd.json")
        let json = #"{"apps": [{"app_id": "@APPID@", "secret_env": "TEST_APP_SECRET"}], "keys": [{"id": 1, "secret_hex_env": "TEST_KEY_1"}]}"#
        try Data(json.replacingOccurrences(of: "@APPID@", with: TestServer.appID).utf8).write(to: config)
        let both = try DaemonBinaryTests.run(
            "wxauthd", ["--config", config.path, "--port", "0", "--store", seeds, "--data-dir", directory.path],
            environment: ["TEST_APP_SECRET": TestServer.secret, "TEST_KEY_1": String(repeating: "5a", count: 32)])
        #expect(both.status == 78 && both.stderr.contains("durability is Redis"), "\(both.stderr)")
        let tooBig = try DaemonBinaryTests.run(
            "wxauthd", ["--config", config.path, "--port", "0", "--store", seeds, "--near-cache-capacity=-1"],
            environment: ["TEST_APP_SECRET": TestServer.secret, "TEST_KEY_1": String(repeating: "5a", count: 32)])
        #expect(tooBig.status == 78 && tooBig.stderr.contains("0 to 100000000"), "\(tooBig.stderr)")
    }
}
