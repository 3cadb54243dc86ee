import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Redis Cluster behind `RedisClient`: routes each command to the primary of its keys' slot over one pipelined
/// connection per primary; follows MOVED (updates the slot, refreshes the map in the background) and ASK
/// (`ASKING` + the command on the target); retries TRYAGAIN, CLUSTERDOWN, LOADING, READONLY and lost connections
/// with backoff and a fresh topology until the command's deadline.
public final class RedisClusterClient: RedisClient {
    public struct Configuration: Sendable {
        /// Nodes to ask for the topology first; any reachable member of the cluster will do.
        public var seeds: [RedisAddress]
        public var connection: RedisConnectionConfiguration
        /// MOVED/ASK replies followed for one command before giving up.
        public var maximumRedirections: Int
        /// Deadline of one topology query to one node.
        public var topologyQueryTimeout: Duration

        public init(seeds: [RedisAddress], connection: RedisConnectionConfiguration = .init(), maximumRedirections: Int = 16,
                    topologyQueryTimeout: Duration = .seconds(1)) {
            self.seeds = seeds
            self.connection = connection
            self.maximumRedirections = maximumRedirections
            self.topologyQueryTimeout = topologyQueryTimeout
        }
    }

    public let statistics = ClusterStatistics()
    private let configuration: Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    private struct State {
        var slots: SlotMap?
        var nodes: [RedisAddress: RedisNodeClient] = [:]
        var refresh: Task<Void, any Error>?
        var isShutdown = false
    }

    private let state = Mutex(State())

