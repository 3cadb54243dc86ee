import Logging
import NIOCore
import WXAuthRedis
import WXAuthSessions

/// Keeps the near cache honest: one dedicated RESP3 connection per primary in `CLIENT TRACKING ON BCAST PREFIX
/// wxs:` mode, so Redis pushes the name of every session key any node changes (or that expires) to every node.
/// Each push evicts that key. When any feed connection ends, or the set of primaries changes (failover, resharding),
/// the cache stops serving and is flushed; it serves again only once every primary's feed is re-established, so a
/// missed invalidation can never be served.
final class InvalidationListener: Sendable {
    private let client: any RedisClient
    private let cache: NearCache
    private let retryDelay: Duration
    private let topologyCheckInterval: Duration
    private let logger: Logger

    init(client: any RedisClient, cache: NearCache, retryDelay: Duration = .milliseconds(200),
         topologyCheckInterval: Duration = .seconds(1), logger: Logger) {
        self.client = client
        self.cache = cache
        self.retryDelay = retryDelay
        self.topologyCheckInterval = topologyCheckInterval
        self.logger = logger
    }

    /// Runs until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                try await subscribeAndListen()
            } catch {
                if Task.isCancelled { break }
                logger.warning("near cache invalidation feed lost; cache flushed until it is back", metadata: [
                    "error": "\(error)",
                ])
            }
            cache.feedLost()
            try? await Task.sleep(for: retryDelay)
        }
        cache.flush(serving: false)
    }

    private struct FeedEnded: Error, CustomStringConvertible {
        var description: String
    }

    /// Subscribes to every primary, then serves until a feed ends or the primaries change (throws either way).
    private func subscribeAndListen() async throws {
        let primaries = try await client.primaryAddresses()
        var connections: [RedisConnection] = []
        defer {
            let opened = connections
            Task { for connection in opened { await connection.close() } }
        }
        for address in primaries {
            let connection = try await client.dedicatedConnection(to: address)
            connections.append(connection)
            _ = try await connection.execute(RedisCommand(
                ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", SharedStoreKeys.sessionPrefix]))
        }
        // Everything cached before this point may have missed an invalidation.
        cache.flush(serving: true)
        logger.debug("near cache invalidation feed up", metadata: ["primaries": "\(primaries.count)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask { [cache] in
                    for await push in connection.pushes { Self.apply(push, to: cache) }
                    throw FeedEnded(description: "feed from \(connection.address) ended")
                }
            }
            group.addTask { [client, topologyCheckInterval] in
                while true {
                    try await Task.sleep(for: topologyCheckInterval)
                    if let now = try? await client.primaryAddresses(), Set(now) != Set(primaries) {
                        throw FeedEnded(description: "primaries changed")
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// `["invalidate", [key, ...]]` evicts those keys; `["invalidate", null]` (FLUSHALL, FLUSHDB) evicts all.
    static func apply(_ push: RESP3Value, to cache: NearCache) {
        guard case .push(let parts) = push, parts.count == 2, parts[0].string == "invalidate" else { return }
        guard let keys = parts[1].elements else {
            cache.flush(serving: cache.isServing)
            return
        }
        for key in keys {
            guard case .blobString(let name) = key, let id = SharedSessionID(keyName: name.readableBytesView) else { continue }
            cache.invalidate(id)
        }
    }
}
