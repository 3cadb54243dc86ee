/// Client-side failures that are not server answers (those are thrown as `ServerError`).
public enum WXAuthClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection ended with the request in flight: the server may or may not have acted on it.
    case connectionClosed
    /// The request was never written: the connection was already closed or retired (`closeWhenIdle`).
    case notSent
    case timedOut
    /// The server sent something this client cannot interpret.
    case protocolViolation(String)
    /// The server requires AUTH and no caller credentials were given.
    case authenticationRequired

    public var description: String {
        switch self {
        case .connectionClosed: "connection closed"
        case .notSent: "request not sent: the connection was closed"
        case .timedOut: "request timed out"
        case .protocolViolation(let message): "protocol violation: \(message)"
        case .authenticationRequired: "the server requires caller authentication (set a caller id and secret)"
        }
    }
}
