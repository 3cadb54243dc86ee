/// Which primary serves which slots, as one node sees it, read from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS`.
public struct ClusterTopology: Hashable, Sendable {
    public struct Shard: Hashable, Sendable {
        public var slots: [ClosedRange<UInt16>]
        public var primary: RedisAddress
        public var replicas: [RedisAddress]
    }

    public var shards: [Shard]

    public var primaries: [RedisAddress] { shards.map(\.primary) }

    /// Parses a `CLUSTER SHARDS` reply: per shard a map with `slots` (flat start/end pairs) and `nodes` (maps with
    /// `ip`, `endpoint`, `port`, `role`, `health`). A shard's primary is its online master, else any master.
    public init(shardsReply reply: RESP3Value) throws(RedisClientError) {
        guard let entries = reply.elements else { throw Self.malformed("CLUSTER SHARDS is not an array") }
        var shards: [Shard] = []
        for entry in entries {
            guard let bounds = entry["slots"]?.elements?.compactMap(\.integer), bounds.count % 2 == 0,
                  let nodes = entry["nodes"]?.elements else { throw Self.malformed("a shard without slots or nodes") }
            guard !bounds.isEmpty else { continue }
            let ranges = try stride(from: 0, to: bounds.count, by: 2).map { index throws(RedisClientError) in
                try Self.slotRange(bounds[index], bounds[index + 1])
            }
            var primaries: [(RedisAddress, Bool)] = []
            var replicas: [RedisAddress] = []
            for node in nodes {
                guard let address = Self.address(of: node) else { continue }
                if node["role"]?.string == "master" {
                    primaries.append((address, node["health"]?.string == "online"))
                } else {
                    replicas.append(address)
                }
            }
            guard let primary = primaries.first(where: { $0.1 })?.0 ?? primaries.first?.0 else {
                throw Self.malformed("a shard with slots and no primary")
            }
            shards.append(Shard(slots: ranges, primary: primary, replicas: replicas))
        }
        self.shards = shards
    }

    /// Parses a `CLUSTER SLOTS` reply: per range `[start, end, [ip, port, id...], replicas...]`.
    public init(slotsReply reply: RESP3Value) throws(RedisClientError) {
        guard let entries = reply.elements else { throw Self.malformed("CLUSTER SLOTS is not an array") }
        var byPrimary: [RedisAddress: Shard] = [:]
        var order: [RedisAddress] = []
        for entry in entries {
            guard let fields = entry.elements, fields.count >= 3, let start = fields[0].integer, let end = fields[1].integer,
                  let primary = Self.address(ofSlotsNode: fields[2]) else { throw Self.malformed("a malformed slot range") }
            let range = try Self.slotRange(start, end)
            if byPrimary[primary] == nil {
                order.append(primary)
                byPrimary[primary] = Shard(slots: [], primary: primary, replicas: fields.dropFirst(3).compactMap(Self.address(ofSlotsNode:)))
            }
            byPrimary[primary]!.slots.append(range)
        }
        shards = order.map { byPrimary[$0]! }
    }

    private static func slotRange(_ start: Int64, _ end: Int64) throws(RedisClientError) -> ClosedRange<UInt16> {
        guard start >= 0, start <= end, end < HashSlot.count else { throw malformed("slot range \(start)-\(end)") }
        return UInt16(start)...UInt16(end)
    }

    private static func address(of node: RESP3Value) -> RedisAddress? {
        guard let port = node["port"]?.integer ?? node["tls-port"]?.integer else { return nil }
        var host = node["endpoint"]?.string ?? ""
        if host.isEmpty || host == "?" { host = node["ip"]?.string ?? "" }
        guard !host.isEmpty else { return nil }
        return RedisAddress(host: host, port: Int(port))
    }

    private static func address(ofSlotsNode node: RESP3Value) -> RedisAddress? {
        guard let fields = node.elements, fields.count >= 2, let host = fields[0].string, !host.isEmpty, host != "?",
              let port = fields[1].integer else { return nil }
        return RedisAddress(host: host, port: Int(port))
    }

    private static func malformed(_ what: String) -> RedisClientError {
        RedisClientError(.unexpectedReply, "cluster topology: \(what)")
    }
}
