/// Pauses between polls of a key another node is working on: short at first (the answer is often milliseconds
/// away), growing by half each time up to a ceiling so a long wait costs few round trips.
struct PollBackoff: Sendable {
    private(set) var next: Duration
    let ceiling: Duration

    init(first: Duration = .milliseconds(2), ceiling: Duration = .milliseconds(20)) {
        next = first
        self.ceiling = ceiling
    }

    /// The pause to take now; the following one is 1.5 times longer, at most `ceiling`.
    mutating func pause() -> Duration {
        let current = next
        next = min(ceiling, current * 3 / 2)
        return current
    }
}

/// A point in time after which a caller stops waiting for another node.
struct WaitDeadline: Sendable {
    let instant: ContinuousClock.Instant

    init(after duration: Duration) {
        instant = .now + duration
    }

    var remaining: Duration { instant - .now }

    /// Sleeps `pause`, cut short at the deadline; false (without sleeping) when the deadline has already passed,
    /// or when the task is cancelled. After a true answer the caller looks once more, even at the deadline.
    func sleep(_ pause: Duration) async -> Bool {
        let wait = min(pause, remaining)
        guard wait > .zero else { return false }
        do { try await Task.sleep(for: wait) } catch { return false }
        return true
    }
}
