import NIOCore

/// What callers use, whether Redis is one server (`RedisStandaloneClient`) or a cluster (`RedisClusterClient`).
/// Every call is bounded by a deadline (the configuration's `commandTimeout` unless given); transient failures
/// (lost connection, TRYAGAIN, CLUSTERDOWN, LOADING, failover) are retried within it.
public protocol RedisClient: Sendable {
    /// One command; an error reply is thrown as `RedisServerError`.
    func execute(_ command: RedisCommand, timeout: Duration?) async throws -> RESP3Value
    /// Many commands, pipelined (per node in a cluster); outcomes in the order of `commands`.
    func pipeline(_ commands: [RedisCommand], timeout: Duration?) async -> [Result<RESP3Value, any Error>]
    /// The node that serves `slot` now (for a standalone server: the server).
    func address(forSlot slot: UInt16) async throws -> RedisAddress
    /// Every primary serving slots now (for a standalone server: the server). Who to subscribe to for
    /// invalidations of every key.
    func primaryAddresses() async throws -> [RedisAddress]
    /// A connection of its own to `address` (not shared with other callers), with this client's authentication:
    /// for `CLIENT TRACKING` and other per-connection state. The caller closes it.
    func dedicatedConnection(to address: RedisAddress) async throws -> RedisConnection
    /// Fails what is pending with `connectionShutdown` and closes every connection.
    func shutdown() async
}

extension RedisClient {
    public func execute(_ command: RedisCommand) async throws -> RESP3Value {
        try await execute(command, timeout: nil)
    }

    public func pipeline(_ commands: [RedisCommand]) async -> [Result<RESP3Value, any Error>] {
        await pipeline(commands, timeout: nil)
    }

    /// Runs `script` by `EVALSHA`, loading it (`SCRIPT LOAD`) on the node that serves its keys when that node
    /// answers NOSCRIPT. Every key must hash to one slot.
    public func run(_ script: RedisScript, keys: [String], arguments: [String], timeout: Duration? = nil) async throws -> RESP3Value {
        try await execute(script.command(keys: keys, arguments: arguments), timeout: timeout)
    }

    public func run(_ script: RedisScript, keys: [ByteBuffer], arguments: [ByteBuffer], timeout: Duration? = nil) async throws -> RESP3Value {
        try await execute(script.command(keys: keys, arguments: arguments), timeout: timeout)
    }
}

/// A point in time after which a command is abandoned.
struct CommandDeadline {
    let instant: ContinuousClock.Instant

    init(timeout: Duration) {
        instant = .now + timeout
    }

    var remaining: Duration { instant - .now }
    var hasPassed: Bool { remaining <= .zero }

    /// Sleeps `delay`, or until the deadline if that comes first; false when the deadline has come.
    func pause(_ delay: Duration) async -> Bool {
        let wait = min(delay, remaining)
        if wait > .zero { try? await Task.sleep(for: wait) }
        return !hasPassed
    }
}

extension RedisConnection {
    /// `execute`, plus the script rule: an `EVALSHA` answered NOSCRIPT loads its script on this same connection
    /// (so on the node that owns the keys) and runs once more.
    func executeLoadingScripts(_ command: RedisCommand, timeout: Duration) async throws -> RESP3Value {
        do {
            return try await execute(command, timeout: timeout)
        } catch let error as RedisServerError where error.code == .noScript && command.script != nil {
            _ = try await execute(command.script!.loadCommand, timeout: timeout)
            return try await execute(command, timeout: timeout)
        }
    }
}

/// Why a failed attempt may be retried.
enum RetryDecision {
    case fail
    case retryAfterBackoff
}

func retryDecision(for error: any Error) -> RetryDecision {
    if let error = error as? RedisServerError, error.isTransient || error.code == .readOnly { return .retryAfterBackoff }
    if let error = error as? RedisClientError, error.isTransient { return .retryAfterBackoff }
    return .fail
}
