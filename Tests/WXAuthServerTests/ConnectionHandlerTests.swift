#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOEmbedded
import Testing
import WXAuthCrypto
import WXAuthProtocol
import WXAuthSessions
import WXAuthWeChat
@testable import WXAuthServer

/// The connection pipeline in an `EmbeddedChannel`: no sockets, the event loop turned by hand.
@Suite("ConnectionHandler (embedded)")
struct ConnectionHandlerTests {
    struct NoWeChat: CodeExchanging {
        func exchange(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatIdentity {
            throw .unavailable(errcode: 0, message: "not in this test")
        }
    }

    static func server(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> WXAuthServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.apps = [AppConfiguration(appID: TestServer.appID, secret: TestServer.secret)]
        configure(&configuration)
        var logger = Logger(label: "embedded")
        logger.logLevel = .critical
        return try WXAuthServer(
            configuration: configuration, keyring: try ServerKeyring.ephemeral(), exchanger: NoWeChat(), logger: logger
        )
    }

    /// A connected embedded channel with the server's real connection pipeline.
    static func connection(_ server: WXAuthServer) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try server.configureConnection(channel)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40000), promise: nil)
        return channel
    }

    /// Whole frames written by the server so far (HELLO included).
    static func outboundFrames(_ channel: EmbeddedChannel) throws -> [Frame] {
        var bytes = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&chunk) }
        var frames: [Frame] = []
        while let frame = try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1 << 20) { frames.append(frame) }
        return frames
    }

    static func pings(_ count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        for id in 1...count { FrameEncoder.writeRequest(.ping, requestID: UInt32(id), into: &buffer) }
        return buffer
    }

    @Test func aConnectionTakesAtMostItsBudgetOfFramesPerEventLoopTurn() throws {
        let server = try Self.server()
        let channel = try Self.connection(server)
        #expect(try Self.outboundFrames(channel).count == 1)  // HELLO
        let budget = ConnectionHandler.defaultFramesPerTurn
        try channel.writeInbound(Self.pings(3 * budget + 10))
        // One turn: exactly the budget, in order; the rest waits for a later turn of the loop.
        let first = try Self.outboundFrames(channel)
        #expect(first.count == budget)
        #expect(first.map(\.requestID) == (1...budget).map { UInt32($0) })
        #expect(server.statistics.requestsProcessed == budget)
        // Later turns (the loop's next rounds) take the rest, one budget per round.
        channel.embeddedEventLoop.advanceTime(by: EventLoopTurns.pause)
        #expect(server.statistics.requestsProcessed == 2 * budget)
        channel.embeddedEventLoop.advanceTime(by: EventLoopTurns.pause * 2)
        let rest = try Self.outboundFrames(channel)
        #expect(rest.count == 2 * budget + 10)
        #expect(rest.first?.requestID == UInt32(budget + 1))
        #expect(rest.last?.requestID == UInt32(3 * budget + 10))
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aClosedConnectionReleasesItsBufferedFramesAndTakesNoMore() throws {
        let server = try Self.server()
        let channel = try Self.connection(server)
        _ = try Self.outboundFrames(channel)
        let handler = try channel.pipeline.syncOperations.handler(type: ConnectionHandler.self)
        try channel.writeInbound(Self.pings(1000))
        _ = try Self.outboundFrames(channel)
        #expect(handler.bufferedBytes > 0)
        channel.close(promise: nil)
        #expect(handler.bufferedBytes == 0)
        // The turn scheduled before the close does nothing.
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try Self.outboundFrames(channel).isEmpty)
        #expect(server.statistics.requestsProcessed == ConnectionHandler.defaultFramesPerTurn)
    }

    @Test func theFrameDeadlinePausesWhileTheServerIsNotReading() throws {
        let server = try Self.server { $0.frameDeadlineMilliseconds = 1000 }
        let channel = try Self.connection(server)
        _ = try Self.outboundFrames(channel)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 6, 1]))  // half a PING: the deadline runs
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(channel.isActive)
        // The client is not reading our answers: we stop reading it, and its half frame's clock stops too.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive)
        // Reading again: a full deadline from now.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        #expect(server.statistics.frameDeadlineClosures == 1)
    }

    @Test func theIdleTimerClosesAQuietConnectionAndTrafficPostponesIt() throws {
        let server = try Self.server { $0.idleTimeoutMilliseconds = 1000 }
        let channel = try Self.connection(server)
        _ = try Self.outboundFrames(channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(700))
        try channel.writeInbound(Self.pings(1))  // traffic at 700 ms: idle from there
        #expect(try Self.outboundFrames(channel).count == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))  // 1600 ms: the first expiry has passed
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))  // 1800 ms: 1100 ms without traffic
        #expect(!channel.isActive)
        #expect(server.statistics.idleClosures == 1)
    }

    @Test func framesWaitWhileTheChannelIsNotWritable() throws {
        let server = try Self.server()
        let channel = try Self.connection(server)
        _ = try Self.outboundFrames(channel)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try channel.writeInbound(Self.pings(10))
        #expect(try Self.outboundFrames(channel).isEmpty)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.outboundFrames(channel).count == 10)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func acceptingPausesAfterAnAcceptErrorAndCountsAndLogsIt() throws {
        let statistics = ServerStatistics()
        let logs = CapturedLogs()
        let channel = EmbeddedChannel()
        let reads = ReadCounter()
        let backoff = AcceptBackoff(statistics: statistics, logger: logs.logger(label: "accept"))
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(backoff)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7400), promise: nil)
        // EMFILE: out of file descriptors. Accepting pauses instead of retrying at once (the spin).
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        #expect(backoff.isPaused)
        channel.embeddedEventLoop.advanceTime(by: AcceptBackoff.pause - .milliseconds(1))
        #expect(backoff.isPaused)
        #expect(reads.count == 0)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!backoff.isPaused)
        #expect(reads.count == 1)  // accepting again
        #expect(statistics.acceptErrors == 1)
        #expect(logs.all.contains { $0.contains("accepting connections failed") && $0.contains("ulimit") })
        // A flood of failures is counted in full but logged once.
        for _ in 0..<50 { channel.pipeline.fireErrorCaught(IOError(errnoCode: ENFILE, reason: "accept")) }
        #expect(statistics.acceptErrors == 51)
        #expect(logs.all.filter { $0.contains("accepting connections failed") }.count == 1)
        // A connection aborted before it was accepted is no reason to pause.
        channel.embeddedEventLoop.advanceTime(by: AcceptBackoff.pause)
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        #expect(!backoff.isPaused)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var count = 0
        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }
}
