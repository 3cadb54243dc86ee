import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import WXAuthClient
import WXAuthCrypto
import WXAuthProtocol
import WXAuthServer
import WXAuthSessions
import WXAuthWeChat
import WeChatSimulator

/// A real wxauthd on a loopback port 0 in front of a real WeChat simulator, for one test.
struct TestServer {
    static let appID = "wxtest0000000001"
    static let secret = "test-app-secret-0123456789"

    let server: WXAuthServer
    let simulator: WeChatSimulator
    let port: Int
    let clock: ManualWallClock
    let logs: CapturedLogs
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>
    private let httpClient: HTTPClient

    /// Starts everything, runs `body`, then shuts everything down (even when `body` throws).
    static func with<R>(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        wechatTimeout: Duration = .seconds(5),
        random: any RandomSource = OpenSSLRandom(),
        _ body: (TestServer) async throws -> R
    ) async throws -> R {
        let server = try await TestServer.start(configure: configure, wechatTimeout: wechatTimeout, random: random)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func start(
        configure: (inout ServerConfiguration) -> Void, wechatTimeout: Duration, random: any RandomSource
    ) async throws -> TestServer {
        let logs = CapturedLogs()
        let logger = logs.logger(label: "wxauthd-test")
        let simulator = try await ServerUnderTest.simulator(logger: logger)
        let httpClient = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        let configuration = ServerUnderTest.configuration(configure)
        let clock = ManualWallClock(milliseconds: SystemWallClock().nowMilliseconds())
        let running = try await ServerUnderTest.run(logger: logger) { onListening in try WXAuthServer(
            configuration: configuration,
            keyring: try ServerKeyring.ephemeral(),
            exchanger: WeChatAPIClient(baseURL: simulator.baseURL, httpClient: httpClient, timeout: wechatTimeout, logger: logger),
            userDataAPI: WeChatUserDataClient(
                baseURL: simulator.baseURL, httpClient: httpClient, timeout: wechatTimeout, logger: logger),
            clock: clock,
            random: random,
            logger: logger,
            onListening: onListening
        ) }
        return TestServer(
            server: running.server, simulator: simulator, port: running.port, clock: clock, logs: logs,
            group: running.group, runTask: running.runTask, httpClient: httpClient
        )
    }

    /// Graceful shutdown, as SIGTERM would do it; waits until the server has returned.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
        try? await httpClient.shutdown()
        try? await simulator.shutdown()
    }

    func triggerShutdown() async {
        await group.triggerGracefulShutdown()
    }

    func waitUntilStopped() async {
        _ = try? await runTask.value
    }

    func client(callerID: String? = nil, secret: String? = nil) async throws -> WXAuthClient {
        try await WXAuthClient.connect(host: "127.0.0.1", port: port, callerID: callerID, callerSecret: secret)
    }

    func raw() async throws -> RawConnection {
        try await RawConnection.connect(port: port)
    }

    func mintCode(user: String = "alice") throws -> String {
        try simulator.mintCode(appID: Self.appID, user: user)
    }

    /// Logs in `user` through the simulator and returns the issued token.
    func login(_ client: WXAuthClient, user: String = "alice") async throws -> WXAuthClient.IssuedSession {
        try await client.login(appID: Self.appID, code: try mintCode(user: user))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A random source that can be switched to fail (to prove fail-closed token issue).
final class SwitchableRandom: RandomSource {
    let failing = Atomic<Bool>(false)
    private let real = OpenSSLRandom()

    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        if failing.load(ordering: .relaxed) { throw CryptoError(operation: "RAND_bytes (test failure)") }
        try real.fill(buffer)
    }
}
