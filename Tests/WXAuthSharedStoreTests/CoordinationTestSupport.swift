import NIOCore
import RedisTestHarness
import Synchronization
import WXAuthRedis
@testable import WXAuthSharedStore

/// Helpers of the coordination suites: "nodes" are separate clients (own connections, own topology) on the
/// suite's cluster.
enum CoordinationTestSupport {
    static let secret = try! CoordinationSecret(Array(0..<32))

    /// A client for node `index`, seeded from a different cluster member each.
    static func nodeClient(_ cluster: ClusterRedis, index: Int, timeout: Duration = .seconds(5)) -> RedisClusterClient {
        let seeds = cluster.seeds
        return RedisClusterClient(configuration: .init(seeds: [seeds[index % seeds.count]], connection: .init(commandTimeout: timeout)))
    }

    /// A namespace no other test uses.
    static func freshNamespace(_ label: String) -> String {
        "\(label)-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// The raw bytes stored under `key`, read past every component.
    static func rawValue(_ client: any RedisClient, _ key: String) async throws -> [UInt8]? {
        let reply = try await client.execute(.get(key))
        guard case .blobString(let buffer) = reply else { return nil }
        return Array(buffer.readableBytesView)
    }

    /// Overwrites `key` with `bytes` (keeping a TTL), as someone with access to Redis could.
    static func overwrite(_ client: any RedisClient, _ key: String, with bytes: [UInt8], ttl: Duration = .seconds(60)) async throws {
        _ = try await client.execute(RedisCommand(arguments: [
            ByteBuffer(string: "SET"), ByteBuffer(string: key), ByteBuffer(bytes: bytes),
            ByteBuffer(string: "PX"), ByteBuffer(string: ttl.redisMilliseconds),
        ], keyIndices: [1]))
    }
}

/// A counter the tests' closures bump.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    var count: Int { value.load(ordering: .relaxed) }
}
