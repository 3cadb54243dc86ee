import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import WXAuthClient
import WXAuthCrypto
import WXAuthProtocol
import WXAuthServer
import WXAuthSessions
import WXAuthWeChat
import WeChatSimulator

/// A wxauthd wired to WeChat as the daemon wires it (a `WeChatConnectionPool` sized to the login burst, the call
/// deadline from `UpstreamPolicy`), in front of a simulator; for tests of load and shutdown.
struct PooledTestServer {
    let server: WXAuthServer
    let simulator: WeChatSimulator
    let port: Int
    let logs: CapturedLogs
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>
    private let pool: WeChatConnectionPool
    private let userDataHTTP: HTTPClient

    /// - Parameters:
    ///   - connections: the pool size; nil sizes it as wxauthd does, from the per-app login burst.
    ///   - userDataBaseURL: where the user-data calls go (default: the simulator), with `userDataTimeout`.
    static func start(
        configure: (inout ServerConfiguration) -> Void = { _ in }, connections: Int? = nil,
        userDataBaseURL: String? = nil, userDataTimeout: Duration? = nil
    ) async throws -> PooledTestServer {
        let logs = CapturedLogs()
        let logger = logs.logger(label: "wxauthd-test")
        let simulator = try await ServerUnderTest.simulator(logger: logger)
        let configuration = ServerUnderTest.configuration(configure)
        let pool = WeChatConnectionPool(connections: connections ?? WeChatConnectionPool.connections(
            forLoginBursts: configuration.apps.map { _ in configuration.loginRatePerApp.burst }))
        let userDataHTTP = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        let running = try await ServerUnderTest.run(logger: logger) { onListening in try WXAuthServer(
            configuration: configuration,
            keyring: try ServerKeyring.ephemeral(),
            exchanger: WeChatAPIClient(
                baseURL: simulator.baseURL, pool: pool, timeout: configuration.upstream.attemptTimeout, logger: logger),
            userDataAPI: WeChatUserDataClient(
                baseURL: userDataBaseURL ?? simulator.baseURL, httpClient: userDataHTTP,
                timeout: userDataTimeout ?? configuration.upstream.callTimeout, logger: logger),
            logger: logger,
            onListening: onListening
        ) }
        return PooledTestServer(
            server: running.server, simulator: simulator, port: running.port, logs: logs, group: running.group,
            runTask: running.runTask, pool: pool, userDataHTTP: userDataHTTP
        )
    }

    static func with<R>(
        configure: (inout ServerConfiguration) -> Void = { _ in }, connections: Int? = nil,
        userDataBaseURL: String? = nil, _ body: (PooledTestServer) async throws -> R
    ) async throws -> R {
        let server = try await start(configure: configure, connections: connections, userDataBaseURL: userDataBaseURL)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Graceful shutdown, as SIGTERM would do it.
    func triggerShutdown() async { await group.triggerGracefulShutdown() }

    func waitUntilStopped() async { _ = try? await runTask.value }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
        try? await pool.shutdown()
        try? await userDataHTTP.shutdown()
        try? await simulator.shutdown()
    }

    func client() async throws -> WXAuthClient {
        try await WXAuthClient.connect(host: "127.0.0.1", port: port, requestTimeout: .seconds(30))
    }

    func mintCode(user: String) throws -> String {
        try simulator.mintCode(appID: TestServer.appID, user: user)
    }
}

/// What one LOGIN came back with, for tests that count outcomes.
enum LoginResult: Sendable, Equatable {
    case session(String)
    case refused(Status)
    case failed(String)

    static func of(_ body: () async throws -> WXAuthClient.IssuedSession) async -> LoginResult {
        do {
            return .session(try await body().token)
        } catch let error as ServerError {
            return .refused(error.status)
        } catch {
            return .failed("\(error)")
        }
    }

    var isSession: Bool { if case .session = self { true } else { false } }
}
