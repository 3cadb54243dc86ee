import NIOCore
import NIOPosix
import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer
import WXAuthWeChat

/// SIGTERM with requests in flight: every request gets an answer (its result, or SHUTTING_DOWN), none is cut.
@Suite("Graceful shutdown drain")
struct ShutdownDrainTests {
    @Test func theGraceIsExtendedToOutlastTheWeChatDeadline() {
        var configuration = ServerConfiguration()
        configuration.shutdownGraceMilliseconds = 10_000
        configuration.upstream.callTimeout = .seconds(15)
        let grace = ShutdownGrace(configuration)
        #expect(grace.effective == .seconds(16))
        #expect(grace.isExtended)
        configuration.upstream.callTimeout = .seconds(5)
        #expect(ShutdownGrace(configuration).effective == .seconds(10))
        #expect(!ShutdownGrace(configuration).isExtended)
    }

    @Test func loginsInFlightAreAnsweredWhenTheConfiguredGraceIsShorterThanTheirDeadline() async throws {
        // 20 LOGINs, WeChat answering in 1.2 s, a configured grace of 300 ms: the drain waits for them all.
        let server = try await PooledTestServer.start(configure: {
            $0.shutdownGraceMilliseconds = 300
            $0.upstream.callTimeout = .seconds(3)
        })
        server.simulator.setLatency(.milliseconds(1200))
        var clients: [WXAuthClient] = []
        for _ in 0..<4 { clients.append(try await server.client()) }
        let codes = try (0..<20).map { try server.mintCode(user: "drain\($0)") }
        let results = try await withThrowingTaskGroup(of: LoginResult.self) { group in
            for (index, code) in codes.enumerated() {
                let client = clients[index % clients.count]
                group.addTask { await LoginResult.of { try await client.login(appID: TestServer.appID, code: code) } }
            }
            try await Task.sleep(for: .milliseconds(300))
            await server.triggerShutdown()
            return try await group.reduce(into: [LoginResult]()) { $0.append($1) }
        }
        await server.waitUntilStopped()
        #expect(results.filter(\.isSession).count == 20, "\(results.filter { !$0.isSession }.prefix(3))")
        #expect(server.logs.all.contains { $0.contains("shutdown grace extended") })
        await server.stop()
    }

    @Test func requestsStillInFlightWhenTheGraceRunsOutAreAnsweredShuttingDown() async throws {
        // The user-data calls go to a WeChat that accepts and never answers, with a 20 s deadline: longer than
        // the drain's 2 s. That PHONE_NUMBER gets SHUTTING_DOWN when the grace runs out, not a cut connection.
        let blackHole = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let blackHoleURL = "http://127.0.0.1:\(blackHole.localAddress?.port ?? 0)"
        let server = try await PooledTestServer.start(configure: {
            $0.shutdownGraceMilliseconds = 200
            $0.upstream.callTimeout = .seconds(1)
        }, userDataBaseURL: blackHoleURL, userDataTimeout: .seconds(20))
        let client = try await server.client()
        let session = try await client.login(appID: TestServer.appID, code: try server.mintCode(user: "phone"))
        let phoneClient = try await server.client()
        async let phone: PhoneNumber = phoneClient.phoneNumber(token: session.token, code: "never-answered")
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        await server.triggerShutdown()
        var status: Status?
        do {
            _ = try await phone
        } catch let error as ServerError {
            status = error.status
        } catch {
            Issue.record("the request was cut without an answer: \(error)")
        }
        #expect(status == .shuttingDown)
        #expect(ContinuousClock.now - started < .seconds(6))
        await server.waitUntilStopped()
        try? await client.close()
        try? await phoneClient.close()
        await server.stop()
        try await blackHole.close()
    }
}
