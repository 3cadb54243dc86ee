import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import WXAuthProtocol

/// A bare TCP connection for sending arbitrary bytes and reading frames back: what a hostile or broken client
/// would do.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let collector: Collector
    /// The HELLO the connection started with (nil for `reading: false`).
    let hello: Hello?

    private init(channel: any Channel, collector: Collector, hello: Hello? = nil) {
        self.channel = channel
        self.collector = collector
        self.hello = hello
    }

    /// `receiveBuffer` shrinks the socket's receive buffer and `reading: false` starts without reading replies:
    /// together they model a client that pipelines without reading.
    static func connect(port: Int, receiveBuffer: Int32? = nil, reading: Bool = true) async throws -> RawConnection {
        let collector = Collector()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let connection = RawConnection(channel: channel, collector: collector)
        if !reading {
            try await channel.setOption(.autoRead, value: false)
            return connection
        }
        // Every connection starts with HELLO.
        let helloFrame = try await connection.nextFrame()
        guard helloFrame.requestID == 0, case .hello(let hello) = try? helloFrame.decodeResponse(to: Opcode.hello) else {
            throw TestFailure("no HELLO")
        }
        return RawConnection(channel: channel, collector: collector, hello: hello)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func send(_ request: Request, requestID: UInt32, version: UInt8 = WireFormat.version, opcode: UInt8? = nil) async throws {
        var buffer = ByteBuffer()
        FrameEncoder.writeFrame(kind: opcode ?? request.opcode.rawValue, requestID: requestID, into: &buffer, version: version) {
            request.encodeBody(into: &$0)
        }
        try await channel.writeAndFlush(buffer)
    }

    /// The next whole frame, waiting up to `timeout`.
    func nextFrame(timeout: Duration = .seconds(5)) async throws -> Frame {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let result: (Frame?, Bool) = collector.state.withLockedValue { state in
                let frame = try? FrameDecoder.decodeFrame(from: &state.buffer, maxFrameSize: 1 << 24)
                return (frame ?? nil, state.closed)
            }
            if let frame = result.0 { return frame }
            if result.1 { throw TestFailure("connection closed before a frame arrived") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestFailure("no frame within \(timeout)")
    }

    /// Waits until the server closes the connection; false if it is still open after `timeout`.
    func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if collector.state.withLockedValue({ $0.closed }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Starts reading replies (after `reading: false`).
    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true)
        channel.read()
    }

    /// Queues bytes without waiting for them to be written (the peer may not be reading).
    func enqueue(_ bytes: ByteBuffer) {
        channel.writeAndFlush(bytes, promise: nil)
    }

    /// How many whole frames have arrived and not been taken yet; consumes them.
    func drainFrames() -> Int {
        collector.state.withLockedValue { state in
            var count = 0
            while let frame = try? FrameDecoder.decodeFrame(from: &state.buffer, maxFrameSize: 1 << 24), frame != nil {
                count += 1
            }
            state.buffer.discardReadBytes()
            return count
        }
    }

    func close() async {
        try? await channel.close()
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = NIOLockedValueBox<(buffer: ByteBuffer, closed: Bool)>((ByteBuffer(), false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            state.withLockedValue { $0.buffer.writeBuffer(&bytes) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
