import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

/// Many connections doing login, validate, refresh and revoke at once (also run under --sanitize=thread by
/// scripts/test.sh).
@Suite("Server concurrency")
struct ServerConcurrencyTests {
    @Test func concurrentClientsSeeConsistentSessions() async throws {
        try await TestServer.with(configure: { $0.sessions.shardCount = 1 }) { server in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        let client = try await server.client()
                        var consistent = true
                        for round in 0..<10 {
                            let login = try await server.login(client, user: "user-\(worker)-\(round)")
                            let validated = try await client.validate(token: login.token)
                            if validated.openid != login.session.openid { consistent = false }
                            async let first = client.refresh(token: login.token)
                            async let second = client.refresh(token: login.token)
                            let (a, b) = try await (first, second)
                            if a.token != b.token { consistent = false }  // grace window: one new token for both
                            try await client.revoke(token: a.token)
                            do {
                                _ = try await client.validate(token: a.token)
                                consistent = false
                            } catch let error as ServerError {
                                if error.status != .tokenRevoked { consistent = false }
                            }
                        }
                        try await client.close()
                        return consistent
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: true, count: 8))
        }
    }
}
