import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer
import WXAuthWeChat

/// A login burst against a slow WeChat: our own queueing must never look like WeChat failing, and a code WeChat
/// consumed must never be lost because the caller stopped waiting.
@Suite("WeChat under a login burst")
struct UpstreamLoadTests {
    /// `count` LOGINs at once, spread over `connections` client connections (pipelined on each).
    private func burst(_ server: PooledTestServer, count: Int, connections: Int, prefix: String) async throws -> [LoginResult] {
        let codes = try (0..<count).map { try server.mintCode(user: "\(prefix)\($0)") }
        var clients: [WXAuthClient] = []
        for _ in 0..<connections { clients.append(try await server.client()) }
        let results = await withTaskGroup(of: LoginResult.self) { group in
            for (index, code) in codes.enumerated() {
                let client = clients[index % connections]
                group.addTask { await LoginResult.of { try await client.login(appID: TestServer.appID, code: code) } }
            }
            return await group.reduce(into: [LoginResult]()) { $0.append($1) }
        }
        for client in clients { try? await client.close() }
        return results
    }

    /// One more LOGIN after the burst: it fails fast if the breaker opened.
    private func breakerIsClosed(_ server: PooledTestServer) async throws -> Bool {
        server.simulator.setLatency(.zero)
        let client = try await server.client()
        defer { Task { try? await client.close() } }
        return await LoginResult.of { try await client.login(appID: TestServer.appID, code: try server.mintCode(user: "after")) }
            .isSession
    }

    @Test func aBurstLargerThanTheOldPoolGetsEverySessionWithinTheDeadline() async throws {
        // 160 LOGINs allowed at once by the per-app burst, WeChat answering in 1 s, a 1.5 s deadline: a 64-connection
        // pool whose queueing counted against the deadline failed the last 96 and opened the breaker.
        try await PooledTestServer.with(configure: {
            $0.loginRatePerApp = RateLimit(perSecond: 1, burst: 160)
            $0.loginRatePerUser = RateLimit(perSecond: 1, burst: 10)
            $0.upstream.callTimeout = .milliseconds(1500)
            $0.upstream.breakerFailureThreshold = 2
            $0.upstream.maxRetries = 0
        }) { server in
            server.simulator.setLatency(.seconds(1))
            let results = try await burst(server, count: 160, connections: 8, prefix: "burst")
            #expect(results.filter(\.isSession).count == 160, "\(results.filter { !$0.isSession }.prefix(3))")
            #expect(!results.contains(.refused(.wechatUnavailable)))
            #expect(server.simulator.stats.codesExchanged == 160)
            #expect(try await breakerIsClosed(server))
        }
    }

    @Test func waitingForAConnectionIsNotCountedAgainstTheDeadlineNorTheBreaker() async throws {
        // Only 16 connections for 64 LOGINs and a WeChat answering in 400 ms: the last ones wait about 1.2 s for a
        // connection, longer than the 1 s each call is allowed once it has one.
        try await PooledTestServer.with(configure: {
            $0.upstream.callTimeout = .seconds(5)
            $0.upstream.breakerFailureThreshold = 2
            $0.upstream.maxRetries = 0
        }, connections: 16) { server in
            server.simulator.setLatency(.milliseconds(400))
            let results = try await burst(server, count: 64, connections: 4, prefix: "queued")
            #expect(results.filter(\.isSession).count == 64, "\(results.filter { !$0.isSession }.prefix(3))")
            #expect(server.simulator.stats.codesExchanged == 64)
            #expect(try await breakerIsClosed(server))
        }
    }

    @Test func aLoginAnsweredLateCanBeRetriedWithTheSameCodeAndGetsTheSession() async throws {
        // The caller stops waiting at 500 ms; WeChat consumes the code and answers at 900 ms. The retry gets the
        // session that answer made, not 40163, and WeChat is asked once.
        try await PooledTestServer.with(configure: {
            $0.upstream.callTimeout = .milliseconds(500)
            $0.upstream.maxRetries = 0
        }) { server in
            server.simulator.setLatency(.milliseconds(900))
            let client = try await server.client()
            let code = try server.mintCode(user: "late")
            let started = ContinuousClock.now
            let first = await LoginResult.of { try await client.login(appID: TestServer.appID, code: code) }
            #expect(first == .refused(.wechatUnavailable))
            #expect(ContinuousClock.now - started < .milliseconds(850))
            try await Task.sleep(for: .milliseconds(700))
            #expect(server.simulator.stats.codesExchanged == 1)
            let retried = await LoginResult.of { try await client.login(appID: TestServer.appID, code: code) }
            #expect(retried.isSession)
            #expect(server.simulator.stats.jscode2sessionCalls == 1)
            // A retry that comes while the call is still running shares it.
            let code2 = try server.mintCode(user: "late2")
            _ = await LoginResult.of { try await client.login(appID: TestServer.appID, code: code2) }
            let joined = await LoginResult.of { try await client.login(appID: TestServer.appID, code: code2) }
            #expect(joined.isSession)
            #expect(server.simulator.stats.jscode2sessionCalls == 2)
            try await client.close()
        }
    }
}