    public init(configuration: Configuration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "wxauth.redis.cluster")) {
        precondition(!configuration.seeds.isEmpty, "a cluster client needs at least one seed")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    // MARK: Commands

    public func execute(_ command: RedisCommand, timeout: Duration?) async throws -> RESP3Value {
        let deadline = CommandDeadline(timeout: timeout ?? configuration.connection.commandTimeout)
        return try await execute(command, slot: try command.slot(), deadline: deadline)
    }

    private func execute(_ command: RedisCommand, slot: UInt16?, deadline: CommandDeadline) async throws -> RESP3Value {
        var failures = 0
        var redirections = 0
        var askTarget: RedisAddress?
        while true {
            do {
                if let target = askTarget {
                    askTarget = nil
                    let connection = try await node(at: target).connection()
                    let replies = await connection.pipeline([RedisCommand(["ASKING"]), command], timeout: deadline.remaining)
                    return try replies[1].get()
                }
                let address = try await primary(for: slot)
                let connection = try await node(at: address).connection()
                return try await connection.executeLoadingScripts(command, timeout: deadline.remaining)
            } catch let error as RedisServerError where error.redirection != nil {
                redirections += 1
                guard redirections <= configuration.maximumRedirections else {
                    throw RedisClientError(.tooManyRedirections, "\(command.name): \(error)")
                }
                let redirection = error.redirection!
                if error.code == .moved {
                    statistics.moved.add(1, ordering: .relaxed)
                    state.withLock { $0.slots?.assign(redirection.slot, to: redirection.address) }
                    startRefresh()
                } else {
                    statistics.ask.add(1, ordering: .relaxed)
                    askTarget = redirection.address
                }
            } catch {
                guard case .retryAfterBackoff = retryDecision(for: error) else { throw error }
                failures += 1
                statistics.retries.add(1, ordering: .relaxed)
                startRefresh()
                guard await deadline.pause(configuration.connection.backoff.delay(afterFailures: failures)) else {
                    throw RedisClientError(.deadlineExceeded, "\(command.name): last error \(error)")
                }
            }
        }
    }

    public func pipeline(_ commands: [RedisCommand], timeout: Duration?) async -> [Result<RESP3Value, any Error>] {
        let deadline = CommandDeadline(timeout: timeout ?? configuration.connection.commandTimeout)
        var results = [Result<RESP3Value, any Error>?](repeating: nil, count: commands.count)
        var slots = [UInt16?](repeating: nil, count: commands.count)
        var groups: [RedisAddress: [Int]] = [:]
        var sent: [Bool] = Array(repeating: false, count: commands.count)
        for (index, command) in commands.enumerated() {
            do {
                slots[index] = try command.slot()
                groups[try await primary(for: slots[index]), default: []].append(index)
                sent[index] = true
            } catch {
                results[index] = .failure(error)
            }
        }
        let commandSlots = slots
        // One pipeline per node, all nodes at once.
        await withTaskGroup(of: [(Int, Result<RESP3Value, any Error>)].self) { group in
            for (address, indices) in groups {
                group.addTask {
                    do {
                        let connection = try await self.node(at: address).connection()
                        let replies = await connection.pipeline(indices.map { commands[$0] }, timeout: deadline.remaining)
                        return Array(zip(indices, replies))
                    } catch {
                        return indices.map { ($0, .failure(error)) }
                    }
                }
            }
            for await answered in group {
                for (index, result) in answered { results[index] = result }
            }
        }
        // Redirected, transient or script-less failures go again through the single-command path, concurrently.
        let again = results.indices.filter { index in
            guard sent[index], case .failure(let error)? = results[index] else { return false }
            if let error = error as? RedisServerError {
                return error.redirection != nil || error.isTransient || error.code == .readOnly
                    || (error.code == .noScript && commands[index].script != nil)
            }
            return retryDecision(for: error) == .retryAfterBackoff
        }
        if !again.isEmpty {
            await withTaskGroup(of: (Int, Result<RESP3Value, any Error>).self) { group in
                for index in again {
                    group.addTask {
                        (index, await Result { try await self.execute(commands[index], slot: commandSlots[index], deadline: deadline) })
                    }
                }
                for await (index, result) in group { results[index] = result }
            }
        }
        return results.map { $0! }
    }

    // MARK: Routing

    public func address(forSlot slot: UInt16) async throws -> RedisAddress {
        try await primary(for: slot)
    }

    public func primaryAddresses() async throws -> [RedisAddress] {
        try await primaries()
    }

    /// Current primaries (after the first topology load).
    public func primaries() async throws -> [RedisAddress] {
        if let primaries = state.withLock({ $0.slots?.primaries }) { return primaries }
        try await refreshTopology()
        return state.withLock { $0.slots?.primaries ?? [] }
    }

    private func primary(for slot: UInt16?) async throws -> RedisAddress {
        for attempt in 0..<2 {
            let found: RedisAddress? = state.withLock { state in
                guard let slots = state.slots else { return nil }
                if let slot { return slots.primary(for: slot) }
                return slots.primaries.randomElement()
            }
            if let found { return found }
            if attempt == 0 { try await refreshTopology() }
        }
        throw RedisClientError(.topologyUnavailable, "no primary known for slot \(slot.map(String.init) ?? "(any)")")
    }

    private func node(at address: RedisAddress) throws -> RedisNodeClient {
        try state.withLock { state in
            guard !state.isShutdown else { throw RedisClientError(.connectionShutdown, "the client was shut down") }
            if let node = state.nodes[address] { return node }
            let node = RedisNodeClient(address: address, configuration: configuration.connection,
                                       eventLoopGroup: eventLoopGroup, logger: logger)
            state.nodes[address] = node
            return node
        }
    }

    // MARK: Topology

    /// Starts a background refresh unless one is running.
    private func startRefresh() {
        _ = refreshTask()
    }

    private func refreshTask() -> Task<Void, any Error> {
        state.withLock { state in
            if let running = state.refresh { return running }
            let task = Task { try await self.loadTopology() }
            state.refresh = task
            return task
        }
    }

    /// Loads the topology now (joining a refresh already under way).
    public func refreshTopology() async throws {
        try await refreshTask().value
    }

    private func loadTopology() async throws {
        defer { state.withLock { $0.refresh = nil } }
        let known = state.withLock { $0.slots?.primaries ?? [] }
        var candidates = known.shuffled()
        for seed in configuration.seeds where !candidates.contains(seed) { candidates.append(seed) }
        var lastError: (any Error)?
        for address in candidates {
            do {
                let topology = try await queryTopology(at: address)
                let map = SlotMap(topology: topology)
                let stale: [RedisNodeClient] = state.withLock { state in
                    state.slots = map
                    let keep = Set(map.primaries)
                    let gone = state.nodes.filter { !keep.contains($0.key) }
                    for address in gone.keys { state.nodes[address] = nil }
                    return Array(gone.values)
                }
                statistics.topologyRefreshes.add(1, ordering: .relaxed)
                for node in stale { await node.shutdown() }
                return
            } catch {
                lastError = error
            }
        }
        throw RedisClientError(.topologyUnavailable, "no node answered for the topology; last error: \(lastError.map { "\($0)" } ?? "none")")
    }

    private func queryTopology(at address: RedisAddress) async throws -> ClusterTopology {
        let connection = try await node(at: address).connection()
        let timeout = configuration.topologyQueryTimeout
        do {
            let topology = try ClusterTopology(shardsReply: try await connection.execute(RedisCommand(["CLUSTER", "SHARDS"]), timeout: timeout))
            if !topology.shards.isEmpty { return topology }
        } catch let error as RedisServerError where error.code == .generic {
            // Before Redis 7: no CLUSTER SHARDS.
        }
        return try ClusterTopology(slotsReply: try await connection.execute(RedisCommand(["CLUSTER", "SLOTS"]), timeout: timeout))
    }

    // MARK: Lifecycle

    public func dedicatedConnection(to address: RedisAddress) async throws -> RedisConnection {
        try await RedisConnection.connect(to: address, configuration: configuration.connection,
                                          eventLoopGroup: eventLoopGroup, logger: logger)
    }

    public func shutdown() async {
        let (nodes, refresh) = state.withLock { state in
            state.isShutdown = true
            defer { state.nodes = [:] }
            return (Array(state.nodes.values), state.refresh)
        }
        refresh?.cancel()
        for node in nodes { await node.shutdown() }
    }
}
