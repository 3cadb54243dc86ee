import NIOCore

/// A command as Redis receives it: its arguments, and which of them are keys (what a cluster routes on).
public struct RedisCommand: Hashable, Sendable {
    public var arguments: [ByteBuffer]
    /// Indices into `arguments` of the keys; empty for commands that touch no key (any node may serve them).
    public var keyIndices: [Int]
    /// Set on `EVALSHA` commands built by `RedisScript`: the source to `SCRIPT LOAD` when the node answers NOSCRIPT.
    public var script: RedisScript?

    public init(arguments: [ByteBuffer], keyIndices: [Int] = [], script: RedisScript? = nil) {
        self.arguments = arguments
        self.keyIndices = keyIndices
        self.script = script
    }

    /// `RedisCommand(["SET", "k", "v"], keys: [1])`
    public init(_ arguments: [String], keys keyIndices: [Int] = []) {
        self.init(arguments: arguments.map { ByteBuffer(string: $0) }, keyIndices: keyIndices)
    }

    /// The command's name, upper-cased (for logs and errors).
    public var name: String { arguments.first.map { String(buffer: $0).uppercased() } ?? "" }

    public var keys: [ByteBuffer] { keyIndices.map { arguments[$0] } }

    /// The one slot every key hashes to; nil for a keyless command. Throws `crossSlot` before anything is sent
    /// when the keys span slots (Redis Cluster would refuse the command anyway).
    public func slot() throws(RedisClientError) -> UInt16? {
        var slot: UInt16?
        for index in keyIndices {
            let keySlot = HashSlot.of(arguments[index].readableBytesView)
            if let slot, slot != keySlot {
                throw RedisClientError(.crossSlot, "\(name): keys hash to slots \(slot) and \(keySlot)")
            }
            slot = keySlot
        }
        return slot
    }
}

extension RedisCommand {
    public static func get(_ key: String) -> RedisCommand { RedisCommand(["GET", key], keys: [1]) }

    public static func set(_ key: String, _ value: String) -> RedisCommand {
        RedisCommand(["SET", key, value], keys: [1])
    }

    public static func set(_ key: String, _ value: ByteBuffer) -> RedisCommand {
        RedisCommand(arguments: [ByteBuffer(string: "SET"), ByteBuffer(string: key), value], keyIndices: [1])
    }

    public static func del(_ keys: String...) -> RedisCommand {
        RedisCommand(["DEL"] + keys, keys: Array(1...keys.count))
    }

    public static func mget(_ keys: [String]) -> RedisCommand {
        RedisCommand(["MGET"] + keys, keys: Array(1...keys.count))
    }

    public static func mset(_ pairs: [(String, String)]) -> RedisCommand {
        RedisCommand(["MSET"] + pairs.flatMap { [$0.0, $0.1] }, keys: pairs.indices.map { 1 + 2 * $0 })
    }

    public static func incr(_ key: String) -> RedisCommand { RedisCommand(["INCR", key], keys: [1]) }

    public static let ping = RedisCommand(["PING"])
}
