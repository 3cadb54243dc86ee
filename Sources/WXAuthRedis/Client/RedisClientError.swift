/// A failure on the client's side of the wire: nothing Redis said, but what happened to the command.
public struct RedisClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case deadlineExceeded, connectionClosed, connectionShutdown, connectFailed, crossSlot
            case protocolError, unexpectedReply, topologyUnavailable, tooManyRedirections
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The command's deadline passed before its reply came. It may or may not have run on the server.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// The connection was lost with the command in flight (it may or may not have run).
        public static let connectionClosed = Code(.connectionClosed)
        /// The client or connection was shut down by its owner.
        public static let connectionShutdown = Code(.connectionShutdown)
        /// No connection could be opened (or the handshake failed) to the node.
        public static let connectFailed = Code(.connectFailed)
        /// A multi-key command whose keys hash to different slots; never sent.
        public static let crossSlot = Code(.crossSlot)
        /// The server sent bytes that are not RESP3 (the connection is closed).
        public static let protocolError = Code(.protocolError)
        /// A reply of a shape the client did not expect (for example in `CLUSTER SHARDS`).
        public static let unexpectedReply = Code(.unexpectedReply)
        /// No node answered for the cluster's topology, or the slot has no primary.
        public static let topologyUnavailable = Code(.topologyUnavailable)
        /// MOVED/ASK redirections kept coming past the client's limit.
        public static let tooManyRedirections = Code(.tooManyRedirections)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? "\(code)" : "\(code): \(message)" }

    /// Worth another attempt (on a fresh connection or after a topology refresh) while the deadline allows.
    public var isTransient: Bool {
        code == .connectionClosed || code == .connectFailed || code == .topologyUnavailable
    }
}
