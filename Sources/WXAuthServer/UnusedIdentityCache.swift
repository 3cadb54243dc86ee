import NIOConcurrencyHelpers
import WXAuthWeChat

/// What WeChat answered for codes that did not become a session (the per-user limit said wait, or the store could
/// not keep the session), kept for the code's 5-minute life. WeChat spends a code when it answers, so a retry with
/// the same code is served from here instead of getting 40163. Keys are keyed hashes of codes; an entry is taken
/// once, by the retry that uses it.
final class UnusedIdentityCache: Sendable {
    private struct Entry {
        var identity: WeChatIdentity
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration = .seconds(300), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func keep(_ identity: WeChatIdentity, for key: String) {
        let now = ContinuousClock.now
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries = entries.filter { $0.value.expires > now } }
            guard entries.count < capacity else { return }
            entries[key] = Entry(identity: identity, expires: now + lifetime)
        }
    }

    /// The identity kept for `key`, removed from the cache; nil when none is kept or it expired.
    func take(_ key: String) -> WeChatIdentity? {
        let now = ContinuousClock.now
        return entries.withLockedValue { entries in
            guard let entry = entries.removeValue(forKey: key), entry.expires > now else { return nil }
            return entry.identity
        }
    }
}
