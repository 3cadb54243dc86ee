import Testing
import WXAuthProtocol
@testable import WXAuthServer

@Suite("Code outcome memory")
struct CodeOutcomeCacheTests {
    /// An answer that comes well inside the deadline is always the answer: the deadline's timer, cancelled when the
    /// answer arrives, must never answer "late" (the soak found 0.5 % of LOGINs answered WECHAT_UNAVAILABLE so).
    @Test func anAnswerInsideTheDeadlineIsNeverReportedLate() async {
        let cache = CodeOutcomeCache()
        var late = 0
        for index in 0..<5000 {
            let response = await cache.outcome(for: "code\(index)", waitingAtMost: .seconds(30)) { .revoked }
            if response == nil { late += 1 }
        }
        #expect(late == 0)
    }

    @Test func aCallOutlivingTheDeadlineIsKeptForTheRetry() async throws {
        let cache = CodeOutcomeCache()
        let first = await cache.outcome(for: "slow", waitingAtMost: .milliseconds(50)) {
            try? await Task.sleep(for: .milliseconds(300))
            return .error(ServerError(.wechatRejected, "invalid code", errcode: 40029))
        }
        #expect(first == nil)
        try await Task.sleep(for: .milliseconds(500))
        let retried = await cache.outcome(for: "slow", waitingAtMost: .milliseconds(50)) { .revoked }
        #expect(retried == .error(ServerError(.wechatRejected, "invalid code", errcode: 40029)))
    }
}
