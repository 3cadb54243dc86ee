// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "wxauth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wxauthd", targets: ["wxauthd"]),
        .executable(name: "wxauth", targets: ["wxauth"]),
        .executable(name: "wechat-sim", targets: ["wechat-sim"]),
        .executable(name: "wxauth-bench", targets: ["wxauth-bench"]),
        .library(name: "WXAuthClient", targets: ["WXAuthClient"]),
        .library(name: "WXAuthProtocol", targets: ["WXAuthProtocol"]),
        .library(name: "WXAuthSessions", targets: ["WXAuthSessions"]),
        .library(name: "WXAuthRedis", targets: ["WXAuthRedis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The system OpenSSL (libcrypto). Only WXAuthCrypto imports it.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "WXAuthCrypto", dependencies: ["CLibCrypto"]),
        .target(name: "WXAuthProtocol", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "WXAuthSessions", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthCrypto",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .target(name: "WXAuthPersistence", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthSessions", "WXAuthCrypto",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .target(name: "WXAuthWeChat", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "WeChatSimulator", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthCrypto",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "WXAuthServer", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthProtocol", "WXAuthSessions", "WXAuthWeChat", "WXAuthCrypto", "WXAuthPersistence", "WXAuthSharedStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "WXAuthClient", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthProtocol", "WXAuthCrypto",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The HTTP edge (login endpoint, gateway auth check) over WXAuthServer.respond(to:). The mapping between
        // HTTP and the protocol's values is pure (HTTPMapping/); the Hummingbird wiring is apart from it.
        .target(name: "WXAuthHTTP", dependencies: [
            "WXAuthServer", "WXAuthProtocol",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "wxauthd", dependencies: [
            "WXAuthServer", "WXAuthHTTP", "WeChatSimulator", "WXAuthPersistence", "WXAuthSharedStore", "WXAuthRedis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "wxauth", dependencies: [
            "WXAuthClient", "WXAuthProtocol", "WXAuthCrypto",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .executableTarget(name: "wechat-sim", dependencies: [
            "WeChatSimulator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // wxauth-bench: pure logic (histogram summary, open-loop schedule, /proc parsing, RESP, reports) in a
        // library with unit tests; the executable is the NIO load generator around it.
        .target(name: "WXAuthBenchCore", dependencies: [
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "wxauth-bench", dependencies: [
            "WXAuthBenchCore", "WXAuthClient", "WXAuthProtocol", "WXAuthRedis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // A Redis / Redis Cluster client (RESP3) on SwiftNIO; nothing wxauth-specific in it.
        .target(name: "WXAuthRedis", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Sessions shared by several wxauthd nodes through Redis (Cluster): the store over Redis, its near cache
        // kept fresh by CLIENT TRACKING, and the work nodes must not do twice (code exchange, rate limits, tokens).
        .target(name: "WXAuthSharedStore", dependencies: [
            "WXAuthRedis", "WXAuthSessions", "WXAuthCrypto",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Real redis-server processes (standalone, 3+3 cluster) on free loopback ports, for the test targets.
        .target(name: "RedisTestHarness", dependencies: ["WXAuthRedis"], path: "Tests/RedisTestHarness"),
        .testTarget(name: "WXAuthSharedStoreTests", dependencies: [
            "WXAuthSharedStore", "WXAuthRedis", "WXAuthSessions", "WXAuthCrypto", "RedisTestHarness",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WXAuthRedisTests", dependencies: [
            "WXAuthRedis", "RedisTestHarness",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WXAuthCryptoTests", dependencies: ["WXAuthCrypto"]),
        .testTarget(name: "WXAuthBenchCoreTests", dependencies: [
            "WXAuthBenchCore", "WXAuthProtocol",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "WXAuthProtocolTests", dependencies: [
            "WXAuthProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        .testTarget(name: "WXAuthSessionsTests", dependencies: ["WXAuthSessions", "WXAuthCrypto"]),
        .testTarget(name: "WeChatSimulatorTests", dependencies: [
            "WeChatSimulator", "WXAuthWeChat", "WXAuthCrypto",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "WXAuthPersistenceTests", dependencies: [
            "WXAuthPersistence", "WXAuthSessions", "WXAuthCrypto", "WXAuthClient", "WXAuthProtocol", "WeChatSimulator",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WXAuthServerTests", dependencies: [
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "WXAuthServer", "WXAuthClient", "WeChatSimulator", "WXAuthProtocol", "WXAuthSessions", "WXAuthWeChat",
            "WXAuthCrypto", "WXAuthSharedStore", "WXAuthRedis", "RedisTestHarness",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WXAuthHTTPTests", dependencies: [
            "WXAuthHTTP", "WXAuthServer", "WXAuthProtocol", "WeChatSimulator", "WXAuthWeChat", "WXAuthCrypto", "WXAuthSessions",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WXAuthClientTests", dependencies: [
            "WXAuthClient", "WXAuthProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
