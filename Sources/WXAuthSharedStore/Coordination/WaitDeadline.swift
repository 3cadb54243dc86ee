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
