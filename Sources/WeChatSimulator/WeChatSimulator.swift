import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for WeChat's `api.weixin.qq.com`, serving HTTP on loopback: `GET /sns/jscode2session` behaves like
/// WeChat's (apps, per-app openids, single-use codes with a lifetime, WeChat's errcodes and errmsgs with a rid),
/// and a control API under `/sim/` mints codes, injects faults and latency, and reports stats. The user-data
/// endpoints behave like WeChat's too: `POST /cgi-bin/stable_token` (expiring access tokens; 40001 once stale,
/// 42001 once expired), `POST /wxa/business/getuserphonenumber` (single-use phone codes), `GET /wxa/checksession`
/// and `GET /wxa/resetusersessionkey` (87009 for a key that is not the user's current one); `/sim/encrypt`,
/// `/sim/phone-code` and `/sim/expire-access-tokens` drive them.
///
/// Everything the control API does is also available in-process. Usage:
/// ```swift
/// let simulator = WeChatSimulator(configuration: .init(apps: ["wxdevapp00000001": "devsecret"]))
/// try await simulator.start()
/// let code = try simulator.mintCode(appID: "wxdevapp00000001", user: "alice")
/// // ... exchange `code` at simulator.baseURL ...
/// try await simulator.shutdown()
/// ```
public final class WeChatSimulator: Sendable {
    /// The configuration the simulator was created with.
    public let configuration: WeChatSimulatorConfiguration

    private enum Lifecycle {
        case idle
        case starting
        case running(server: any Channel, baseURL: String, port: Int)
        case stopped(baseURL: String?, port: Int?)
    }

    private let group: any EventLoopGroup
    private let logger: Logger
    private let store: SimulatorStore
    private let connections = ConnectionRegistry()
    private let lifecycle = NIOLockedValueBox<Lifecycle>(.idle)

    /// - Parameters:
    ///   - configuration: apps, fixture users, code lifetime, latency.
    ///   - eventLoopGroup: where the server runs; the caller owns it. Default: NIO's shared singleton.
    ///   - logger: receives start/stop at info and one line per request at debug. Default: discards everything.
    public init(
        configuration: WeChatSimulatorConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "wechat-sim", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.store = SimulatorStore(configuration: configuration)
    }

    // MARK: Lifecycle

