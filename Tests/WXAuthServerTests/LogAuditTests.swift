import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

/// Captures every log line of a run that logs in, validates, refreshes and fails in every way, and checks that no
/// issued token, session_key, code, app secret or caller secret appears in any of them.
@Suite("Log audit")
struct LogAuditTests {
    @Test func noSecretEverReachesTheLogs() async throws {
        let callerSecret = "caller-secret-never-logged-0123456789"
        var secrets: [String] = [TestServer.secret, callerSecret]
        let lines = try await TestServer.with(configure: {
            $0.callers = [CallerConfiguration(id: "svc", secret: callerSecret, permissions: .all)]
            $0.loginRatePerUser = RateLimit(perSecond: 0.01, burst: 3)
        }, wechatTimeout: .seconds(2)) { server in
            let client = try await server.client(callerID: "svc", secret: callerSecret)
            func attempt(_ body: () async throws -> Void) async { try? await body() }
            for user in ["alice", "bob"] {
                let code = try server.mintCode(user: user)
                secrets.append(code)
                secrets.append(try server.simulator.identity(appID: TestServer.appID, user: user).sessionKey)
                let issued = try await client.login(appID: TestServer.appID, code: code)
                secrets.append(issued.token)
                _ = try await client.validate(token: issued.token)
                let refreshed = try await client.refresh(token: issued.token)
                secrets.append(refreshed.token)
                _ = try await client.refresh(token: issued.token)  // grace retry
                await attempt { _ = try await client.validate(token: issued.token) }  // rotated
                try await client.revoke(token: refreshed.token)
                await attempt { _ = try await client.validate(token: refreshed.token) }  // revoked
            }
            // Every failure path of LOGIN.
            for errcode: Int32 in [-1, 40029, 40163, 40226, 45011] {
                server.simulator.injectFault(errcode: errcode, count: 3)
                let code = try server.mintCode(user: "carol")
                secrets.append(code)
                await attempt { _ = try await client.login(appID: TestServer.appID, code: code) }
            }
            server.simulator.injectHang(.seconds(4))
            let hung = try server.mintCode(user: "dave")
            secrets.append(hung)
            await attempt { _ = try await client.login(appID: TestServer.appID, code: hung) }
            await attempt { _ = try await client.login(appID: TestServer.appID, code: hung) }  // 40163
            for _ in 0..<4 {  // per-user rate limit
                let code = try server.mintCode(user: "erin")
                secrets.append(code)
                await attempt { _ = try await client.login(appID: TestServer.appID, code: code) }
            }
            await attempt { _ = try await client.validate(token: String(repeating: "Q", count: 44)) }
            await attempt { _ = try await client.login(appID: "wxunknown", code: "zzz") }
            // A failed caller authentication.
            await attempt { _ = try await server.client(callerID: "svc", secret: "wrong-secret-of-some-length") }
            try await client.close()
            return server.logs.all
        }
        #expect(lines.count > 10)
        for secret in secrets where secret.count >= 8 {
            let leaks = lines.filter { $0.contains(secret) }
            #expect(leaks.isEmpty, "a secret appeared in \(leaks.count) log line(s)")
        }
    }
}
