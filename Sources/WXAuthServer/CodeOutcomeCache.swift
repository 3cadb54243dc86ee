import NIOConcurrencyHelpers
import Synchronization
import WXAuthProtocol

/// LOGINs by code, "singleflight" style: concurrent LOGINs with the same code share one upstream call and get the
/// same answer, and a code's answer is remembered for the code's 5-minute life, so a caller that retries a LOGIN
/// (lost reply, timeout) gets its session back instead of WeChat's 40163. Only definite answers are remembered
/// (a session, or WeChat's rejection); transient failures are shared by concurrent callers but not kept.
///
/// The shared call belongs to the cache, not to a caller: a caller that stops waiting (its deadline passed) leaves
/// the call running, and its answer is still remembered, because WeChat may have consumed the code already.
/// Keys are keyed hashes of codes, never the codes themselves.
final class CodeOutcomeCache: Sendable {
    private enum Slot {
        case running(Task<Response, Never>, generation: UInt64)
        case done(Response, expires: ContinuousClock.Instant)
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var generation: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration = .seconds(300), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The code's outcome: remembered, shared with a call in progress, or from a new call of `operation`. Returns
    /// nil when `deadline` passes first; the call then runs on and its outcome is remembered.
    func outcome(
        for key: String, waitingAtMost deadline: Duration, operation: @escaping @Sendable () async -> Response
    ) async -> Response? {
        let now = ContinuousClock.now
        enum Decision {
            case cached(Response)
            case wait(Task<Response, Never>)
        }
        let decision = state.withLockedValue { state -> Decision in
            switch state.slots[key] {
            case .done(let response, let expires) where expires > now:
                return .cached(response)
            case .running(let task, _):
                return .wait(task)
            default:
                if state.slots.count >= capacity { state.slots = state.slots.filter { !Self.isExpired($0.value, now: now) } }
                state.generation += 1
                let generation = state.generation
                let task = Task { [self] in
                    let response = await operation()
                    finish(key, generation: generation, response: response)
                    return response
                }
                state.slots[key] = .running(task, generation: generation)
                return .wait(task)
            }
        }
        switch decision {
        case .cached(let response):
            return response
        case .wait(let task):
            return await Self.value(of: task, waitingAtMost: deadline)
        }
    }

    var count: Int { state.withLockedValue { $0.slots.count } }

    /// Keeps a definite answer for the code's life; forgets anything else so the next LOGIN asks again.
    private func finish(_ key: String, generation: UInt64, response: Response) {
        let finished = ContinuousClock.now
        state.withLockedValue { state in
            guard case .running(_, let running) = state.slots[key], running == generation else { return }
            if Self.isDefinite(response) && state.slots.count <= capacity {
                state.slots[key] = .done(response, expires: finished + lifetime)
            } else {
                state.slots[key] = nil
            }
        }
    }

    /// Waits for `task` at most `deadline`, without cancelling it (a task group would wait for it to end).
    private static func value(of task: Task<Response, Never>, waitingAtMost deadline: Duration) async -> Response? {
        let answered = NIOLockedValueBox(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Response?, Never>) in
            @Sendable func answer(_ response: Response?) {
                let first = answered.withLockedValue { answered in
                    defer { answered = true }
                    return !answered
                }
                if first { continuation.resume(returning: response) }
            }
            let timer = Task {
                // Cancelled means the answer came first: a cancelled sleep returns at once and must not answer.
                do { try await Task.sleep(for: deadline) } catch { return }
                answer(nil)
            }
            Task {
                let response = await task.value
                timer.cancel()
                answer(response)
            }
        }
    }

    private static func isExpired(_ slot: Slot, now: ContinuousClock.Instant) -> Bool {
        if case .done(_, let expires) = slot { return expires <= now }
        return false
    }

    private static func isDefinite(_ response: Response) -> Bool {
        switch response {
        case .loggedIn: true
        case .error(let error): error.status == .wechatRejected
        default: false
        }
    }
}
