import NIOCore
import NIOPosix
import WXAuthProtocol

/// A client over several wxauthd nodes: one connection at a time, to the first node that answers; when that node
/// is lost or answers a status about itself (`FailoverRule.movesToAnotherNode`), the client moves to the next
/// node, and the request is sent once more there only when it is safe to repeat (`FailoverRule.isSafeToRepeat`).
/// A request that never left (no node could be reached) is not a repeat. Later requests stay on the new node.
public final class WXAuthFailoverClient: WXAuthOperations {
    public let nodes: [WXAuthNode]
    private let connection: NodeConnection

    private init(nodes: [WXAuthNode], connection: NodeConnection) {
        self.nodes = nodes
        self.connection = connection
    }

    /// Connects to the first of `nodes` that answers (in order) and authenticates there when asked to.
    public static func connect(
        nodes: [WXAuthNode], callerID: String? = nil, callerSecret: String? = nil,
        requestTimeout: TimeAmount = .seconds(10), connectTimeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WXAuthFailoverClient {
        precondition(!nodes.isEmpty, "at least one node")
        let connection = NodeConnection(nodes: nodes) { node in
            try await WXAuthClient.connect(
                host: node.host, port: node.port, callerID: callerID, callerSecret: callerSecret,
                requestTimeout: requestTimeout, connectTimeout: connectTimeout, group: group)
        }
        _ = try await connection.current()
        return WXAuthFailoverClient(nodes: nodes, connection: connection)
    }

    /// The node the client is connected to now (nil between a failure and the next request).
    public var currentNode: WXAuthNode? {
        get async { await connection.connectedIndex.map { nodes[$0] } }
    }

    public func send(_ request: Request) async throws -> Response {
        var repeated = false
        var notSentRetries = 0
        while true {
            let (index, client) = try await connection.current()
            let failure: any Error
            do {
                let response = try await client.send(request)
                guard case .error(let error) = response, FailoverRule.movesToAnotherNode(error.status) else {
                    return response
                }
                failure = error
            } catch {
                guard FailoverRule.movesToAnotherNode(error) else { throw error }
                failure = error
            }
            await connection.nodeFailed(index, client: client)
            if FailoverRule.reachedNoNode(failure) && notSentRetries < nodes.count {
                notSentRetries += 1  // never written: not a repeat (bounded, should every node close at once)
                continue
            }
            guard !repeated, FailoverRule.isSafeToRepeat(request.opcode) else {
                if let failure = failure as? ServerError { return .error(failure) }
                throw failure
            }
            repeated = true
        }
    }

    public func close() async {
        await connection.close()
    }
}

/// The failover client's one connection: which node it is on, connecting to the next one that answers (one
/// connect in flight however many requests wait), and leaving a node that failed.
actor NodeConnection {
    typealias Connect = @Sendable (WXAuthNode) async throws -> WXAuthClient

    private let nodes: [WXAuthNode]
    private let connect: Connect
    private var connected: (index: Int, client: WXAuthClient)?
    private var connecting: Task<(index: Int, client: WXAuthClient), any Error>?
    /// The node tried first by the next connect.
    private var nextIndex = 0
    private var closed = false

    init(nodes: [WXAuthNode], connect: @escaping Connect) {
        self.nodes = nodes
        self.connect = connect
    }

    var connectedIndex: Int? { connected?.index }

    /// The connection to use now, connecting first when there is none (or the server closed it).
    func current() async throws -> (index: Int, client: WXAuthClient) {
        guard !closed else { throw WXAuthClientError.connectionClosed }
        if let connected {
            if connected.client.isConnected { return connected }
            leave(connected.index, client: connected.client)  // closed by the node: it is going away
        }
        if let connecting { return try await connecting.value }
        let task = Task { [nodes, nextIndex, connect] in
            try await Self.connectFirstReachable(nodes: nodes, from: nextIndex, connect: connect)
        }
        connecting = task
        do {
            let result = try await task.value
            connecting = nil
            if closed {
                try? await result.client.close()
                throw WXAuthClientError.connectionClosed
            }
            connected = result
            return result
        } catch {
            connecting = nil
            throw error
        }
    }

    /// The node at `index` failed with `client`: drop the connection and try the next node first. Nothing when
    /// another request already moved on.
    func nodeFailed(_ index: Int, client: WXAuthClient) {
        guard let connected, connected.client === client else { return }
        leave(index, client: client)
    }

    func close() async {
        closed = true
        let client = connected?.client
        connected = nil
        try? await client?.close()
    }

    private func leave(_ index: Int, client: WXAuthClient) {
        connected = nil
        nextIndex = (index + 1) % nodes.count
        client.closeWhenIdle()  // requests still in flight there (a LOGIN waiting on WeChat) get their answers first
    }

    /// Tries every node once, starting at `from`; the last error when none answers.
    private static func connectFirstReachable(
        nodes: [WXAuthNode], from start: Int, connect: Connect
    ) async throws -> (index: Int, client: WXAuthClient) {
        var lastError: any Error = WXAuthClientError.connectionClosed
        for offset in 0..<nodes.count {
            let index = (start + offset) % nodes.count
            do {
                return (index, try await connect(nodes[index]))
            } catch let error as ServerError where !FailoverRule.movesToAnotherNode(error.status) {
                throw error  // NOT_AUTHORIZED and the like: the same everywhere
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
