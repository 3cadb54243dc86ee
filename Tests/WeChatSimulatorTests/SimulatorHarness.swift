import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import WXAuthWeChat
import WeChatSimulator

/// Apps every test simulator knows.
enum TestApps {
    static let dev = "wxdevapp00000001"
    static let devSecret = "devsecret"
    static let other = "wxotherapp000002"
    static let otherSecret = "othersecret"

    static func configuration(codeLifetime: Duration = .seconds(300)) -> WeChatSimulatorConfiguration {
        WeChatSimulatorConfiguration(apps: [dev: devSecret, other: otherSecret], codeLifetime: codeLifetime)
    }
}

/// What a test body gets: a running simulator, a real client pointed at it, and the raw HTTP client.
struct SimulatorHarness: Sendable {
    let simulator: WeChatSimulator
    let client: WeChatAPIClient
    let http: HTTPClient
    let logs: RecordingLogHandler.Storage

    /// Exchanges a dev-app code, returning the error (and recording an issue if the call succeeded).
    func exchangeFailure(appID: String = TestApps.dev, secret: String = TestApps.devSecret, code: String) async -> WeChatError? {
        do {
            let identity = try await self.client.exchange(appID: appID, secret: secret, code: code)
            Issue.record("expected a WeChatError, got \(identity)")
            return nil
        } catch {
            return error
        }
    }

    /// Sends a request to the simulator and returns status and body text.
    func send(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: self.simulator.baseURL + path)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await self.http.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: bytes))
    }
}

/// Starts a simulator on port 0 and a real `WeChatAPIClient`, runs `body`, and shuts both down whatever happens.
func withSimulator(
    _ configuration: WeChatSimulatorConfiguration = TestApps.configuration(),
    clientTimeout: Duration = .seconds(5),
    _ body: (SimulatorHarness) async throws -> Void
) async throws {
    let simulator = WeChatSimulator(configuration: configuration)
    try await simulator.start()
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    let logs = RecordingLogHandler.Storage()
    let logger = Logger(label: "test") { label in RecordingLogHandler(storage: logs) }
    let client = WeChatAPIClient(baseURL: simulator.baseURL, httpClient: http, timeout: clientTimeout, logger: logger)
    let harness = SimulatorHarness(simulator: simulator, client: client, http: http, logs: logs)
    do {
        try await body(harness)
    } catch {
        try? await http.shutdown()
        try? await simulator.shutdown()
        throw error
    }
    try await http.shutdown()
    try await simulator.shutdown()
}

/// Keeps every log line (message and metadata rendered as text) so tests can check what was logged.
struct RecordingLogHandler: LogHandler {
    final class Storage: Sendable {
        private let lines = Mutex<[String]>([])

        func append(_ line: String) {
            self.lines.withLock { $0.append(line) }
        }

        var all: [String] {
            self.lines.withLock { $0 }
        }
    }

    let storage: Storage
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.storage.append("\(event.level) \(event.message) \(rendered)")
    }
}
