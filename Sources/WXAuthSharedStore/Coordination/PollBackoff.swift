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
