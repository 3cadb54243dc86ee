import Testing
import WXAuthCrypto
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

/// Every error status of PROTOCOL.md, reached over a real socket.
@Suite("Error statuses over a real socket")
struct ErrorStatusTests {
    @Test func framingAndDecodingErrorsKeepTheConnectionUsable() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            // Unknown opcode.
            try await raw.send(.ping, requestID: 1, opcode: 0x7F)
            var frame = try await raw.nextFrame()
            #expect(frame.requestID == 1 && frame.kind == Status.unknownOpcode.rawValue)
            // Unsupported version.
            try await raw.send(.ping, requestID: 2, version: 9)
            frame = try await raw.nextFrame()
            #expect(frame.requestID == 2 && frame.kind == Status.unsupportedVersion.rawValue)
            guard case .error(let versionError) = try frame.decodeResponse(to: .ping) else { throw TestFailure("not an error") }
            #expect(versionError.supportedVersion == 1)
            // Malformed body: a string that runs past the end of the body.
            try await raw.send([0, 0, 0, 9, 1, 0x11, 0, 0, 0, 3, 0, 10, 65])
            frame = try await raw.nextFrame()
            #expect(frame.requestID == 3 && frame.kind == Status.malformedRequest.rawValue)
            // Over-long field.
            try await raw.send(.validate(token: String(repeating: "A", count: 129)), requestID: 4)
            frame = try await raw.nextFrame()
            #expect(frame.requestID == 4 && frame.kind == Status.malformedRequest.rawValue)
            // Still usable.
            try await raw.send(.ping, requestID: 5)
            frame = try await raw.nextFrame()
            #expect(frame.requestID == 5 && frame.kind == Status.ok.rawValue)
            await raw.close()
        }
    }

    @Test(arguments: [UInt32.max, 65_537, 1 << 30])
    func oversizedLengthPrefixIsAnsweredAndClosed(length: UInt32) async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            // Only the prefix and a few body bytes: the server must not wait for (or buffer) the rest.
            try await raw.send([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 1, 0x11, 0, 0])
            let frame = try await raw.nextFrame()
            #expect(frame.requestID == 0)
            guard case .error(let error) = try frame.decodeResponse(to: .ping) else { throw TestFailure("not an error") }
            #expect(error.status == .frameTooLarge)
            #expect(error.maxFrame == 65_536)
            #expect(await raw.waitForClose())
        }
    }

    @Test(arguments: [UInt32(0), 5])
    func lengthBelowHeaderIsAnsweredAndClosed(length: UInt32) async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            try await raw.send([0, 0, 0, UInt8(length), 1, 1, 0, 0, 0])
            let frame = try await raw.nextFrame()
            #expect(frame.kind == Status.malformedRequest.rawValue)
            #expect(await raw.waitForClose())
        }
    }

    @Test func tokenStatuses() async throws {
        try await TestServer.with(configure: { $0.apps[0].idleTimeoutMilliseconds = 60_000 }) { server in
            let client = try await server.client()
            // A well-formed token the server never issued.
            let forged = String(repeating: "A", count: 44)
            #expect(await ServerStatus.of { _ = try await client.validate(token: forged) } == .invalidToken)
            #expect(await ServerStatus.of { _ = try await client.refresh(token: "short") } == .invalidToken)
            let login = try await server.login(client)
            server.clock.advance(seconds: 61)
            #expect(await ServerStatus.of { _ = try await client.validate(token: login.token) } == .tokenExpired)
            let second = try await server.login(client)
            try await client.revoke(token: second.token)
            #expect(await ServerStatus.of { _ = try await client.validate(token: second.token) } == .tokenRevoked)
            #expect(await ServerStatus.of { try await client.revoke(token: second.token) } == .tokenRevoked)
            #expect(await ServerStatus.of { _ = try await client.login(appID: "wxnotconfigured", code: "x") } == .unknownApp)
            #expect(await ServerStatus.of { _ = try await client.revokeUser(appID: "wxnotconfigured", openid: "o") } == .unknownApp)
            try await client.close()
        }
    }

    @Test func wechatOutcomes() async throws {
        try await TestServer.with(wechatTimeout: .seconds(2)) { server in
            let client = try await server.client()
            func loginError(_ code: String) async -> ServerError? {
                do {
                    _ = try await client.login(appID: TestServer.appID, code: code)
                    return nil
                } catch {
                    return error as? ServerError
                }
            }
            // 40029: a code WeChat never issued.
            var error = await loginError("never-issued")
            #expect(error?.status == .wechatRejected && error?.errcode == 40029)
            #expect(error?.isRetryable == false)
            // -1 on every attempt: WeChat busy -> unavailable, retryable.
            server.simulator.injectFault(errcode: -1, count: 3)
            error = await loginError(try server.mintCode())
            #expect(error?.status == .wechatUnavailable && error?.errcode == -1)
            #expect(error?.isRetryable == true)
            // 45011: WeChat's quota -> rate limited with a retry-after.
            server.simulator.injectFault(errcode: 45011)
            error = await loginError(try server.mintCode())
            #expect(error?.status == .rateLimited && error?.errcode == 45011)
            #expect((error?.retryAfterMilliseconds ?? 0) > 0)
            // 40226: a risky user, passed through.
            server.simulator.injectFault(errcode: 40226)
            error = await loginError(try server.mintCode())
            #expect(error?.status == .wechatRejected && error?.errcode == 40226)
            // A WeChat that hangs past the deadline (the code reached WeChat and is used up there).
            server.simulator.injectHang(.seconds(6))
            let started = ContinuousClock.now
            let consumed = try server.mintCode()
            error = await loginError(consumed)
            #expect(error?.status == .wechatUnavailable && error?.errcode == 0)
            #expect(ContinuousClock.now - started < .seconds(5))
            // 40163: that code again (a timeout is not remembered, so WeChat is asked and says "used").
            error = await loginError(consumed)
            #expect(error?.status == .wechatRejected && error?.errcode == 40163)
            try await client.close()
        }
    }

    @Test func serverFullRefusesNewSessionsAndKeepsOldOnes() async throws {
        try await TestServer.with(configure: { $0.sessions.maxEntries = 2 }) { server in
            let client = try await server.client()
            let first = try await server.login(client, user: "u1")
            _ = try await server.login(client, user: "u2")
            #expect(await ServerStatus.of { _ = try await server.login(client, user: "u3") } == .serverFull)
            #expect(try await client.validate(token: first.token).openid == first.session.openid)
            try await client.close()
        }
    }

    @Test func failingRandomIssuesNoTokenAndAnswersInternalError() async throws {
        let random = SwitchableRandom()
        try await TestServer.with(random: random) { server in
            let client = try await server.client()
            let code = try server.mintCode()
            random.failing.store(true, ordering: .relaxed)
            #expect(await ServerStatus.of { _ = try await client.login(appID: TestServer.appID, code: code) } == .internalError)
            #expect(server.server.store.entryCount == 0)
            random.failing.store(false, ordering: .relaxed)
            try await client.close()
        }
    }

    @Test func callerAuthentication() async throws {
        let callers = [
            CallerConfiguration(id: "gateway", secret: "gateway-secret-abcdefghijklmnop", permissions: [.validate]),
            CallerConfiguration(id: "login-svc", secret: "login-secret-abcdefghijklmnopqr", permissions: .all),
        ]
        try await TestServer.with(configure: { $0.callers = callers }) { server in
            // Anything before AUTH: NOT_AUTHORIZED, then closed.
            let raw = try await server.raw()
            try await raw.send(.ping, requestID: 1)
            let frame = try await raw.nextFrame()
            #expect(frame.kind == Status.notAuthorized.rawValue)
            #expect(await raw.waitForClose())

            // A wrong secret is refused (and closed).
            await #expect(throws: ServerError.self) {
                _ = try await server.client(callerID: "gateway", secret: "wrong-secret-abcdefghijklmnopq")
            }
            // No credentials at all against a secured server.
            await #expect(throws: WXAuthClientError.authenticationRequired) { _ = try await server.client() }

            // Permissions are enforced per operation; the connection stays open.
            let login = try await server.client(callerID: "login-svc", secret: "login-secret-abcdefghijklmnopqr")
            let issued = try await server.login(login)
            let gateway = try await server.client(callerID: "gateway", secret: "gateway-secret-abcdefghijklmnop")
            #expect(await ServerStatus.of { _ = try await gateway.login(appID: TestServer.appID, code: try server.mintCode()) } == .notAuthorized)
            #expect(await ServerStatus.of { try await gateway.revoke(token: issued.token) } == .notAuthorized)
            #expect(try await gateway.validate(token: issued.token).openid == issued.session.openid)
            try await gateway.close()
            try await login.close()
        }
    }

    @Test func connectionCapRefusesTheExtraConnectionOnly() async throws {
        try await TestServer.with(configure: { $0.maxConnections = 2 }) { server in
            let first = try await server.client()
            let second = try await server.client()
            await #expect(throws: (any Error).self) { _ = try await server.client() }
            #expect(try await first.ping() > 0)
            #expect(try await second.ping() > 0)
            try await first.close()
            try await second.close()
        }
    }

    @Test func gracefulShutdownFinishesInFlightWork() async throws {
        let server = try await TestServer.start(configure: { _ in }, wechatTimeout: .seconds(5), random: OpenSSLRandom())
        let client = try await server.client()
        server.simulator.injectHang(.milliseconds(700))
        let code = try server.mintCode()
        async let login = client.login(appID: TestServer.appID, code: code)
        try await Task.sleep(for: .milliseconds(200))
        await server.triggerShutdown()
        // The LOGIN that was in flight still completes with a token.
        let issued = try await login
        #expect(issued.token.count == 44)
        await server.waitUntilStopped()
        await #expect(throws: (any Error).self) { _ = try await server.client() }
        await server.stop()
    }
}
