import NIOCore
import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

/// Issue 10: connections that never authenticate, and callers guessing proofs.
@Suite("Authentication limits: deadline to authenticate, failed AUTHs throttled per address")
struct AuthenticationLimitTests {
    static let callers = [
        CallerConfiguration(id: "gateway", secret: "gateway-secret-abcdefghijklmnop", permissions: .all),
    ]

    @Test func aConnectionThatNeverAuthenticatesIsClosedAtTheDeadlineAndFreesItsSlot() async throws {
        try await TestServer.with(configure: {
            $0.callers = Self.callers
            $0.maxConnections = 2
            $0.authTimeoutMilliseconds = 300
        }) { server in
            // Two silent connections fill the cap.
            let silent = [try await server.raw(), try await server.raw()]
            for raw in silent { #expect(await raw.waitForClose(timeout: .seconds(5))) }
            #expect(server.server.statistics.authenticationTimeoutClosures == 2)
            // The real caller gets in, and once authenticated is not cut at the deadline.
            let client = try await server.client(callerID: "gateway", secret: "gateway-secret-abcdefghijklmnop")
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await client.ping() > 0)
            try await client.close()
            #expect(server.server.statistics.authenticationTimeoutClosures == 2)
        }
    }

    @Test func failedAuthsAreThrottledPerAddressCountedAndLoggedWithoutTheProof() async throws {
        try await TestServer.with(configure: {
            $0.callers = Self.callers
            $0.authFailuresPerAddress = RateLimit(perSecond: 0.01, burst: 3)
        }) { server in
            let proof = [UInt8](repeating: 0xAB, count: 32)
            for id in 1...3 {
                let raw = try await server.raw()
                try await raw.send(.auth(callerID: "gateway", proof: proof), requestID: UInt32(id))
                #expect(try await raw.nextFrame().kind == Status.notAuthorized.rawValue)
                #expect(await raw.waitForClose())
            }
            #expect(server.server.statistics.authenticationFailures == 3)
            // Over the limit: refused at once, RATE_LIMITED in place of HELLO, even with the right secret.
            let refused = try await RawConnection.connect(port: server.port, reading: false)
            try await refused.startReading()
            let frame = try await refused.nextFrame()
            #expect(frame.requestID == 0)
            #expect(frame.kind == Status.rateLimited.rawValue)
            #expect(await refused.waitForClose())
            await #expect(throws: (any Error).self) {
                _ = try await server.client(callerID: "gateway", secret: "gateway-secret-abcdefghijklmnop")
            }
            #expect(server.server.statistics.throttledConnections == 2)
            // Logged with the caller id, rate-limited (one line for the burst), never with the proof.
            let lines = server.logs.all.filter { $0.contains("authentication failed") }
            #expect(lines.count == 1)
            #expect(lines.first?.contains("gateway") == true)
            let proofHex = proof.map { String($0, radix: 16) }.joined()
            #expect(!server.logs.all.contains { $0.contains(proofHex) || $0.contains("127.0.0.1") && $0.contains("authentication failed") })
        }
    }

    @Test func theAuthenticationDeadlineIsConfigurable() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.authTimeoutMilliseconds == 10_000)
        let file = try ConfigurationFileTests.load(
            #"{"apps": [{"app_id": "wx1", "secret": "s"}], "auth_timeout_seconds": 2.5}"#
        )
        try file.apply(to: &configuration, environment: [:])
        #expect(configuration.authTimeoutMilliseconds == 2_500)
    }
}
