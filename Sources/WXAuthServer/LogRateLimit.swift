import Synchronization

/// At most one log line per interval for one kind of event (failed AUTHs, accept errors), so a flood cannot turn
/// into a log flood; the line that is written says how many were left out before it.
final class LogRateLimit: Sendable {
    private let interval: Duration
    private let state: Mutex<(next: ContinuousClock.Instant?, suppressed: Int)> = Mutex((nil, 0))

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// nil: leave this line out. Otherwise write it, with the number of lines left out since the last one.
    func admit(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            if let next = state.next, now < next {
                state.suppressed += 1
                return nil
            }
            let suppressed = state.suppressed
            state = (now + interval, 0)
            return suppressed
        }
    }
}
