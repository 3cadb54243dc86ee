import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import WXAuthCrypto
import WXAuthHTTP
import WXAuthServer
import WXAuthSessions
import WXAuthWeChat
import WeChatSimulator

/// A real wxauthd (binary port and HTTP edge, port 0 both) in front of a real WeChat simulator, for one test. The
/// server's wall clock is manual, so a test can let sessions expire.
struct EdgeUnderTest {
    static let appID = "wxedgetest000001"
    static let secret = "edge-test-app-secret-0123456789"
    static let callerID = "backend"
    static let callerSecret = "backend-caller-secret-0123456789"

    let server: WXAuthServer
    let simulator: WeChatSimulator
    let httpPort: Int
    let clock: ManualWallClock
    let client: HTTPClient
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>

    static func with<R>(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (EdgeUnderTest) async throws -> R
    ) async throws -> R {
        let edge = try await start(configure: configure)
        do {
            let result = try await body(edge)
            await edge.stop()
            return result
        } catch {
            await edge.stop()
            throw error
        }
    }

    static func start(configure: (inout ServerConfiguration) -> Void) async throws -> EdgeUnderTest {
        var logger = Logger(label: "wxauth-http-test")
        logger.logLevel = .warning
        let simulator = WeChatSimulator(
            configuration: WeChatSimulatorConfiguration(apps: [appID: secret]), logger: logger)
        try await simulator.start()
        let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.apps = [AppConfiguration(appID: appID, secret: secret)]
        configuration.callers = [CallerConfiguration(id: callerID, secret: callerSecret, permissions: .all)]
        configuration.http.port = 0
        configure(&configuration)
        let clock = ManualWallClock(milliseconds: SystemWallClock().nowMilliseconds())
        let server = try WXAuthServer(
            configuration: configuration, keyring: try ServerKeyring.ephemeral(),
            exchanger: WeChatAPIClient(baseURL: simulator.baseURL, httpClient: client, timeout: .seconds(5), logger: logger),
            userDataAPI: WeChatUserDataClient(baseURL: simulator.baseURL, httpClient: client, timeout: .seconds(5), logger: logger),
            clock: clock, logger: logger
        )
        let (addresses, continuation) = AsyncStream.makeStream(of: SocketAddress.self)
        let edge = HTTPEdge.application(
            server: server, configuration: configuration.http, defaultHost: "127.0.0.1", logger: logger,
            onListening: { continuation.yield($0) }
        )
        let group = ServiceGroup(configuration: .init(services: [.init(service: server), .init(service: edge)], logger: logger))
        let runTask = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next(), let port = address.port else {
            await group.triggerGracefulShutdown()
            throw EdgeTestFailure("the HTTP edge did not start")
        }
        return EdgeUnderTest(
            server: server, simulator: simulator, httpPort: port, clock: clock, client: client, group: group, runTask: runTask)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
        try? await client.shutdown()
        try? await simulator.shutdown()
    }

    var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    func mintCode(user: String = "alice") throws -> String {
        try simulator.mintCode(appID: Self.appID, user: user)
    }

    /// Logs `user` in through `POST /v1/login` and returns the token.
    func login(user: String = "alice") async throws -> String {
        let answer = try await send(.POST, "/v1/login", json: ["app_id": Self.appID, "code": try mintCode(user: user)])
        guard answer.status == 200, let token = answer.json?["token"] as? String else {
            throw EdgeTestFailure("login answered \(answer.status): \(answer.text)")
        }
        return token
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: [String: Any]? = nil,
        rawBody: [UInt8]? = nil
    ) async throws -> HTTPAnswer {
        try await HTTPAnswer.send(client, method, baseURL + path, headers: headers, json: json, rawBody: rawBody)
    }

    static var callerAuthorization: (String, String) {
        ("Authorization", "Basic " + Data("\(callerID):\(callerSecret)".utf8).base64EncodedString())
    }
}

/// One HTTP answer, read whole.
struct HTTPAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    var errorStatus: String? { (json?["error"] as? [String: Any])?["status"] as? String }

    func header(_ name: String) -> String? { headers.first(name: name) }

    static func send(
        _ client: HTTPClient, _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [],
        json: [String: Any]? = nil, rawBody: [UInt8]? = nil
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let rawBody {
            request.body = .bytes(ByteBuffer(bytes: rawBody))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
    }
}

struct EdgeTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
