import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

@Suite("Session flow over a real socket")
struct SessionFlowTests {
    @Test func loginValidateRefreshRevoke() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let identity = try server.simulator.identity(appID: TestServer.appID, user: "alice")
            let login = try await server.login(client)
            #expect(login.session.openid == identity.openid)
            #expect(login.session.appID == TestServer.appID)
            #expect(login.token.count == 44)

            let validated = try await client.validate(token: login.token)
            #expect(validated.openid == identity.openid)
            #expect(validated.absoluteExpiresAt == login.session.absoluteExpiresAt)

            let refreshed = try await client.refresh(token: login.token)
            #expect(refreshed.token != login.token)
            #expect(refreshed.session.createdAt == login.session.createdAt)
            await #expect(throws: ServerError.self) { _ = try await client.validate(token: login.token) }
            #expect(try await client.validate(token: refreshed.token).openid == identity.openid)

            try await client.revoke(token: refreshed.token)
            let error = await #expect(throws: ServerError.self) { _ = try await client.validate(token: refreshed.token) }
            #expect(error?.status == .tokenRevoked)
            try await client.close()
        }
    }

    /// PROTOCOL.md LOGIN: a repeated LOGIN gets the remembered token while it works; after a REFRESH the code is
    /// answered as used (40163), never with the session's current token.
    @Test func loginRepeatedAfterRefreshAnswersTheCodeAsUsed() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let code = try server.mintCode(user: "rita")
            let login = try await client.login(appID: TestServer.appID, code: code)
            #expect(try await client.login(appID: TestServer.appID, code: code).token == login.token)
            let refreshed = try await client.refresh(token: login.token)
            let error = await #expect(throws: ServerError.self) { _ = try await client.login(appID: TestServer.appID, code: code) }
            #expect(error?.status == .wechatRejected && error?.errcode == 40163)
            #expect(try await client.validate(token: refreshed.token).openid == login.session.openid)
            try await client.close()
        }
    }

    /// `WXAuthServer.respond(to:)` (other front ends, such as the HTTP edge) answers exactly as the wire does.
    @Test func respondAnswersLikeTheWire() async throws {
        try await TestServer.with { server in
            let code = try server.mintCode(user: "hugo")
            guard case .loggedIn(let token, let session) = await server.server.respond(to: .login(.init(appID: TestServer.appID, code: code))) else {
                throw TestFailure("login did not answer a session")
            }
            guard case .validated(let validated) = await server.server.respond(to: .validate(.init(token: token))) else {
                throw TestFailure("validate did not answer a session")
            }
            #expect(validated.openid == session.openid)
            #expect(await server.server.respond(to: .revoke(.init(token: token))) == .revoked)
            #expect(await server.server.respond(to: .validate(.init(token: token))).status == .tokenRevoked)
            #expect(await server.server.respond(to: .validate(.init(token: "not-a-token"))).status == .invalidToken)
        }
    }

    @Test func sessionKeyNeverLeavesTheService() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let identity = try server.simulator.identity(appID: TestServer.appID, user: "carol")
            let code = try server.mintCode(user: "carol")
            // Look at the raw bytes of every OK answer: the session_key (base64 or raw) must not be in any.
            let raw = try await server.raw()
            try await raw.send(.login(appID: TestServer.appID, code: code), requestID: 1)
            let loginFrame = try await raw.nextFrame()
            guard case .loggedIn(let token, _) = try loginFrame.decodeResponse(to: .login) else {
                throw TestFailure("login failed")
            }
            try await raw.send(.validate(token: token), requestID: 2)
            let validateFrame = try await raw.nextFrame()
            try await raw.send(.refresh(token: token), requestID: 3)
            let refreshFrame = try await raw.nextFrame()
            let keyBase64 = Array(identity.sessionKey.utf8)
            for frame in [loginFrame, validateFrame, refreshFrame] {
                let bytes = Array(frame.body.readableBytesView)
                #expect(!bytes.contains(subsequence: keyBase64))
            }
            await raw.close()
            try await client.close()
        }
    }

    @Test func revokeUserEndsEverySessionOfThatUserOnly() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let a1 = try await server.login(client, user: "alice")
            let a2 = try await server.login(client, user: "alice")
            let b = try await server.login(client, user: "bob")
            let count = try await client.revokeUser(appID: TestServer.appID, openid: a1.session.openid)
            #expect(count == 2)
            for token in [a1.token, a2.token] {
                let error = await #expect(throws: ServerError.self) { _ = try await client.validate(token: token) }
                #expect(error?.status == .tokenRevoked)
            }
            #expect(try await client.validate(token: b.token).openid == b.session.openid)
            #expect(try await client.revokeUser(appID: TestServer.appID, openid: a1.session.openid) == 0)
            try await client.close()
        }
    }

    @Test func revokedSessionStaysRevokedForManyConcurrentValidators() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            try await client.revoke(token: login.token)
            let successes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let own = try await server.client()
                        var ok = 0
                        for _ in 0..<25 where (try? await own.validate(token: login.token)) != nil { ok += 1 }
                        try await own.close()
                        return ok == 0
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(successes.allSatisfy { $0 })
            try await client.close()
        }
    }

    @Test func responsesComeBackOutOfOrder() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            // The next WeChat call hangs; a VALIDATE sent after that LOGIN must be answered first.
            server.simulator.injectHang(.milliseconds(800))
            let raw = try await server.raw()
            try await raw.send(.login(appID: TestServer.appID, code: try server.mintCode(user: "dave")), requestID: 10)
            try await raw.send(.validate(token: login.token), requestID: 11)
            let first = try await raw.nextFrame()
            let second = try await raw.nextFrame()
            #expect(first.requestID == 11)
            #expect(second.requestID == 10)
            #expect(second.kind == Status.ok.rawValue)
            await raw.close()
            try await client.close()
        }
    }

    @Test func pipelinedRequestsAreAllAnswered() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await client.validate(token: login.token).openid }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(results.count == 200)
            #expect(Set(results) == [login.session.openid])
            try await client.close()
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return false }
        for start in 0...(count - subsequence.count) where self[start..<(start + subsequence.count)].elementsEqual(subsequence) {
            return true
        }
        return false
    }
}
