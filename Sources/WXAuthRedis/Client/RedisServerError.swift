/// An error reply from Redis (`-PREFIX message` or a blob error), typed by its prefix.
public struct RedisServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The reply's first word, e.g. `ERR`, `WRONGTYPE`, `MOVED`.
        public let prefix: String
        public init(prefix: String) { self.prefix = prefix }

        public static let moved = Code(prefix: "MOVED")
        public static let ask = Code(prefix: "ASK")
        public static let tryAgain = Code(prefix: "TRYAGAIN")
        public static let clusterDown = Code(prefix: "CLUSTERDOWN")
        public static let crossSlot = Code(prefix: "CROSSSLOT")
        public static let noAuth = Code(prefix: "NOAUTH")
        public static let wrongPass = Code(prefix: "WRONGPASS")
        public static let noPerm = Code(prefix: "NOPERM")
        public static let loading = Code(prefix: "LOADING")
        public static let readOnly = Code(prefix: "READONLY")
        public static let masterDown = Code(prefix: "MASTERDOWN")
        public static let noScript = Code(prefix: "NOSCRIPT")
        public static let busy = Code(prefix: "BUSY")
        public static let wrongType = Code(prefix: "WRONGTYPE")
        public static let generic = Code(prefix: "ERR")

        public var description: String { prefix }
    }

    /// Where a MOVED or ASK reply points: the slot and the node now serving it.
    public struct Redirection: Hashable, Sendable {
        public var slot: UInt16
        public var address: RedisAddress
    }

    public var code: Code
    /// The whole error text, prefix included.
    public var message: String
    /// Set for MOVED and ASK.
    public var redirection: Redirection?

    public init(message: String) {
        self.message = message
        let words = message.split(separator: " ", omittingEmptySubsequences: true)
        self.code = Code(prefix: words.first.map(String.init) ?? "")
        if (code == .moved || code == .ask), words.count >= 3, let slot = UInt16(words[1]),
           let address = RedisAddress(parsing: String(words[2])) {
            redirection = Redirection(slot: slot, address: address)
        }
    }

    public var description: String { message }

    /// Worth retrying after a pause (the cluster is rearranging itself or the node is starting).
    public var isTransient: Bool {
        code == .tryAgain || code == .clusterDown || code == .loading || code == .masterDown
    }
}
