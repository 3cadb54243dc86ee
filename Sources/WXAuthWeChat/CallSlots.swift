import NIOConcurrencyHelpers
import NIOCore

/// A counting semaphore for WeChat calls, first come first served: at most `count` calls hold a slot (one pooled
/// HTTP connection each), the rest wait in line. Waiting is ours, not WeChat's: a call's deadline starts only once
/// it holds a slot, and a wait that runs out says nothing about WeChat's health.
final class CallSlots: Sendable {
    private struct State {
        var free: Int
        var nextTicket: UInt64 = 0
        var line = CircularBuffer<UInt64>()
        var tickets: [UInt64: Ticket] = [:]
    }

    private enum Ticket {
        case issued
        case waiting(CheckedContinuation<Bool, Never>)
        case abandoned
    }

    let count: Int
    private let state: NIOLockedValueBox<State>

    init(count: Int) {
        precondition(count > 0)
        self.count = count
        self.state = NIOLockedValueBox(State(free: count))
    }

    /// Takes a slot, waiting in line at most `timeout`. Returns false when the wait ran out or the task was
    /// cancelled; the caller then holds nothing and must not call `release`.
    func acquire(waitingAtMost timeout: Duration) async -> Bool {
        let ticket: UInt64? = state.withLockedValue { state in
            if state.free > 0 {  // a free slot means nobody live is in line (release serves the line first)
                state.free -= 1
                return nil
            }
            state.nextTicket += 1
            state.tickets[state.nextTicket] = .issued
            return state.nextTicket
        }
        guard let ticket else { return true }
        let timer = Task { [weak self] in
            do { try await Task.sleep(for: timeout) } catch { return }  // cancelled: the slot came first
            self?.abandon(ticket)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer = state.withLockedValue { state -> Bool? in
                    if case .abandoned = state.tickets[ticket] {
                        state.tickets[ticket] = nil
                        return false
                    }
                    if state.free > 0 {
                        state.free -= 1
                        state.tickets[ticket] = nil
                        return true
                    }
                    state.line.append(ticket)
                    state.tickets[ticket] = .waiting(continuation)
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            abandon(ticket)
        }
    }

    /// Gives a slot back: to the first caller in line, or to the pool.
    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            while let ticket = state.line.popFirst() {
                if case .waiting(let continuation) = state.tickets.removeValue(forKey: ticket) { return continuation }
            }
            state.free += 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Callers waiting in line now (tests, metrics).
    var waitingCount: Int {
        state.withLockedValue { state in state.tickets.values.count { if case .waiting = $0 { true } else { false } } }
    }

    /// The wait ran out or was cancelled: leave the line (or, not yet in it, never join).
    private func abandon(_ ticket: UInt64) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            switch state.tickets[ticket] {
            case .issued:
                state.tickets[ticket] = .abandoned
                return nil
            case .waiting(let continuation):
                state.tickets[ticket] = nil
                return continuation
            case .abandoned, nil:
                return nil
            }
        }
        continuation?.resume(returning: false)
    }
}