    /// Binds `host:port` (port 0 picks a free port) and starts serving.
    /// - Throws: `WeChatSimulatorError` `.nonLoopbackHost` for anything but loopback, `.alreadyStarted` when called
    ///   twice; NIO's error when the bind fails.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws {
        guard Self.isLoopback(host) else {
            throw WeChatSimulatorError(.nonLoopbackHost, "the simulator binds loopback only (127.0.0.0/8, ::1, localhost), not \(host)")
        }
        let wasIdle = self.lifecycle.withLockedValue { (state: inout Lifecycle) -> Bool in
            guard case .idle = state else { return false }
            state = .starting
            return true
        }
        guard wasIdle else { throw WeChatSimulatorError(.alreadyStarted, "start() may be called once") }
        let router = SimulatorRouter(store: self.store, logger: self.logger)
        let maximumBodyBytes = self.configuration.maximumRequestBodyBytes
        let connections = self.connections
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.register(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withErrorHandling: true
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        SimulatorHTTPHandler(router: router, maximumBodyBytes: maximumBodyBytes)
                    )
                }
            }
        let server: any Channel
        do {
            server = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            self.lifecycle.withLockedValue { $0 = .idle }
            throw error
        }
        let boundPort = server.localAddress?.port ?? port
        let ip = server.localAddress?.ipAddress ?? host
        let baseURL = ip.contains(":") ? "http://[\(ip)]:\(boundPort)" : "http://\(ip):\(boundPort)"
        self.lifecycle.withLockedValue { $0 = .running(server: server, baseURL: baseURL, port: boundPort) }
        self.logger.info("WeChat simulator listening", metadata: ["base_url": "\(baseURL)"])
    }

    /// Stops listening and closes every connection (answers still waiting for a hang are dropped). Idempotent.
    public func shutdown() async throws {
        let server: (any Channel)? = self.lifecycle.withLockedValue { state in
            switch state {
            case .running(let server, let baseURL, let port):
                state = .stopped(baseURL: baseURL, port: port)
                return server
            case .idle, .starting:
                state = .stopped(baseURL: nil, port: nil)
                return nil
            case .stopped:
                return nil
            }
        }
        guard let server else { return }
        do {
            try await server.close()
        } catch ChannelError.alreadyClosed {
            // Fine: the goal is reached.
        }
        await self.connections.closeAll()
        self.logger.info("WeChat simulator stopped")
    }

    /// Where the simulator listens, e.g. "http://127.0.0.1:54321" (no trailing slash). Call after `start()`.
    public var baseURL: String {
        self.lifecycle.withLockedValue { state in
            switch state {
            case .running(_, let baseURL, _), .stopped(let baseURL?, _):
                return baseURL
            case .idle, .starting, .stopped(nil, _):
                preconditionFailure("WeChatSimulator.baseURL is available after start()")
            }
        }
    }

    /// The bound port (useful with `port: 0`). Call after `start()`.
    public var port: Int {
        self.lifecycle.withLockedValue { state in
            switch state {
            case .running(_, _, let port), .stopped(_, let port?):
                return port
            case .idle, .starting, .stopped(_, nil):
                preconditionFailure("WeChatSimulator.port is available after start()")
            }
        }
    }

    // MARK: In-process control

    /// Issues a login code for `user` of `appID` (creating the user on first use), like `wx.login` would.
    /// - Parameter code: the exact code text to issue (any string, e.g. with `+/=`); default: a random
    ///   32-character alphanumeric code like WeChat's.
    /// - Throws: `.unknownApp`, `.codeAlreadyIssued`, `.invalidCode`.
    public func mintCode(appID: String, user: String, code: String? = nil) throws(WeChatSimulatorError) -> String {
        let now = ContinuousClock.now
        return try self.store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
            try state.mintCode(appID: appID, user: user, code: code, now: now).code
        }
    }

    /// The identity jscode2session returns for `user` of `appID`, creating the user on first use.
    /// - Throws: `.unknownApp`.
    public func identity(appID: String, user: String) throws(WeChatSimulatorError) -> WeChatSimulatedUser {
        try self.store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
            try state.identity(appID: appID, user: user)
        }
    }

    /// Makes the next `count` jscode2session calls answer `errcode` (with WeChat's errmsg for it unless `errmsg`
    /// is given). Codes presented during a fault stay unconsumed. Faults queue up in order.
    public func injectFault(errcode: Int32, errmsg: String? = nil, count: Int = 1) {
        self.store.withState {
            $0.inject(.init(errcode: errcode, errmsg: errmsg, hang: .zero, remaining: count))
        }
    }

    /// Makes the next `count` jscode2session calls wait `duration` before answering normally (the code is
    /// consumed on arrival, as at WeChat, even if the caller gives up waiting).
    public func injectHang(_ duration: Duration, count: Int = 1) {
        self.store.withState {
            $0.inject(.init(errcode: nil, errmsg: nil, hang: duration, remaining: count))
        }
    }

    /// Sets the latency added to every jscode2session answer.
    public func setLatency(_ latency: Duration) {
        self.store.withState { $0.setLatency(latency) }
    }

    /// Drops queued faults and hangs and restores the configured latency.
    public func resetFaults() {
        self.store.withState { $0.resetFaults() }
    }

    /// What `wx.getUserInfo` would hand the mini program: `data` plus a watermark (`watermarkAppID`, default the
    /// app; `timestamp`, default now) encrypted with the user's current session_key; rawData and its signature.
    /// - Throws: `.unknownApp`, `.invalidArgument` (data not JSON).
    public func encryptUserData(
        appID: String, user: String, data: [String: any Sendable], watermarkAppID: String? = nil, timestamp: Int64? = nil
    ) throws(WeChatSimulatorError) -> WeChatEncryptedUserData {
        try self.store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
            try state.encryptUserData(appID: appID, user: user, data: data, watermarkAppID: watermarkAppID, timestamp: timestamp)
        }
    }

    /// Issues a single-use getPhoneNumber code (valid 5 minutes) that getuserphonenumber answers with `phone`
    /// ("+86 13800138000", "13800138000", "+1 4155550100").
    public func mintPhoneCode(appID: String, user: String, phone: String) throws(WeChatSimulatorError) -> String {
        let now = ContinuousClock.now
        return try self.store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
            try state.mintPhoneCode(appID: appID, user: user, phone: phone, now: now)
        }
    }

    /// Makes every access token issued so far stale: using one answers 40001; stable_token issues new ones.
    public func expireAccessTokens() {
        self.store.withState { $0.expireAccessTokens() }
    }

    /// What the simulator has served so far.
    public var stats: WeChatSimulatorStats {
        self.store.withState { $0.stats }
    }

    /// 127.0.0.0/8, ::1 or "localhost".
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" {
            return true
        }
        guard host.hasPrefix("127."), (try? SocketAddress(ipAddress: host, port: 0)) != nil else {
            return false
        }
        return true
    }
}
