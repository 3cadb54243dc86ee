import NIOCore
import Testing
import WXAuthClient
import WXAuthProtocol
import WXAuthServer

/// Issue 10: how much work one connection may take, and when the frame deadline runs.
@Suite("Connection work limits: in-flight cap on buffered frames, deadline pauses, fairness")
struct ConnectionWorkLimitTests {
    /// 100 LOGINs and a PING in one write, against a slow WeChat, with a cap of 16: frames already read wait for a
    /// slot too, and are taken in order.
    @Test func framesAlreadyReadWaitForTheInFlightCap() async throws {
        try await TestServer.with(configure: { $0.maxInFlightPerConnection = 16 }) { server in
            server.simulator.setLatency(.seconds(2))
            let raw = try await server.raw()
            var batch = ByteBuffer()
            for id in 1...100 {
                let code = try server.mintCode(user: "user\(id)")
                FrameEncoder.writeRequest(.login(appID: TestServer.appID, code: code), requestID: UInt32(id), into: &batch)
            }
            FrameEncoder.writeRequest(.ping, requestID: 1000, into: &batch)
            raw.enqueue(batch)
            // The first 16 are taken at once; the rest (and the PING behind them) wait undecoded.
            var taken = 0
            for _ in 0..<100 where taken < 16 {
                try await Task.sleep(for: .milliseconds(10))
                taken = server.server.statistics.requestsProcessed
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.server.statistics.requestsProcessed == 16)
            server.simulator.setLatency(.zero)
            // In order: the PING is answered only once all 100 LOGINs were taken, so at most 16 LOGIN answers
            // (those still in flight then) can follow it.
            var loginsBeforePing = 0
            var pingAnswered = false
            for _ in 0..<101 {
                let frame = try await raw.nextFrame(timeout: .seconds(15))
                if frame.requestID == 1000 {
                    pingAnswered = true
                } else if !pingAnswered {
                    loginsBeforePing += 1
                }
            }
            #expect(pingAnswered)
            #expect(loginsBeforePing >= 100 - 16)
            await raw.close()
        }
    }

    /// The server stops reading (cap full, WeChat slow) with half a frame in hand: the deadline must not run
    /// while we are the ones not reading.
    @Test func theFrameDeadlinePausesWhileTheServerWithholdsReads() async throws {
        try await TestServer.with(configure: {
            $0.maxInFlightPerConnection = 2
            $0.frameDeadlineMilliseconds = 300
        }) { server in
            server.simulator.setLatency(.milliseconds(1500))
            let raw = try await server.raw()
            var batch = ByteBuffer()
            for id in 1...2 {
                let code = try server.mintCode(user: "user\(id)")
                FrameEncoder.writeRequest(.login(appID: TestServer.appID, code: code), requestID: UInt32(id), into: &batch)
            }
            var ping = ByteBuffer()
            FrameEncoder.writeRequest(.ping, requestID: 3, into: &ping)
            let pingBytes = Array(ping.readableBytesView)
            batch.writeBytes(pingBytes.prefix(5))
            raw.enqueue(batch)
            // Well past the frame deadline, while both LOGINs still wait on WeChat.
            try await Task.sleep(for: .milliseconds(800))
            #expect(!(await raw.waitForClose(timeout: .milliseconds(1))))
            try await raw.send(Array(pingBytes.dropFirst(5)))
            var answered: Set<UInt32> = []
            for _ in 0..<3 {
                answered.insert(try await raw.nextFrame(timeout: .seconds(10)).requestID)
            }
            #expect(answered == [1, 2, 3])
            #expect(server.server.statistics.frameDeadlineClosures == 0)
            await raw.close()
        }
    }

    /// Once the server reads again, the deadline applies as before.
    @Test func theFrameDeadlineRunsAgainOnceTheServerReads() async throws {
        try await TestServer.with(configure: {
            $0.maxInFlightPerConnection = 1
            $0.frameDeadlineMilliseconds = 300
        }) { server in
            server.simulator.setLatency(.milliseconds(600))
            let raw = try await server.raw()
            var batch = ByteBuffer()
            FrameEncoder.writeRequest(.login(appID: TestServer.appID, code: try server.mintCode()), requestID: 1, into: &batch)
            batch.writeBytes([0, 0, 0, 6, 1])  // half a PING that never completes
            raw.enqueue(batch)
            _ = try await raw.nextFrame(timeout: .seconds(10))  // the LOGIN answer: the server reads again
            #expect(await raw.waitForClose(timeout: .seconds(10)))
            #expect(server.server.statistics.frameDeadlineClosures == 1)
        }
    }

    /// Ten connections flooding pipelined VALIDATEs and PINGs without reading answers: a fresh client is still
    /// served (each connection takes a bounded number of frames per event-loop turn).
    @Test func aFreshClientIsServedWhileTenConnectionsFlood() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            try await client.close()
            var batch = ByteBuffer()
            for id in 1...20_000 {
                if id % 2 == 0 {
                    FrameEncoder.writeRequest(.validate(token: login.token), requestID: UInt32(id), into: &batch)
                } else {
                    FrameEncoder.writeRequest(.ping, requestID: UInt32(id), into: &batch)
                }
            }
            var flooders: [RawConnection] = []
            for _ in 0..<10 {
                let raw = try await RawConnection.connect(port: server.port, receiveBuffer: 8192, reading: false)
                for _ in 0..<5 { raw.enqueue(batch) }
                flooders.append(raw)
            }
            try await Task.sleep(for: .milliseconds(200))
            for _ in 0..<3 {
                let started = ContinuousClock.now
                let fresh = try await server.client()
                #expect(try await fresh.ping() > 0)
                try await fresh.close()
                #expect(ContinuousClock.now - started < .seconds(5))
            }
            for raw in flooders { await raw.close() }
        }
    }
}
