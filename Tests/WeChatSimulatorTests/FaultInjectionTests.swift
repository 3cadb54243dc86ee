import Testing
import WXAuthWeChat
import WeChatSimulator

/// Injected errors, hangs and latency, in-process and over `/sim/`.
@Suite(.timeLimit(.minutes(1)))
struct FaultInjectionTests {
    @Test func systemErrorIsUnavailableAndLeavesTheCodeUnconsumed() async throws {
        try await withSimulator { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            harness.simulator.injectFault(errcode: -1)
            let error = await harness.exchangeFailure(code: code)
            guard case .unavailable(-1, let message) = error else {
                Issue.record("expected unavailable(-1), got \(String(describing: error))")
                return
            }
            #expect(message.hasPrefix("system error, rid: "))
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
        }
    }

    @Test func quotaIsRateLimited() async throws {
        try await withSimulator { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            harness.simulator.injectFault(errcode: 45011)
            let error = await harness.exchangeFailure(code: code)
            guard case .rateLimited(45011, let errmsg, 60_000) = error else {
                Issue.record("expected rateLimited(45011), got \(String(describing: error))")
                return
            }
            #expect(errmsg.hasPrefix("api minute-quota reach limit mm/hh, rid: "))
        }
    }

    @Test func riskyUserIsRejectedOverHTTPFaultEndpointForCountCalls() async throws {
        try await withSimulator { harness in
            let injected = try await harness.send(.POST, "/sim/fault", body: #"{"errcode":40226,"count":2}"#)
            #expect(injected.status == 200)
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            for _ in 0..<2 {
                let error = await harness.exchangeFailure(code: code)
                guard case .rejected(40226, let errmsg) = error else {
                    Issue.record("expected rejected(40226), got \(String(describing: error))")
                    return
                }
                #expect(errmsg.hasPrefix("high risk level user, rid: "))
            }
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            #expect(harness.simulator.stats.faultsServed == 2)
        }
    }

    @Test func aHangPastTheDeadlineIsUnavailableInTimeAndConsumesTheCode() async throws {
        let timeout = Duration.seconds(1)
        try await withSimulator(clientTimeout: timeout) { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            let injected = try await harness.send(.POST, "/sim/fault", body: #"{"hang_ms":8000,"count":1}"#)
            #expect(injected.status == 200)
            let clock = ContinuousClock()
            let started = clock.now
            let error = await harness.exchangeFailure(code: code)
            let elapsed = clock.now - started
            guard case .unavailable(0, _) = error else {
                Issue.record("expected unavailable(0), got \(String(describing: error))")
                return
            }
            #expect(elapsed >= timeout)
            #expect(elapsed < timeout + .seconds(4))  // well before the 8 s hang ends
            // The request reached "WeChat": the code is spent, which is why retrying after a timeout is unsafe.
            let retry = await harness.exchangeFailure(code: code)
            guard case .rejected(40163, _) = retry else {
                Issue.record("expected rejected(40163), got \(String(describing: retry))")
                return
            }
        }
    }

    @Test func latencyDelaysEveryCallUntilReset() async throws {
        try await withSimulator { harness in
            let clock = ContinuousClock()
            #expect(try await harness.send(.POST, "/sim/latency", body: #"{"ms":1000}"#).status == 200)
            for _ in 0..<2 {
                let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
                let started = clock.now
                _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
                #expect(clock.now - started >= .milliseconds(1000))
            }
            harness.simulator.injectFault(errcode: -1, count: 5)
            #expect(try await harness.send(.POST, "/sim/reset-faults").status == 200)
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            let started = clock.now
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            #expect(clock.now - started < .milliseconds(1000))
        }
    }
}
