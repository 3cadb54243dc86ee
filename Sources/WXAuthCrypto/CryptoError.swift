/// A failure inside OpenSSL. Callers fail closed: no token, no MAC, an internal error to the client.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String

    public init(operation: String) {
        self.operation = operation
    }

    public var description: String { "OpenSSL \(operation) failed" }
}
