/// How to open and use one connection. Immutable once a client holds it; every field has a working default.
public struct RedisConnectionConfiguration: Sendable {
    /// ACL user for `HELLO 3 AUTH`; nil with a password means Redis's `default` user.
    public var username: String?
    public var password: String?
    /// Sent with `HELLO ... SETNAME` (what `CLIENT SETNAME` sets); shows in `CLIENT LIST`.
    public var clientName: String?
    /// `SELECT`ed after the handshake when not 0. Standalone servers only: a cluster has database 0 alone.
    public var database: Int
    /// Default deadline of a command (a whole pipeline shares one), from the moment it is handed to the client.
    public var commandTimeout: Duration
    /// TCP connect plus handshake.
    public var connectTimeout: Duration
    /// Pauses between failed reconnection attempts to one node.
    public var backoff: ReconnectBackoff
    public var decoderLimits: RESP3Decoder.Limits

    public init(username: String? = nil, password: String? = nil, clientName: String? = nil, database: Int = 0,
                commandTimeout: Duration = .seconds(5), connectTimeout: Duration = .seconds(2),
                backoff: ReconnectBackoff = ReconnectBackoff(), decoderLimits: RESP3Decoder.Limits = .init()) {
        self.username = username
        self.password = password
        self.clientName = clientName
        self.database = database
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.decoderLimits = decoderLimits
    }

    /// `HELLO 3 [AUTH user pass] [SETNAME name]`
    var helloCommand: RedisCommand {
        var arguments = ["HELLO", "3"]
        if let password {
            arguments += ["AUTH", username ?? "default", password]
        }
        if let clientName {
            arguments += ["SETNAME", clientName]
        }
        return RedisCommand(arguments)
    }
}
