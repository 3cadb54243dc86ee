import NIOCore

/// A Lua script run with `EVALSHA` by its SHA-1; a client that meets `NOSCRIPT` loads the source on that same node
/// (`SCRIPT LOAD`) and retries, so a script survives failovers and nodes that never saw it.
public struct RedisScript: Hashable, Sendable {
    public let source: String
    /// Lower-case hex SHA-1 of `source`, as Redis names scripts.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }

    /// `EVALSHA sha numkeys keys... arguments...`, routed on `keys`.
    public func command(keys: [ByteBuffer], arguments: [ByteBuffer]) -> RedisCommand {
        var all = [ByteBuffer(string: "EVALSHA"), ByteBuffer(string: sha1), ByteBuffer(string: String(keys.count))]
        all += keys
        all += arguments
        return RedisCommand(arguments: all, keyIndices: keys.indices.map { 3 + $0 }, script: self)
    }

    public func command(keys: [String], arguments: [String]) -> RedisCommand {
        command(keys: keys.map { ByteBuffer(string: $0) }, arguments: arguments.map { ByteBuffer(string: $0) })
    }

    /// `SCRIPT LOAD source`
    public var loadCommand: RedisCommand { RedisCommand(["SCRIPT", "LOAD", source]) }
}
