import Logging
import NIOCore
import ServiceLifecycle
import WXAuthServer
import WXAuthSessions
import WXAuthWeChat
import WeChatSimulator

/// What every in-process test server shares: a WeChat simulator for the test app, the configuration it starts
/// from, and the server run in a `ServiceGroup` (as wxauthd runs it) until it reports its port.
enum ServerUnderTest {
    static func simulator(logger: Logger) async throws -> WeChatSimulator {
        let simulator = WeChatSimulator(
            configuration: WeChatSimulatorConfiguration(apps: [TestServer.appID: TestServer.secret]), logger: logger)
        try await simulator.start()
        return simulator
    }

    /// Port 0 and the test app, then the test's own changes.
    static func configuration(_ configure: (inout ServerConfiguration) -> Void) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.apps = [AppConfiguration(appID: TestServer.appID, secret: TestServer.secret)]
        configure(&configuration)
        return configuration
    }

    /// A server running in its service group.
    struct Running {
        let server: WXAuthServer
        let port: Int
        let group: ServiceGroup
        let runTask: Task<Void, any Error>
    }

    /// Builds the server with `make` (given the `onListening` callback to pass on), runs it, and waits for its port.
    static func run(
        logger: Logger, _ make: (@escaping @Sendable (SocketAddress) async -> Void) throws -> WXAuthServer
    ) async throws -> Running {
        let (addresses, continuation) = AsyncStream.makeStream(of: SocketAddress.self)
        let server = try make { address in continuation.yield(address) }
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        let runTask = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next(), let port = address.port else {
            throw TestFailure("server did not start")
        }
        return Running(server: server, port: port, group: group, runTask: runTask)
    }
}
