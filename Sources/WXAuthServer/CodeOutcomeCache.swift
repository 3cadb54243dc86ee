import NIOConcurrencyHelpers
import Synchronization
import WXAuthProtocol

/// LOGINs by code, "singleflight" style: concurrent LOGINs with the same code share one upstream call and get the
/// same answer, and a code's answer is remembered for the code's 5-minute life, so a caller that retries a LOGIN
/// (lost reply, timeout) gets its session back instead of WeChat's 40163. Only definite answers are remembered
/// (a session, or WeChat's rejection); transient failures are shared by concurrent callers but not kept.
/// Keys are keyed hashes of codes, never the codes themselves.
final class CodeOutcomeCache: Sendable {
    private enum Slot {
        case running(Task<Response, Never>)
        case done(Response, expires: ContinuousClock.Instant)
    }

    private let slots = NIOLockedValueBox<[String: Slot]>([:])
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration = .seconds(300), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func outcome(for key: String, operation: @escaping @Sendable () async -> Response) async -> Response {
        let now = ContinuousClock.now
        enum Decision {
            case cached(Response)
            case wait(Task<Response, Never>)
        }
        let decision = slots.withLockedValue { slots -> Decision in
            switch slots[key] {
            case .done(let response, let expires) where expires > now:
                return .cached(response)
            case .running(let task):
                return .wait(task)
            default:
                if slots.count >= capacity { slots = slots.filter { !Self.isExpired($0.value, now: now) } }
                let task = Task { await operation() }
                slots[key] = .running(task)
                return .wait(task)
            }
        }
        switch decision {
        case .cached(let response):
            return response
        case .wait(let task):
            let response = await task.value
            let finished = ContinuousClock.now
            slots.withLockedValue { slots in
                guard case .running(let running) = slots[key], running == task else { return }
                if Self.isDefinite(response) && slots.count < capacity {
                    slots[key] = .done(response, expires: finished + lifetime)
                } else {
                    slots[key] = nil
                }
            }
            return response
        }
    }

    var count: Int { slots.withLockedValue { $0.count } }

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
