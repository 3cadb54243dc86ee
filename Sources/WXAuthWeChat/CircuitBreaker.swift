/// One app's view of WeChat's health, without I/O or clocks of its own: the caller passes the time.
///
/// Closed: calls pass; `failureThreshold` consecutive upstream failures open it. Open: calls fail fast until
/// `cooldown` has passed. Half-open: exactly one probe call passes; its success closes the breaker, its failure
/// opens it again for another cooldown.
public struct CircuitBreaker: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probeInFlight: Bool)
    }

    public private(set) var state: State = .closed(consecutiveFailures: 0)
    public let failureThreshold: Int
    public let cooldown: Duration

    public init(failureThreshold: Int = 5, cooldown: Duration = .seconds(10)) {
        precondition(failureThreshold > 0)
        self.failureThreshold = failureThreshold
        self.cooldown = cooldown
    }

    /// Whether a call may go to WeChat now. In half-open state only the first caller gets true (the probe).
    public mutating func acquirePermission(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        case .halfOpen(let probeInFlight):
            guard !probeInFlight else { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        }
    }

    /// WeChat answered (success or a definite answer such as 40029): it is healthy.
    public mutating func recordSuccess() {
        state = .closed(consecutiveFailures: 0)
    }

    /// The call never reached WeChat for a reason of ours (no free connection): no verdict. A probe that did not
    /// happen lets the next call probe instead.
    public mutating func recordNoVerdict() {
        if case .halfOpen(probeInFlight: true) = state { state = .halfOpen(probeInFlight: false) }
    }

    /// WeChat was busy or did not answer.
    public mutating func recordFailure(now: ContinuousClock.Instant) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= failureThreshold ? .open(until: now + cooldown) : .closed(consecutiveFailures: failures + 1)
        case .halfOpen, .open:
            state = .open(until: now + cooldown)
        }
    }
}
