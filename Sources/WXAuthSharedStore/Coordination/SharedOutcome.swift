/// What one producer of a one-time code's work came to, as shared with other nodes.
public struct SharedOutcome: Sendable, Hashable {
    /// The answer, encoded by the caller (e.g. a LOGIN response). Stored sealed; never logged.
    public var payload: [UInt8]
    /// True when the answer is final for the code (a session, or WeChat's rejection of the code): it is stored and
    /// handed to every later caller. False for transient failures: nothing is kept and the next caller tries again.
    public var isDefinite: Bool

    public init(payload: [UInt8], isDefinite: Bool) {
        self.payload = payload
        self.isDefinite = isDefinite
    }
}
