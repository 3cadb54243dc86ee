import Logging
import NIOCore
import NIOPosix

/// A single Redis server behind `RedisClient`: one pipelined connection, replaced with backoff when lost.
public final class RedisStandaloneClient: RedisClient {
    public let address: RedisAddress
    private let node: RedisNodeClient
    private let configuration: RedisConnectionConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    public init(address: RedisAddress, configuration: RedisConnectionConfiguration = .init(),
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "wxauth.redis")) {
        self.address = address
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        node = RedisNodeClient(address: address, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    public func execute(_ command: RedisCommand, timeout: Duration?) async throws -> RESP3Value {
        let deadline = CommandDeadline(timeout: timeout ?? configuration.commandTimeout)
        var failures = 0
        while true {
            do {
                let connection = try await node.connection()
                return try await connection.executeLoadingScripts(command, timeout: deadline.remaining)
            } catch {
                guard case .retryAfterBackoff = retryDecision(for: error) else { throw error }
                failures += 1
                guard await deadline.pause(configuration.backoff.delay(afterFailures: failures)) else {
                    throw RedisClientError(.deadlineExceeded, "\(command.name): last error \(error)")
                }
            }
        }
    }

    public func pipeline(_ commands: [RedisCommand], timeout: Duration?) async -> [Result<RESP3Value, any Error>] {
        let deadline = CommandDeadline(timeout: timeout ?? configuration.commandTimeout)
        var results: [Result<RESP3Value, any Error>]
        do {
            results = try await node.connection().pipeline(commands, timeout: deadline.remaining)
        } catch {
            results = commands.map { _ in .failure(error) }
        }
        // Commands that failed for a transient reason (or a script not loaded) go again, one by one.
        for index in results.indices {
            guard case .failure(let error) = results[index] else { continue }
            let isMissingScript = (error as? RedisServerError)?.code == .noScript && commands[index].script != nil
            guard isMissingScript || retryDecision(for: error) == .retryAfterBackoff, !deadline.hasPassed else { continue }
            results[index] = await Result { try await execute(commands[index], timeout: deadline.remaining) }
        }
        return results
    }

    public func address(forSlot slot: UInt16) async throws -> RedisAddress { address }

    public func primaryAddresses() async throws -> [RedisAddress] { [address] }

    public func dedicatedConnection(to address: RedisAddress) async throws -> RedisConnection {
        try await RedisConnection.connect(to: address, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    public func shutdown() async {
        await node.shutdown()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
