import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing
import WXAuthWeChat
import WeChatSimulator

/// The `/sim/` endpoints, stats, and robustness against malformed input.
@Suite(.timeLimit(.minutes(1)))
struct ControlAPITests {
    private struct Minted: Decodable {
        var code: String
        var openid: String
    }

    @Test func mintEndpointIssuesWorkingCodes() async throws {
        try await withSimulator { harness in
            let response = try await harness.send(.POST, "/sim/code", body: #"{"appid":"wxdevapp00000001","user":"carol"}"#)
            #expect(response.status == 200)
            let minted = try JSONDecoder().decode(Minted.self, from: Data(response.body.utf8))
            #expect(minted.code.count == 32)
            #expect(minted.code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            let identity = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: minted.code)
            #expect(identity.openid == minted.openid)

            let chosen = try await harness.send(
                .POST, "/sim/code", body: #"{"appid":"wxdevapp00000001","user":"carol","code":"p+q/r=="}"#)
            #expect(chosen.status == 200)
            #expect(try JSONDecoder().decode(Minted.self, from: Data(chosen.body.utf8)).code == "p+q/r==")
            let again = try await harness.send(
                .POST, "/sim/code", body: #"{"appid":"wxdevapp00000001","user":"carol","code":"p+q/r=="}"#)
            #expect(again.status == 409)
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: "p+q/r==")

            let unknown = try await harness.send(.POST, "/sim/code", body: #"{"appid":"wxnope","user":"carol"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("\"error\""))
        }
    }

    @Test func statsCountMintsAndCalls() async throws {
        try await withSimulator { harness in
            for _ in 0..<3 {
                let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
                _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            }
            _ = await harness.exchangeFailure(code: "never-minted")
            _ = try await harness.send(.POST, "/sim/code", body: #"{"appid":"wxdevapp00000001","user":"bob"}"#)

            let stats = try await harness.send(.GET, "/sim/stats")
            #expect(stats.status == 200)
            let counts = try JSONDecoder().decode([String: Int].self, from: Data(stats.body.utf8))
            #expect(counts["jscode2session_calls"] == 4)
            #expect(counts["codes_minted"] == 4)
            #expect(counts["codes_exchanged"] == 3)
            #expect(harness.simulator.stats == WeChatSimulatorStats(
                jscode2sessionCalls: 4, codesMinted: 4, codesExchanged: 3, faultsServed: 0))
        }
    }

    @Test func malformedRequestsGet400AndServingContinues() async throws {
        try await withSimulator { harness in
            #expect(try await harness.send(.POST, "/sim/code", body: "{not json").status == 400)
            #expect(try await harness.send(.POST, "/sim/code", body: #"{"appid":"wxdevapp00000001"}"#).status == 400)
            #expect(try await harness.send(.POST, "/sim/fault", body: #"{"count":3}"#).status == 400)
            #expect(try await harness.send(.POST, "/sim/fault", body: #"{"errcode":-1,"count":0}"#).status == 400)
            #expect(try await harness.send(.POST, "/sim/latency", body: #"{"ms":-5}"#).status == 400)
            let badEscape = try await Self.rawExchange(
                port: harness.simulator.port,
                bytes: "GET /sns/jscode2session?appid=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(badEscape.hasPrefix("HTTP/1.1 400"))
            let badUTF8 = try await Self.rawExchange(
                port: harness.simulator.port,
                bytes: "GET /sns/jscode2session?js_code=%E9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(badUTF8.hasPrefix("HTTP/1.1 400"))
            #expect(try await harness.send(.GET, "/nowhere").status == 404)
            #expect(try await harness.send(.DELETE, "/sim/stats").status == 405)
            let huge = String(repeating: "x", count: 70 * 1024)
            #expect(try await harness.send(.POST, "/sim/code", body: huge).status == 413)

            let garbage = try await Self.rawExchange(port: harness.simulator.port, bytes: "GARBAGE\r\n\r\n")
            #expect(garbage.hasPrefix("HTTP/1.1 400"))

            #expect(harness.simulator.stats.faultsServed == 0)
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
        }
    }

    @Test func refusesNonLoopbackHosts() async throws {
        let simulator = WeChatSimulator(configuration: TestApps.configuration())
        let error = await #expect(throws: WeChatSimulatorError.self) {
            try await simulator.start(host: "0.0.0.0")
        }
        #expect(error?.code == .nonLoopbackHost)
        try await simulator.shutdown()
    }

    /// Writes raw bytes to the simulator and reads until it closes the connection.
    private static func rawExchange(port: Int, bytes: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: bytes))
            var received = ByteBuffer()
            for try await chunk in inbound {
                received.writeImmutableBuffer(chunk)
            }
            return String(buffer: received)
        }
    }
}
