import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

@Suite("WeChat retries, circuit breaker, coalescing, rate limits")
struct UpstreamResilienceTests {
    private func loginError(_ client: WXAuthClient, _ code: String) async -> ServerError? {
        do {
            _ = try await client.login(appID: TestServer.appID, code: code)
            return nil
        } catch {
            return error as? ServerError
        }
    }

    @Test func busyWeChatIsRetriedAndTheLoginSucceeds() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            server.simulator.injectFault(errcode: -1, count: 2)
            let before = server.simulator.stats.jscode2sessionCalls
            let issued = try await client.login(appID: TestServer.appID, code: try server.mintCode())
            #expect(issued.token.count == 44)
            #expect(server.simulator.stats.jscode2sessionCalls - before == 3)
            try await client.close()
        }
    }

    @Test func retriesStopAfterTwo() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            server.simulator.injectFault(errcode: -1, count: 10)
            let before = server.simulator.stats.jscode2sessionCalls
            let error = await loginError(client, try server.mintCode())
            #expect(error?.status == .wechatUnavailable && error?.errcode == -1)
            #expect(server.simulator.stats.jscode2sessionCalls - before == 3)
            try await client.close()
        }
    }

    @Test(arguments: [Int32(40029), 40163, 40226, 45011])
    func definiteAnswersAreNeverRetried(errcode: Int32) async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            server.simulator.injectFault(errcode: errcode, count: 5)
            let before = server.simulator.stats.jscode2sessionCalls
            let error = await loginError(client, try server.mintCode())
            #expect(error?.errcode == errcode)
            #expect(server.simulator.stats.jscode2sessionCalls - before == 1)
            try await client.close()
        }
    }

    @Test func circuitBreakerFailsFastThenRecoversThroughAProbe() async throws {
        try await TestServer.with(configure: {
            $0.upstream.breakerFailureThreshold = 2
            $0.upstream.breakerCooldown = .seconds(3)
            $0.upstream.maxRetries = 0
        }) { server in
            let client = try await server.client()
            server.simulator.injectFault(errcode: -1, count: 100)
            _ = await loginError(client, try server.mintCode())
            _ = await loginError(client, try server.mintCode())
            let callsWhenOpened = server.simulator.stats.jscode2sessionCalls
            // Open: no call reaches WeChat.
            let fast = await loginError(client, try server.mintCode())
            #expect(fast?.status == .wechatUnavailable)
            #expect(fast?.message.contains("circuit open") == true)
            #expect(server.simulator.stats.jscode2sessionCalls == callsWhenOpened)
            // After the cooldown one probe goes through; WeChat is healthy again, so the breaker closes.
            server.simulator.resetFaults()
            try await Task.sleep(for: .milliseconds(3100))
            _ = try await client.login(appID: TestServer.appID, code: try server.mintCode())
            _ = try await client.login(appID: TestServer.appID, code: try server.mintCode())
            #expect(server.simulator.stats.jscode2sessionCalls == callsWhenOpened + 2)
            try await client.close()
        }
    }

    @Test func concurrentLoginsWithOneCodeShareOneCallAndOneSession() async throws {
        try await TestServer.with { server in
            server.simulator.setLatency(.milliseconds(200))
            let code = try server.mintCode()
            let before = server.simulator.stats.jscode2sessionCalls
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let client = try await server.client()
                        let issued = try await client.login(appID: TestServer.appID, code: code)
                        try await client.close()
                        return issued.token
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(tokens.count == 50)
            #expect(Set(tokens).count == 1)
            #expect(server.simulator.stats.jscode2sessionCalls - before == 1)
            #expect(server.server.store.entryCount == 1)
        }
    }

    @Test func aRetriedLoginGetsTheSameSessionInsteadOf40163() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let code = try server.mintCode()
            let first = try await client.login(appID: TestServer.appID, code: code)
            let again = try await client.login(appID: TestServer.appID, code: code)
            #expect(again.token == first.token)
            // A rejected code is remembered too: the second try does not ask WeChat again.
            let before = server.simulator.stats.jscode2sessionCalls
            #expect(await loginError(client, "bogus-code")?.errcode == 40029)
            #expect(await loginError(client, "bogus-code")?.errcode == 40029)
            #expect(server.simulator.stats.jscode2sessionCalls - before == 1)
            try await client.close()
        }
    }

    @Test func loginsAreRateLimitedPerApp() async throws {
        try await TestServer.with(configure: { $0.loginRatePerApp = RateLimit(perSecond: 0.01, burst: 2) }) { server in
            let client = try await server.client()
            _ = try await server.login(client, user: "a")
            _ = try await server.login(client, user: "b")
            let before = server.simulator.stats.jscode2sessionCalls
            let error = await loginError(client, try server.mintCode(user: "c"))
            #expect(error?.status == .rateLimited)
            #expect(error?.errcode == 0)
            #expect((error?.retryAfterMilliseconds ?? 0) > 1000)
            #expect(error?.isRetryable == true)
            #expect(server.simulator.stats.jscode2sessionCalls == before)
            try await client.close()
        }
    }

    @Test func loginsAreRateLimitedPerUser() async throws {
        try await TestServer.with(configure: { $0.loginRatePerUser = RateLimit(perSecond: 0.01, burst: 1) }) { server in
            let client = try await server.client()
            _ = try await server.login(client, user: "eve")
            let error = await loginError(client, try server.mintCode(user: "eve"))
            #expect(error?.status == .rateLimited)
            #expect((error?.retryAfterMilliseconds ?? 0) > 0)
            // Another user is not affected.
            _ = try await server.login(client, user: "frank")
            try await client.close()
        }
    }

    /// WeChat spends a code when it answers: a LOGIN refused by the per-user limit keeps that answer, so the retry
    /// with the same code after `retry_after_ms` gets the session (WeChat would say 40163 to a second exchange).
    @Test func aRetryAfterThePerUserLimitUsesTheKeptAnswerForTheSameCode() async throws {
        try await TestServer.with(configure: { $0.loginRatePerUser = RateLimit(perSecond: 4, burst: 1) }) { server in
            let client = try await server.client()
            _ = try await server.login(client, user: "grace")
            let code = try server.mintCode(user: "grace")
            let error = await loginError(client, code)
            #expect(error?.status == .rateLimited)
            let calls = server.simulator.stats.jscode2sessionCalls
            try await Task.sleep(for: .milliseconds(Int(error?.retryAfterMilliseconds ?? 250) + 100))
            let retried = try await client.login(appID: TestServer.appID, code: code)
            #expect(retried.session.openid == (try await client.validate(token: retried.token)).openid)
            #expect(server.simulator.stats.jscode2sessionCalls == calls, "the retry did not ask WeChat again")
            try await client.close()
        }
    }
}
