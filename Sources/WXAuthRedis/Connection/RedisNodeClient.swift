import Logging
import NIOCore
import Synchronization

/// The connection to one node, replaced when lost: callers ask for `connection()` each time; the first caller after
/// a loss reconnects (others wait for the same attempt), and consecutive failures pause by `ReconnectBackoff`.
final class RedisNodeClient: Sendable {
    let address: RedisAddress
    private let configuration: RedisConnectionConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    private enum State {
        case idle(failures: Int)
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
        case shutdown
    }

    private let state = Mutex<State>(.idle(failures: 0))
    /// Consecutive failed attempts, kept across the `connecting` state.
    private let failures = Atomic<Int>(0)

    init(address: RedisAddress, configuration: RedisConnectionConfiguration, eventLoopGroup: any EventLoopGroup,
         logger: Logger) {
        self.address = address
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    private enum Lookup {
        case ready(RedisConnection)
        case wait(Task<RedisConnection, any Error>)
    }

    func connection() async throws -> RedisConnection {
        let lookup: Lookup = try state.withLock { state in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let task):
                return .wait(task)
            case .shutdown:
                throw RedisClientError(.connectionShutdown, "the client was shut down")
            case .idle, .connected:
                let task = Task { try await self.reconnect() }
                state = .connecting(task)
                return .wait(task)
            }
        }
        switch lookup {
        case .ready(let connection): return connection
        case .wait(let task): return try await task.value
        }
    }

    private func reconnect() async throws -> RedisConnection {
        let delay = configuration.backoff.delay(afterFailures: failures.load(ordering: .relaxed))
        if delay > .zero {
            try? await Task.sleep(for: delay)
        }
        do {
            let connection = try await RedisConnection.connect(
                to: address, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
            let accepted = state.withLock { state in
                if case .shutdown = state { return false }
                state = .connected(connection)
                return true
            }
            guard accepted else {
                await connection.close()
                throw RedisClientError(.connectionShutdown, "the client was shut down")
            }
            failures.store(0, ordering: .relaxed)
            return connection
        } catch {
            let count = failures.add(1, ordering: .relaxed).newValue
            state.withLock { state in
                if case .shutdown = state { return }
                state = .idle(failures: count)
            }
            logger.debug("connect failed", metadata: ["redis.node": "\(address)", "error": "\(error)", "failures": "\(count)"])
            throw error
        }
    }

    /// The live connection, if there is one (no attempt is made).
    var currentConnection: RedisConnection? {
        state.withLock { state in
            if case .connected(let connection) = state, connection.isActive { return connection }
            return nil
        }
    }

    func shutdown() async {
        let previous = state.withLock { state -> State in
            let previous = state
            state = .shutdown
            return previous
        }
        switch previous {
        case .connected(let connection):
            await connection.close()
        case .connecting(let task):
            if let connection = try? await task.value { await connection.close() }
        default:
            break
        }
    }
}
