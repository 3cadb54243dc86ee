import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import WXAuthCrypto
import WXAuthHTTP
import WXAuthServer
import WXAuthSharedStore
import WXAuthSessions
import WXAuthWeChat
import WeChatSimulator

@main
struct WXAuthDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wxauthd",
        abstract: "The WeChat mini-program login-session service.",
        discussion: """
            Production: give apps with --app APPID (secret in WXAUTH_SECRET_<APPID>) or --config FILE, and server \
            keys in the config file. Development: `wxauthd --dev` runs with an embedded WeChat simulator and an \
            ephemeral key on loopback.
            """
    )

    @Flag(help: "Run with the embedded WeChat simulator, an ephemeral key, loopback only. Never for production.")
    var dev = false

    @Option(help: "Address to bind (default 127.0.0.1).")
    var host: String?

    @Option(help: "TCP port (default 7400; 0 picks a free one).")
    var port: Int?

    @Option(help: ArgumentHelp(
        "Serve the HTTP edge (login endpoint, gateway auth check; protocol/HTTP.md) on this port (default: off; --dev: 7402, or a free one with --port 0).",
        discussion: "Its host is http.host in --config, else --host. Public routes, token header/cookie and trusted proxies are set under \"http\" in --config."))
    var httpPort: Int?

    @Option(help: "JSON configuration file (apps, callers, keys, limits). See README.")
    var config: String?

    @Option(name: .customLong("app"), help: "A WeChat app id to serve; its secret comes from WXAUTH_SECRET_<APPID>. Repeatable.")
    var appIDs: [String] = []

    @Option(help: "Sliding idle timeout of sessions, seconds (default 1800).")
    var idleTimeout: Double?

    @Option(help: "Absolute session lifetime, seconds (default 43200).")
    var absoluteLifetime: Double?

    @Option(help: "How long a repeated REFRESH of the old token returns the same new token, seconds (default 30; 0 to 3600).")
    var refreshGrace: Double?

    @Option(help: "Maximum stored sessions and tombstones; LOGIN beyond it gets SERVER_FULL (default 2000000; 1 to 1000000000).")
    var maxSessions: Int?

    @Option(help: "Session map shards, a power of two (default 256).")
    var shards: Int?

    @Option(help: "Largest accepted frame in bytes (default 65536).")
    var maxFrame: Int?

    @Option(help: "Seconds between sweeps of expired sessions (default 30; 0.1 to 3600).")
    var sweepInterval: Double?

    @Option(help: "Maximum concurrent connections (default 10000; 1 to 1000000; lowered to fit the open file limit).")
    var maxConnections: Int?

    @Option(help: "Event-loop threads serving connections (default: one per core; 1 to 1024).")
    var threads: Int?

    @Option(help: "WeChat API base URL, https only (default https://api.weixin.qq.com; --dev uses the simulator and allows http).")
    var wechatBaseURL: String?

    @Option(help: "How long a LOGIN waits for WeChat, seconds (default 5; 0.1 to 120). A late answer is still kept for the code.")
    var wechatTimeout: Double?

    @Option(help: "--dev only: port of the embedded simulator's HTTP endpoint (default 7401; 0 picks a free one).")
    var simPort: Int = 7401

    @Option(help: ArgumentHelp(
        "--dev only, benchmark aid: create N sessions directly in the store at start and write their tokens to --preload-tokens.",
        discussion: "For wxauth-bench (see BENCHMARKS.md); refused without --dev."
    ))
    var preloadSessions: Int?

    @Option(help: "--dev only: where --preload-sessions writes the tokens, one per line.")
    var preloadTokens = "wxauthd-preload-tokens.txt"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String = "info"

    @Option(help: ArgumentHelp(
        "Keep sessions in Redis, shared by every node given the same URL: redis://host:port[,host:port...] (cluster seeds or one standalone server; default: in memory, or WXAUTH_STORE).",
        discussion: "The ACL user and password come from WXAUTH_REDIS_USERNAME and WXAUTH_REDIS_PASSWORD. Nodes that share a store need the same server keys (--config)."))
    var store: String?

    @Option(help: "With --store: sessions each node keeps in its near cache (default 1000000; 0 sends every VALIDATE to Redis).")
    var nearCacheCapacity: Int?

    @Option(help: ArgumentHelp(
        "With --store: let VALIDATE answer from the near cache for this many seconds after the Redis invalidation feed is lost (default 0: never; 0 to 300).",
        discussion: "A revocation made meanwhile may be missed for that long. Off by default: revocation wins over availability."))
    var nearCacheStaleReads: Double?

    @Option(help: "Keep sessions across restarts in this directory (snapshot + journal, see docs/PERSISTENCE.md). Default: memory only.")
    var dataDir: String?

    @Option(help: "When the journal reaches the disk: always (fsync per change), interval (every second, default), never (no fsync).")
    var journalFlush: String?

    @Option(help: "Seconds between snapshots that compact the journal (default 300).")
    var snapshotInterval: Double?

    @Option(help: ArgumentHelp("Measure snapshot write/load of N synthetic sessions in --data-dir, print the numbers, exit.", visibility: .hidden))
    var measurePersistence: Int?

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "wxauthd")
        do {
            try await serve(logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("wxauthd: \(error.description)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }

    private func serve(logger: Logger) async throws {
        if let measurePersistence {
            try measure(sessions: measurePersistence)
            return
        }
        if let preloadSessions {
            guard dev else {
                throw ConfigurationError("--preload-sessions is a benchmark aid for --dev only; it is refused in production")
            }
            guard preloadSessions >= 0 else { throw ConfigurationError("--preload-sessions must not be negative") }
        }
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.isDevelopment = dev
        var keyring: ServerKeyring?
        var configurationFile: ConfigurationFile?
        if let config {
            let file = try ConfigurationFile.load(path: config)
            configurationFile = file
            try file.apply(to: &configuration, environment: environment)
            keyring = try file.keyring(environment: environment)
        }
        for appID in appIDs {
            let variable = "WXAUTH_SECRET_" + appID.uppercased()
            guard let secret = environment[variable], !secret.isEmpty else {
                throw ConfigurationError("--app \(appID): set its AppSecret in the environment variable \(variable)")
            }
            configuration.apps.append(AppConfiguration(appID: appID, secret: secret))
        }
        try applyFlags(to: &configuration)
        try applyPersistence(to: &configuration, file: configurationFile, environment: environment)

        if dev {
            // The edge is on in --dev, on loopback, every route public (dev is open), unless the file says otherwise.
            if configuration.http.port == nil { configuration.http.port = configuration.port == 0 ? 0 : DevMode.httpPort }
            if configurationFile?.givesHTTPPublicRoutes != true { configuration.http.publicRoutes = Set(HTTPEdgeConfiguration.Route.allCases) }
        }
        var simulator: WeChatSimulator?
        if dev {
            let devSecret = try OpenSSLRandom().bytes(count: 16).map { String(format: "%02x", $0) }.joined()
            configuration.apps.append(AppConfiguration(appID: DevMode.appID, secret: devSecret))
            try applyLifetimes(to: &configuration)
            try configuration.validate()
            let embedded = WeChatSimulator(
                configuration: WeChatSimulatorConfiguration(apps: [DevMode.appID: devSecret]),
                logger: Logger(label: "wechat-sim")
            )
            try await embedded.start(host: "127.0.0.1", port: simPort)
            simulator = embedded
            if wechatBaseURL == nil { configuration.wechatBaseURL = embedded.baseURL }
            if configuration.persistence == nil {
                keyring = try ServerKeyring.ephemeral()
            } else if keyring == nil {
                throw ConfigurationError("""
                    --data-dir with --dev needs a stable server key (the ephemeral one dies with the process, so \
                    nothing saved could be verified again): give "keys" in --config FILE, or drop --data-dir
                    """)
            }
            DevMode.printBanner(
                simulatorURL: embedded.baseURL, ephemeralKey: configuration.persistence == nil,
                open: configuration.callers.isEmpty,
                httpPort: configuration.http.port
            )
        } else {
            try applyLifetimes(to: &configuration)
            try configuration.validate()
            guard keyring != nil else {
                throw ConfigurationError("""
                    no server key is configured. Add "keys": [{"id": 1, "secret_hex_env": "WXAUTH_KEY_1"}] to \
                    --config FILE and put 32+ random bytes, hex-encoded, in WXAUTH_KEY_1 \
                    (for example: openssl rand -hex 32)
                    """)
            }
        }

        // The shared store first: a refusal here must come before anything that needs shutting down.
        var sharedStore: SharedSessionStore?
        var coordination: ClusterCoordination?
        let fileStore = configurationFile?.sharedStore
        let cacheCapacity = nearCacheCapacity ?? fileStore?.near_cache_capacity ?? 1_000_000
        let staleReads = nearCacheStaleReads ?? fileStore?.near_cache_stale_reads_seconds ?? 0
        if !(0...100_000_000).contains(cacheCapacity) {
            throw ConfigurationError("near cache capacity (--near-cache-capacity, store.near_cache_capacity) must be 0 to 100000000, not \(cacheCapacity)")
        }
        if !(0...300).contains(staleReads) {
            throw ConfigurationError("near cache stale reads (--near-cache-stale-reads, store.near_cache_stale_reads_seconds) must be 0 to 300 seconds, not \(staleReads)")
        }
        if let url = store ?? environment["WXAUTH_STORE"] ?? fileStore?.url, !url.isEmpty {
            if configuration.persistence != nil {
                throw ConfigurationError(
                    "--data-dir (data_dir) is for the in-memory store; with --store redis://... durability is Redis's (AOF, replicas): drop one of them")
            }
            let client = try await StoreOptions.client(url: url, environment: environment, logger: Logger(label: "wxauthd.redis"))
            sharedStore = SharedSessionStore(
                client: client, keyring: keyring!, apps: AppRegistry(configuration.apps),
                configuration: SharedStoreConfiguration(
                    refreshGraceMilliseconds: configuration.sessions.refreshGraceMilliseconds,
                    nearCacheCapacity: cacheCapacity,
                    staleReadsWhileFeedDown: staleReads > 0 ? .milliseconds(Int64(staleReads * 1000)) : nil),
                logger: Logger(label: "wxauthd.store"))
            coordination = try ClusterCoordination(
                client: client, keyring: keyring!, loginRatePerApp: configuration.loginRatePerApp,
                loginRatePerUser: configuration.loginRatePerUser, logger: Logger(label: "wxauthd.coordination"))
        }
        // LOGINs get a pool sized to the login burst the rate limits allow (waiting for one of its connections is
        // not WeChat's fault); the user-data calls have their own client, so they never take a LOGIN's connection.
        // Sized within the open file limit, which may also lower max_connections (FileDescriptorLimit.swift).
        let pool = WeChatConnectionPool(connections: try fitFileDescriptorLimit(&configuration, logger: logger))
        let httpClient = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        // The connections' event loops: the process-wide group when it has the size asked for, else our own.
        let ownGroup = configuration.threads == System.coreCount
            ? nil : MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let server: WXAuthServer
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        do {
            let exchanger = WeChatAPIClient(
                baseURL: configuration.wechatBaseURL, pool: pool, timeout: configuration.upstream.attemptTimeout,
                logger: Logger(label: "wxauthd.wechat")
            )
            let userDataAPI = WeChatUserDataClient(
                baseURL: configuration.wechatBaseURL, httpClient: httpClient, timeout: configuration.upstream.callTimeout,
                accessTokenSharing: coordination?.accessTokens, logger: Logger(label: "wxauthd.wechat")
            )
            let simulatorURL = simulator?.baseURL
            let ready = ReadyGate(expectsHTTP: configuration.http.port != nil) { binary, http in
                ReadyLine.print(address: binary, httpAddress: http, simulatorURL: simulatorURL,
                                devAppID: simulatorURL == nil ? nil : DevMode.appID)
            }
            server = try WXAuthServer(
                configuration: configuration, keyring: keyring!, exchanger: exchanger, userDataAPI: userDataAPI,
                sharedStore: sharedStore, coordination: coordination,
                group: ownGroup ?? MultiThreadedEventLoopGroup.singleton, logger: logger,
                onListening: { address in await ready.binaryListening(address) }
            )
            services.append(.init(service: server))
            if configuration.http.port != nil {
                let edge = HTTPEdge.application(
                    server: server, configuration: configuration.http, defaultHost: configuration.host,
                    logger: Logger(label: "wxauthd.http"), onListening: { address in await ready.httpListening(address) }
                )
                services.append(.init(service: edge))
            }
            if let preloadSessions, dev, sharedStore == nil {
                try DevPreload.run(store: server.store, appID: DevMode.appID, count: preloadSessions, tokensPath: preloadTokens)
            }
        } catch {
            try? await httpClient.shutdown()
            try? await pool.shutdown()
            try? await simulator?.shutdown()
            try? await ownGroup?.shutdownGracefully()
            await sharedStore?.shutdown()
            throw error
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch {
            logger.error("wxauthd failed", metadata: ["error": "\(error)"])
            try? await httpClient.shutdown()
            try? await pool.shutdown()
            try? await simulator?.shutdown()
            try? await ownGroup?.shutdownGracefully()
            throw ExitCode.failure
        }
        try? await httpClient.shutdown()
        try? await pool.shutdown()
        try? await simulator?.shutdown()
        try? await ownGroup?.shutdownGracefully()
    }

    /// Flags win over the file; `ServerConfiguration.validate()` then checks every value, whichever gave it.
    private func applyFlags(to configuration: inout ServerConfiguration) throws {
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let httpPort { configuration.http.port = httpPort }
        if let refreshGrace {
            configuration.sessions.refreshGraceMilliseconds = try ConfigurationFile.milliseconds(refreshGrace, "--refresh-grace")
        }
        if let maxSessions { configuration.sessions.maxEntries = maxSessions }
        if let shards { configuration.sessions.shardCount = shards }
        if let maxFrame { configuration.maxFrameSize = maxFrame }
        if let sweepInterval {
            configuration.sweepIntervalMilliseconds = try ConfigurationFile.milliseconds(sweepInterval, "--sweep-interval")
        }
        if let maxConnections { configuration.maxConnections = maxConnections }
        if let threads { configuration.threads = threads }
        if let wechatBaseURL { configuration.wechatBaseURL = wechatBaseURL }
        if let wechatTimeout {
            configuration.upstream.callTimeout = .milliseconds(try ConfigurationFile.milliseconds(wechatTimeout, "--wechat-timeout"))
        }
    }

    /// `--idle-timeout` and `--absolute-lifetime` apply to every app (overriding per-app file settings).
    private func applyLifetimes(to configuration: inout ServerConfiguration) throws {
        let idle = try idleTimeout.map { try ConfigurationFile.milliseconds($0, "--idle-timeout") }
        let absolute = try absoluteLifetime.map { try ConfigurationFile.milliseconds($0, "--absolute-lifetime") }
        for index in configuration.apps.indices {
            if let idle { configuration.apps[index].idleTimeoutMilliseconds = idle }
            if let absolute { configuration.apps[index].absoluteLifetimeMilliseconds = absolute }
        }
    }
}
