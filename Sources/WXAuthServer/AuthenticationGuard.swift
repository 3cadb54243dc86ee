import Logging
import NIOConcurrencyHelpers
import WXAuthProtocol

/// Checks AUTH proofs for every connection, and throttles failures per source address (sshd's MaxStartups and
/// fail2ban in one token bucket): each failed AUTH takes a token from its address's bucket; an address with no
/// token left has its connections refused at accept and its AUTHs failed unchecked until the bucket refills.
/// Failures are counted and logged (rate-limited) with the caller id and a keyed fingerprint of the address, never
/// the proof.
final class AuthenticationGuard: Sendable {
    let callers: CallerRegistry
    private let limit: RateLimit
    private let buckets = NIOLockedValueBox<[String: TokenBucket]>([:])
    private let fingerprint: TokenFingerprint
    private let statistics: ServerStatistics
    private let logLimit = LogRateLimit()
    private let logger: Logger

    init(
        callers: CallerRegistry, failuresPerAddress: RateLimit, fingerprint: TokenFingerprint,
        statistics: ServerStatistics, logger: Logger
    ) {
        self.callers = callers
        self.limit = failuresPerAddress
        self.fingerprint = fingerprint
        self.statistics = statistics
        self.logger = logger
    }

    /// The caller's permissions, or nil (wrong proof, unknown caller, or an address over its failure budget).
    func authenticate(callerID: String, proof: [UInt8], nonce: [UInt8], address: String) -> Permissions? {
        if callers.isOpen { return .all }
        let throttled = retryAfter(address: address) != nil
        if !throttled, let permissions = callers.authenticate(callerID: callerID, proof: proof, nonce: nonce) {
            return permissions
        }
        recordFailure(callerID: callerID, address: address, throttled: throttled)
        return nil
    }

    /// nil when `address` may connect and authenticate; otherwise how long until it may again.
    func retryAfter(address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        guard !callers.isOpen else { return nil }
        return buckets.withLockedValue { buckets in
            guard var probe = buckets[address] else { return nil }
            return probe.take(now: now)  // on a copy: looking does not spend a token
        }
    }

    private func recordFailure(callerID: String, address: String, throttled: Bool) {
        let now = ContinuousClock.now
        buckets.withLockedValue { buckets in
            if buckets.count > 10_000 {
                buckets = buckets.filter { _, bucket in
                    var bucket = bucket
                    return !bucket.isFull(now: now)
                }
            }
            var bucket = buckets[address] ?? TokenBucket(limit: limit, now: now)
            _ = bucket.take(now: now)
            buckets[address] = bucket
        }
        statistics.recordAuthenticationFailure()
        if let suppressed = logLimit.admit(now: now) {
            logger.warning("authentication failed", metadata: [
                "caller": "\(callerID.prefix(64))", "address": "\(fingerprint(address))",
                "throttled": "\(throttled)", "suppressed": "\(suppressed)",
            ])
        }
    }
}
