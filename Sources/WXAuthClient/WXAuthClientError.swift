/// Client-side failures that are not server answers (those are thrown as `ServerError`).
public enum WXAuthClientError: Error, Hashable, Sendable, CustomStringConvertible {
    case connectionClosed
    case timedOut
    /// The server sent something this client cannot interpret.
    case protocolViolation(String)
    /// The server requires AUTH and no caller credentials were given.
    case authenticationRequired

    public var description: String {
        switch self {
        case .connectionClosed: "connection closed"
        case .timedOut: "request timed out"
        case .protocolViolation(let message): "protocol violation: \(message)"
        case .authenticationRequired: "the server requires caller authentication (set a caller id and secret)"
        }
    }
}
