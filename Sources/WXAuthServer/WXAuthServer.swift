import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import WXAuthCrypto
import WXAuthPersistence
import WXAuthProtocol
import WXAuthSessions
import WXAuthSharedStore
import WXAuthWeChat

/// wxauthd's TCP server as a swift-service-lifecycle `Service`: binds, serves on every core, sweeps expired
/// sessions in the background, and on graceful shutdown stops accepting, lets in-flight requests finish, then
/// returns.
public final class WXAuthServer: Service {
    public let configuration: ServerConfiguration
    public let store: SessionStore
    /// Set when sessions live in Redis (`--store redis://...`); `store` then stays empty.
    public let sharedStore: SharedSessionStore?
    public let statistics = ServerStatistics()
    private let processor: RequestProcessor
    private let authentication: AuthenticationGuard
    private let turns = EventLoopTurnsRegistry()
    private let connections = ConnectionRegistry()
    private let random: any RandomSource
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) async -> Void

    public init(
        configuration: ServerConfiguration,
        keyring: ServerKeyring,
        exchanger: any CodeExchanging,
        userDataAPI: (any WeChatUserDataCalling)? = nil,
        sharedStore: SharedSessionStore? = nil,
        coordination: ClusterCoordination? = nil,
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = OpenSSLRandom(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) throws {
        try configuration.validate()
        if sharedStore != nil, configuration.persistence != nil {
            throw ConfigurationError("data_dir (--data-dir) is for the in-memory store; with --store redis://... durability is Redis's (AOF, replicas): drop one of them")
        }
        self.configuration = configuration
        self.sharedStore = sharedStore
        self.store = SessionStore(
            configuration: configuration.sessions, keyring: keyring, apps: AppRegistry(configuration.apps),
            clock: clock, random: random
        )
        let backend: SessionBackend = sharedStore.map { .shared($0) } ?? .memory(store)
        let fingerprint = TokenFingerprint(random: random)
        let resilient = ResilientCodeExchanger(upstream: exchanger, policy: configuration.upstream, logger: logger)
        let login = LoginCoordinator(
            exchanger: resilient, store: backend, fingerprint: fingerprint, perApp: configuration.loginRatePerApp,
            perUser: configuration.loginRatePerUser, coordination: coordination, deadline: configuration.upstream.callTimeout,
            logger: logger
        )
        let userData = UserDataCoordinator(
            store: backend, wechat: userDataAPI, policy: configuration.userData, fingerprint: fingerprint, logger: logger
        )
        self.processor = RequestProcessor(
            store: store, backend: backend, callers: try CallerRegistry(configuration.callers), login: login, userData: userData,
            fingerprint: fingerprint, logger: logger
        )
        self.authentication = AuthenticationGuard(
            callers: processor.callers, failuresPerAddress: configuration.authFailuresPerAddress,
            fingerprint: TokenFingerprint(random: random), statistics: statistics, logger: logger
        )
        self.random = random
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        // Sessions from the last run come back before the port opens (WXAuthServer+Persistence.swift).
        let persistence = try SessionPersistence.open(configuration.persistence, store: store, random: random, logger: logger)
        sharedStore?.start()
        let serverChannel: any Channel
        do {
            serverChannel = try await bind()
        } catch {
            persistence?.shutdown(finalSnapshot: false)
            await sharedStore?.shutdown()
            throw error
        }
        guard let address = serverChannel.localAddress else { throw ServerStartError.noLocalAddress }
        logger.notice("wxauthd listening", metadata: [
            "address": "\(address)", "apps": "\(store.apps.apps.count)",
            "callers": "\(configuration.callers.count)", "open": "\(processor.callers.isOpen)",
            "store": "\(sharedStore == nil ? "memory" : "redis")",
        ])
        let grace = ShutdownGrace(configuration)
        if grace.isExtended {
            logger.notice("shutdown grace extended to outlast the WeChat call deadline", metadata: [
                "configured_ms": "\(grace.configured.wholeMilliseconds)", "effective_ms": "\(grace.effective.wholeMilliseconds)",
            ])
        }
        await onListening(address)

        let sweeper = Task { [store, logger, configuration] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(configuration.sweepIntervalMilliseconds))
                let removed = store.sweep()
                if removed > 0 { logger.debug("sweep", metadata: ["removed": "\(removed)", "entries": "\(store.entryCount)"]) }
                HeapRelease.returnFreeMemory()
            }
        }
        defer { sweeper.cancel() }

        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await serverChannel.closeFuture.get()
            } onCancel: {
                serverChannel.close(promise: nil)
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        logger.notice("wxauthd stopped accepting; draining connections", metadata: ["open": "\(connections.count)"])
        await connections.drain(timeout: TimeAmount(grace.effective))
        persistence?.shutdown()
        await sharedStore?.shutdown()
        logger.notice("wxauthd stopped")
    }

    /// Performs one request outside the binary protocol (the HTTP edge), with the same rules, limits and statuses
    /// as a connection that is allowed every operation. The caller authenticates its own callers.
    public func respond(to message: RequestMessage) async -> Response {
        await processor.response(to: message)
    }

    /// For the HTTP edge: the permissions of the caller `callerID` when `secret` is its configured secret, nil
    /// otherwise (unknown callers included). Compared in constant time; the secret is neither kept nor logged.
    public func callerPermissions(callerID: String, secret: String) -> Permissions? {
        processor.callers.authenticate(callerID: callerID, secret: secret)
    }

    /// True when no callers are configured (the binary protocol then grants everything to everyone).
    public var isOpen: Bool { processor.callers.isOpen }

    private func bind() async throws -> any Channel {
        let statistics = statistics
        let logger = logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoff(statistics: statistics, logger: logger))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configureConnection(channel) }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
    }

    /// Sets up one accepted connection's pipeline (on its event loop): a refusal for throttled addresses and
    /// connections over the cap, otherwise the connection handler (which keeps the idle timer itself).
    func configureConnection(_ channel: any Channel) throws {
        let sync = channel.pipeline.syncOperations
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        if let retryAfter = authentication.retryAfter(address: address) {
            statistics.recordThrottledConnection()
            let milliseconds = UInt32(clamping: max(1, retryAfter.wholeMilliseconds))
            try sync.addHandler(ConnectionRefusalHandler(ServerError(
                .rateLimited, "too many failed authentications from this address", retryAfterMilliseconds: milliseconds
            )))
            return
        }
        guard connections.admit(channel, limit: configuration.maxConnections) else {
            statistics.recordRefusedConnection()
            try sync.addHandler(ConnectionRefusalHandler(ServerError(.serverFull, "too many connections")))
            return
        }
        let nonce = (try? random.bytes(count: 32)) ?? []
        guard nonce.count == 32 else {
            try sync.addHandler(ConnectionRefusalHandler(ServerError(.internalError, "internal error")))
            return
        }
        let limits = ConnectionHandler.Limits(
            maxFrameSize: configuration.maxFrameSize, maxInFlight: configuration.maxInFlightPerConnection,
            frameDeadline: .milliseconds(configuration.frameDeadlineMilliseconds),
            authenticationDeadline: configuration.authTimeoutMilliseconds > 0
                ? .milliseconds(configuration.authTimeoutMilliseconds) : nil,
            idleTimeout: configuration.idleTimeoutMilliseconds > 0
                ? .milliseconds(configuration.idleTimeoutMilliseconds) : nil
        )
        try sync.addHandler(ConnectionHandler(
            processor: processor, authentication: authentication, statistics: statistics,
            counters: statistics.counters(for: channel.eventLoop), turns: turns.turns(on: channel.eventLoop), nonce: nonce, limits: limits, logger: logger
        ))
    }
}

public enum ServerStartError: Error, CustomStringConvertible {
    case noLocalAddress

    public var description: String { "the listening socket has no local address" }
}
