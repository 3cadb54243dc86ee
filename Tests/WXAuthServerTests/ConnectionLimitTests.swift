import NIOCore
import Testing
import WXAuthProtocol
import WXAuthServer

@Suite("Connection limits: deadlines, idle, non-protocol traffic, backpressure")
struct ConnectionLimitTests {
    @Test func aHalfFrameTricklingInIsClosedAtTheFrameDeadline() async throws {
        try await TestServer.with(configure: { $0.frameDeadlineMilliseconds = 600 }) { server in
            let raw = try await server.raw()
            // A PING frame, one byte every 200 ms: each byte arrives well within any read timeout, but the frame
            // never completes before the deadline.
            let frame: [UInt8] = [0, 0, 0, 6, 1, 1, 0, 0, 0, 1]
            let started = ContinuousClock.now
            for byte in frame.prefix(8) {
                try? await raw.send([byte])
                try await Task.sleep(for: .milliseconds(200))
                if await raw.waitForClose(timeout: .milliseconds(1)) { break }
            }
            #expect(await raw.waitForClose(timeout: .seconds(10)))
            // Closed by the deadline, not because the frame completed or anything else happened.
            #expect(server.server.statistics.frameDeadlineClosures == 1)
            #expect(server.server.statistics.requestsProcessed == 0)
            _ = started
        }
    }

    @Test func wholeFramesKeepAConnectionAlivePastTheFrameDeadline() async throws {
        try await TestServer.with(configure: { $0.frameDeadlineMilliseconds = 300 }) { server in
            let raw = try await server.raw()
            for id in 1...8 {
                try await raw.send(.ping, requestID: UInt32(id))
                _ = try await raw.nextFrame()
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(server.server.statistics.frameDeadlineClosures == 0)
            await raw.close()
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        try await TestServer.with(configure: { $0.idleTimeoutMilliseconds = 300 }) { server in
            let raw = try await server.raw()
            #expect(await raw.waitForClose(timeout: .seconds(10)))
            #expect(server.server.statistics.idleClosures == 1)
        }
    }

    @Test(arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.0\r\n\r\n", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}"])
    func nonProtocolTrafficIsClosedPromptly(text: String) async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            let started = ContinuousClock.now
            try await raw.send(Array(text.utf8))
            #expect(await raw.waitForClose(timeout: .seconds(2)))
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test func aClientThatPipelinesWithoutReadingIsNoLongerRead() async throws {
        try await TestServer.with(configure: { $0.maxInFlightPerConnection = 256 }) { server in
            let client = try await server.client()
            let login = try await server.login(client)
            try await client.close()
            let raw = try await RawConnection.connect(port: server.port, receiveBuffer: 8192, reading: false)
            // More replies than loopback socket buffers can hold (kernel buffers autotune to a few MB, ~50k replies).
            let total = 150_000
            var batch = ByteBuffer()
            for id in 1...total {
                FrameEncoder.writeRequest(.validate(token: login.token), requestID: UInt32(id), into: &batch)
                if id % 1000 == 0 {
                    raw.enqueue(batch)
                    batch = ByteBuffer()
                }
            }
            // The server answers until its socket is full, then stops reading this connection: the count stalls.
            var processed = server.server.statistics.requestsProcessed
            var unchanged = 0
            for _ in 0..<100 where unchanged < 5 {
                try await Task.sleep(for: .milliseconds(100))
                let now = server.server.statistics.requestsProcessed
                unchanged = now == processed ? unchanged + 1 : 0
                processed = now
            }
            #expect(unchanged >= 5, "the server kept reading")
            #expect(processed < total * 6 / 10)
            // Once the client reads, everything is answered.
            try await raw.startReading()
            var answered = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while answered < total + 1 && ContinuousClock.now < deadline {  // + HELLO
                answered += raw.drainFrames()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(answered == total + 1)
            await raw.close()
        }
    }
}
