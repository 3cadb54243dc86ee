/// An access token as the nodes share it: its value and how long it remains valid. Independent of WXAuthWeChat's
/// `AccessToken` (this module does not import it); the server adapts one to the other.
public struct SharedAccessToken: Sendable, Hashable {
    /// The token. Stored sealed; never logged.
    public var value: String
    /// From now: for a fetched token, WeChat's `expires_in`; for a stored one, the time its Redis key has left.
    public var remaining: Duration

    public init(value: String, remaining: Duration) {
        self.value = value
        self.remaining = remaining
    }
}
