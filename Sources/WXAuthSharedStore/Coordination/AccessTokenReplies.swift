import WXAuthRedis

/// A stored token as Redis answered it: the sealed bytes and the key's remaining life. Decoded without I/O.
struct StoredToken: Equatable {
    var sealed: [UInt8]
    var remaining: Duration

    /// nil for a null reply (no token); throws `unexpectedReply` for a reply of another shape.
    init?(reply: RESP3Value) throws {
        if reply == .null || reply == .boolean(false) { return nil }
        guard let elements = reply.elements, elements.count == 2, let sealed = elements[0].bytes,
              let milliseconds = elements[1].integer
        else { throw RedisClientError(.unexpectedReply, "access token read answered an unexpected shape") }
        self.init(sealed: sealed, remaining: .milliseconds(milliseconds))
    }

    init(sealed: [UInt8], remaining: Duration) {
        self.sealed = sealed
        self.remaining = remaining
    }
}

/// What `SharedAccessTokens.readOrLockScript` answered, decoded without I/O.
enum ReadOrLockReply: Equatable {
    /// A stored token with enough life left (not yet opened).
    case token(StoredToken)
    /// No usable token; this caller now holds the fetch lock.
    case lockTaken
    /// No usable token; another node holds the fetch lock.
    case lockHeldElsewhere

    /// Throws `unexpectedReply` for anything but 1, 0 or {sealed, milliseconds}.
    init(reply: RESP3Value) throws {
        switch reply {
        case .integer(1): self = .lockTaken
        case .integer(0): self = .lockHeldElsewhere
        default:
            guard let stored = try StoredToken(reply: reply) else {
                throw RedisClientError(.unexpectedReply, "access token lock answered nothing")
            }
            self = .token(stored)
        }
    }
}
