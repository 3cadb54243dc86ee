import AsyncHTTPClient
import Logging
import NIOPosix
import RedisTestHarness
import WXAuthClient
import WXAuthCrypto
import WXAuthRedis
import WXAuthServer
import WXAuthSessions
import WXAuthSharedStore
import WXAuthWeChat
import WeChatSimulator

/// Two real wxauthd servers (in process, each its own listener, Redis client and near cache) sharing sessions
/// through a real Redis Cluster, in front of one WeChat simulator, as two nodes behind a load balancer would be.
final class TwoNodeCluster: Sendable {
    let simulator: WeChatSimulator
    let nodes: [ServerUnderTest.Running]
    let logs: CapturedLogs
    private let httpClient: HTTPClient

    private init(simulator: WeChatSimulator, nodes: [ServerUnderTest.Running], logs: CapturedLogs, httpClient: HTTPClient) {
        self.simulator = simulator
        self.nodes = nodes
        self.logs = logs
        self.httpClient = httpClient
    }

    static func with<R>(
        seeds: [RedisAddress], standalone: Bool = false, redisTimeout: Duration = .seconds(3), configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TwoNodeCluster) async throws -> R
    ) async throws -> R {
        let logs = CapturedLogs()
        let logger = logs.logger(label: "wxauthd-two-nodes")
        let simulator = try await ServerUnderTest.simulator(logger: logger)
        let httpClient = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        let keyring = try ServerKeyring(keys: [.init(id: 1, secret: try OpenSSLRandom().bytes(count: 32))], primary: 1)
        let configuration = ServerUnderTest.configuration(configure)
        var nodes: [ServerUnderTest.Running] = []
        do {
            for _ in 0..<2 {
                let connection = RedisConnectionConfiguration(commandTimeout: redisTimeout, connectTimeout: .milliseconds(500))
                let client: any RedisClient = standalone
                    ? RedisStandaloneClient(address: seeds[0], configuration: connection, logger: logger)
                    : RedisClusterClient(configuration: .init(seeds: seeds, connection: connection), logger: logger)
                let shared = SharedSessionStore(
                    client: client, keyring: keyring, apps: AppRegistry(configuration.apps),
                    configuration: SharedStoreConfiguration(commandTimeout: redisTimeout), logger: logger)
                let coordination = try ClusterCoordination(
                    client: client, keyring: keyring, loginRatePerApp: configuration.loginRatePerApp,
                    loginRatePerUser: configuration.loginRatePerUser, logger: logger)
                nodes.append(try await ServerUnderTest.run(logger: logger) { onListening in try WXAuthServer(
                    configuration: configuration, keyring: keyring,
                    exchanger: WeChatAPIClient(baseURL: simulator.baseURL, httpClient: httpClient, timeout: .seconds(5), logger: logger),
                    userDataAPI: WeChatUserDataClient(
                        baseURL: simulator.baseURL, httpClient: httpClient, timeout: .seconds(5),
                        accessTokenSharing: coordination.accessTokens, logger: logger),
                    sharedStore: shared, coordination: coordination, logger: logger, onListening: onListening
                ) })
            }
        } catch {
            for node in nodes { await node.stop() }
            try? await httpClient.shutdown()
            try? await simulator.shutdown()
            throw error
        }
        let cluster = TwoNodeCluster(simulator: simulator, nodes: nodes, logs: logs, httpClient: httpClient)
        do {
            let result = try await body(cluster)
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            throw error
        }
    }

    func client(_ node: Int) async throws -> WXAuthClient {
        try await WXAuthClient.connect(host: "127.0.0.1", port: nodes[node].port)
    }

    func code(_ user: String) throws -> String {
        try simulator.mintCode(appID: TestServer.appID, user: user)
    }

    /// Stops one node as SIGTERM would (the other keeps serving).
    func stop(node: Int) async {
        await nodes[node].stop()
    }

    func stop() async {
        for node in nodes { await node.stop() }
        try? await httpClient.shutdown()
        try? await simulator.shutdown()
    }
}

extension ServerUnderTest.Running {
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
    }
}
