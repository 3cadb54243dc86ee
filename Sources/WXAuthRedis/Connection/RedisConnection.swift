import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One RESP3 connection to one Redis node: pipelined (commands are written as they come, replies matched in order),
/// each command bounded by a deadline, out-of-band pushes delivered on `pushes`. Thread-safe; cheap to share.
/// It does not reconnect: `RedisNodeClient` (and the clients above it) replace a lost connection.
public final class RedisConnection: Sendable {
    public let address: RedisAddress
    /// Push messages (`CLIENT TRACKING` invalidations, pub/sub) in arrival order. Finishes when the connection
    /// ends: a subscriber that relies on pushes (a near cache) must treat that as "everything may be stale".
    public let pushes: AsyncStream<RESP3Value>
    let channel: any Channel
    let configuration: RedisConnectionConfiguration
    /// Set by `close()`: later commands fail with `connectionShutdown`, not with "connection lost".
    private let closedByOwner = Atomic<Bool>(false)

    private init(address: RedisAddress, channel: any Channel, pushes: AsyncStream<RESP3Value>,
                 configuration: RedisConnectionConfiguration) {
        self.address = address
        self.channel = channel
        self.pushes = pushes
        self.configuration = configuration
    }

    /// Connects, then `HELLO 3` (with `AUTH` and `SETNAME` when configured) and `SELECT` when a database is set.
    /// Errors from Redis during the handshake (`WRONGPASS`, `NOAUTH`, ...) are thrown as `RedisServerError`.
    public static func connect(
        to address: RedisAddress,
        configuration: RedisConnectionConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "wxauth.redis")
    ) async throws -> RedisConnection {
        let (pushes, continuation) = AsyncStream<RESP3Value>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        var connectionLogger = logger
        connectionLogger[metadataKey: "redis.node"] = "\(address)"
        let handlerLogger = connectionLogger
        let decoder = RESP3Decoder(limits: configuration.decoderLimits)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.nanoseconds)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RedisChannelHandler(decoder: decoder, pushes: continuation, logger: handlerLogger))
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            continuation.finish()
            throw RedisClientError(.connectFailed, "\(address): \(error)")
        }
        let connection = RedisConnection(address: address, channel: channel, pushes: pushes, configuration: configuration)
        do {
            _ = try await connection.execute(configuration.helloCommand, timeout: configuration.connectTimeout)
            if configuration.database != 0 {
                _ = try await connection.execute(RedisCommand(["SELECT", String(configuration.database)]),
                                                 timeout: configuration.connectTimeout)
            }
        } catch {
            await connection.close()
            throw error
        }
        connectionLogger.debug("connected")
        return connection
    }

    public var isActive: Bool { channel.isActive }

    /// Sends one command and waits for its reply; an error reply is thrown as `RedisServerError`, a missed
    /// deadline as `RedisClientError.deadlineExceeded`, a lost connection as `.connectionClosed`.
    public func execute(_ command: RedisCommand, timeout: Duration? = nil) async throws -> RESP3Value {
        let promise = channel.eventLoop.makePromise(of: RESP3Value.self)
        send([command], promises: [promise], timeout: timeout)
        return try await promise.futureResult.get()
    }

    /// Sends every command in one write and answers each command's outcome, in order. They share one deadline.
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) async -> [Result<RESP3Value, any Error>] {
        guard !commands.isEmpty else { return [] }
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESP3Value.self) }
        send(commands, promises: promises, timeout: timeout)
        var results: [Result<RESP3Value, any Error>] = []
        results.reserveCapacity(commands.count)
        for promise in promises {
            do {
                results.append(.success(try await promise.futureResult.get()))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    private func send(_ commands: [RedisCommand], promises: [EventLoopPromise<RESP3Value>], timeout: Duration?) {
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands {
            RedisCommandEncoder.write(command, into: &bytes)
        }
        let timeout = timeout ?? configuration.commandTimeout
        let deadline = channel.eventLoop.now + .nanoseconds(Int64(timeout.nanoseconds))
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            // The handler saw nothing (channel already gone): the commands were never sent.
            let failure = error as? RedisClientError ?? (self.closedByOwner.load(ordering: .relaxed)
                ? RedisClientError(.connectionShutdown, "the connection was closed by its owner")
                : RedisClientError(.connectionClosed, "\(error)"))
            promises.forEach { $0.fail(failure) }
        }
        channel.writeAndFlush(RedisOutboundRequest(bytes: bytes, promises: promises, deadline: deadline), promise: written)
    }

    /// Fails every pending command with `connectionShutdown`, ends `pushes`, and closes the socket.
    public func close() async {
        closedByOwner.store(true, ordering: .relaxed)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.triggerUserOutboundEvent(RedisShutdownEvent(), promise: promise)
        try? await promise.futureResult.get()
        try? await channel.closeFuture.get()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
