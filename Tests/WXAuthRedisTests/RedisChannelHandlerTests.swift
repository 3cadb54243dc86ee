import RedisTestHarness
import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import WXAuthRedis

/// The handler on an EmbeddedChannel: replies matched in order, deadlines on virtual time, pushes aside, typed
/// failures when the connection ends.
@Suite("Redis channel handler", .timeLimit(.minutes(1)))
struct RedisChannelHandlerTests {
    func makeChannel() throws -> (EmbeddedChannel, AsyncStream<RESP3Value>) {
        let (pushes, continuation) = AsyncStream<RESP3Value>.makeStream()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            RedisChannelHandler(decoder: RESP3Decoder(), pushes: continuation, logger: Logger(label: "test")))
        return (channel, pushes)
    }

    func send(_ channel: EmbeddedChannel, _ command: RedisCommand, timeout: TimeAmount) throws -> EventLoopFuture<RESP3Value> {
        let promise = channel.eventLoop.makePromise(of: RESP3Value.self)
        var bytes = ByteBuffer()
        RedisCommandEncoder.write(command, into: &bytes)
        channel.writeAndFlush(RedisOutboundRequest(bytes: bytes, promises: [promise], deadline: channel.eventLoop.now + timeout), promise: nil)
        (channel.eventLoop as! EmbeddedEventLoop).run()  // the handler's deferred flush
        return promise.futureResult
    }

    /// The future's value now (EmbeddedChannel completes promises inline); throws if it is not complete.
    func now<Value>(_ future: EventLoopFuture<Value>) throws -> Value {
        let box = ResultBox<Value>()
        future.whenComplete { box.result = $0 }
        guard let result = box.result else { throw HarnessError("not completed") }
        return try result.get()
    }

    @Test func repliesMatchInOrderAndPushesGoAside() async throws {
        let (channel, pushes) = try makeChannel()
        let first = try send(channel, .get("a"), timeout: .seconds(5))
        let second = try send(channel, .get("b"), timeout: .seconds(5))
        (channel.eventLoop as! EmbeddedEventLoop).run()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
        // The reply arrives split, with a push in between.
        try channel.writeInbound(ByteBuffer(string: "$1\r\n"))
        try channel.writeInbound(ByteBuffer(string: "A\r\n>2\r\n+invalidate\r\n_\r\n-ERR no b\r\n"))
        #expect(try now(first) == .blobString(ByteBuffer(string: "A")))
        #expect(throws: RedisServerError(message: "ERR no b")) { try now(second) }
        var iterator = pushes.makeAsyncIterator()
        #expect(await iterator.next() == .push([.simpleString(ByteBuffer(string: "invalidate")), .null]))
        _ = try? channel.finish()
    }

    @Test func anExpiredCommandFailsAloneAndItsLateReplyIsDropped() throws {
        let (channel, _) = try makeChannel()
        let loop = channel.eventLoop as! EmbeddedEventLoop
        let short = try send(channel, .get("slow"), timeout: .milliseconds(100))
        let long = try send(channel, .get("fine"), timeout: .seconds(10))
        loop.advanceTime(by: .milliseconds(150))
        #expect(throws: RedisClientError(.deadlineExceeded, "no reply before the command's deadline")) { try now(short) }
        // The late reply to the expired command still arrives first and must not answer the next one.
        try channel.writeInbound(ByteBuffer(string: "+late\r\n+on-time\r\n"))
        #expect(try now(long) == .simpleString(ByteBuffer(string: "on-time")))
        // A later command's own, earlier deadline re-arms the single timer.
        let third = try send(channel, .get("x"), timeout: .seconds(20))
        let fourth = try send(channel, .get("y"), timeout: .milliseconds(50))
        loop.advanceTime(by: .milliseconds(60))
        #expect(throws: RedisClientError.self) { try now(fourth) }
        try channel.writeInbound(ByteBuffer(string: ":3\r\n"))
        #expect(try now(third) == .integer(3))
        _ = try? channel.finish()
    }

    @Test func closingFailsEveryPendingCommandAndBrokenInputIsAProtocolError() throws {
        let (channel, _) = try makeChannel()
        let pending = try send(channel, .get("a"), timeout: .seconds(5))
        try? channel.writeInbound(ByteBuffer(string: "@nonsense\r\n"))
        do {
            _ = try now(pending)
            Issue.record("answered")
        } catch let error as RedisClientError {
            #expect(error.code == .protocolError)
        }
        let (other, _) = try makeChannel()
        let lost = try send(other, .get("b"), timeout: .seconds(5))
        other.pipeline.fireChannelInactive()
        do {
            _ = try now(lost)
            Issue.record("answered")
        } catch let error as RedisClientError {
            #expect(error.code == .connectionClosed)
        }
        _ = try? other.finish()
    }
}

/// Holds a future's result, written by a callback on the same thread (EmbeddedEventLoop).
final class ResultBox<Value>: @unchecked Sendable {
    var result: Result<Value, any Error>?
}
