import NIOConcurrencyHelpers
import Logging
import Synchronization

/// How the service treats WeChat: bounded retries where safe, and a circuit breaker per app.
public struct UpstreamPolicy: Sendable {
    /// Retries after the first attempt, only for `WeChatError.isSafeToRetry` failures. Default 2 (3 attempts).
    public var maxRetries: Int = 2
    /// Backoff before retry n is uniformly random in [0, min(maxBackoff, baseBackoff * 2^n)] ("full jitter").
    public var baseBackoff: Duration = .milliseconds(50)
    public var maxBackoff: Duration = .seconds(1)
    /// Consecutive upstream failures that open an app's breaker. Default 5.
    public var breakerFailureThreshold: Int = 5
    /// How long an open breaker fails fast before letting one probe through. Default 10 s.
    public var breakerCooldown: Duration = .seconds(10)
    /// How long a LOGIN waits for WeChat (`wechat.timeout_seconds`), every attempt and any wait for a free
    /// connection included. Default 5 s. When it passes the caller gets WECHAT_UNAVAILABLE, but a call already on
    /// its way runs on (up to `attemptTimeout`) and its outcome is remembered for the code, so a retry with the
    /// same code gets the session instead of 40163.
    public var callTimeout: Duration = .seconds(5)

    /// The hard bound of one WeChat call (its HTTP deadline, after a connection is free): twice `callTimeout`, so
    /// an answer that arrives after the caller stopped waiting is still received and kept.
    public var attemptTimeout: Duration { callTimeout * 2 }

    public init() {}
}

/// Wraps the real WeChat client with retries of the only safe failures (-1 and requests never sent), capped
/// exponential backoff with jitter, and a per-app circuit breaker that fails fast while WeChat is down.
/// 40029, 40163, 40226 and 45011 are never retried: a code is single-use.
public final class ResilientCodeExchanger: CodeExchanging {
    private let upstream: any CodeExchanging
    private let policy: UpstreamPolicy
    private let breakers = NIOLockedValueBox<[String: CircuitBreaker]>([:])
    private let logger: Logger
    private let sleep: @Sendable (Duration) async -> Void

    public init(
        upstream: any CodeExchanging, policy: UpstreamPolicy = UpstreamPolicy(), logger: Logger,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        self.upstream = upstream
        self.policy = policy
        self.logger = logger
        self.sleep = sleep
    }

    public func exchange(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatIdentity {
        var attempt = 0
        while true {
            guard acquire(appID) else {
                throw .unavailable(errcode: 0, message: "WeChat is failing for this app; failing fast (circuit open)")
            }
            do {
                let identity = try await upstream.exchange(appID: appID, secret: secret, code: code)
                record(appID, failure: nil)
                return identity
            } catch {
                record(appID, failure: error)
                guard error.isSafeToRetry, attempt < policy.maxRetries else { throw error }
                let delay = backoff(attempt: attempt)
                logger.info("retrying WeChat call", metadata: [
                    "app": "\(appID)", "attempt": "\(attempt + 2)", "after_ms": "\(delay.wholeMilliseconds)",
                ])
                await sleep(delay)
                attempt += 1
            }
        }
    }

    /// The breaker state of one app (tests, metrics).
    public func breakerState(appID: String) -> CircuitBreaker.State {
        breakers.withLockedValue { $0[appID]?.state ?? .closed(consecutiveFailures: 0) }
    }

    private func acquire(_ appID: String) -> Bool {
        let now = ContinuousClock.now
        return breakers.withLockedValue { breakers in
            var breaker = breakers[appID] ?? CircuitBreaker(
                failureThreshold: policy.breakerFailureThreshold, cooldown: policy.breakerCooldown)
            let allowed = breaker.acquirePermission(now: now)
            breakers[appID] = breaker
            return allowed
        }
    }

    private func record(_ appID: String, failure: WeChatError?) {
        let now = ContinuousClock.now
        let opened = breakers.withLockedValue { breakers -> Bool in
            guard var breaker = breakers[appID] else { return false }
            let wasOpen = if case .open = breaker.state { true } else { false }
            if case .overloaded = failure {
                breaker.recordNoVerdict()
            } else if let failure, failure.isUpstreamFailure {
                breaker.recordFailure(now: now)
            } else {
                breaker.recordSuccess()
            }
            breakers[appID] = breaker
            if case .open = breaker.state { return !wasOpen }
            return false
        }
        if opened {
            logger.warning("WeChat circuit opened: failing fast", metadata: ["app": "\(appID)"])
        }
    }

    private func backoff(attempt: Int) -> Duration {
        var ceiling = policy.baseBackoff
        for _ in 0..<attempt { ceiling = ceiling * 2 }
        if ceiling > policy.maxBackoff { ceiling = policy.maxBackoff }
        let (seconds, attoseconds) = ceiling.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(nanoseconds, 0)))
    }
}
