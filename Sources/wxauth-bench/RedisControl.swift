import NIOCore
import NIOPosix
import Synchronization
import WXAuthBenchCore

/// A plain request/reply Redis connection for setup and measurement (preload, INFO, DBSIZE), not for load.
/// Hand-written RESP2 over NIO: no Redis client package is available from this project's package mirror.
final class RedisControl: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<ReplyCollector>

    private init(channel: any Channel, handler: NIOLoopBound<ReplyCollector>) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(host: String, port: Int, group: any EventLoopGroup) async throws -> RedisControl {
        let box = Mutex<NIOLoopBound<ReplyCollector>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let collector = ReplyCollector()
                    try channel.pipeline.syncOperations.addHandler(collector)
                    box.withLock { $0 = NIOLoopBound(collector, eventLoop: channel.eventLoop) }
                }
            }
            .connect(host: host, port: port).get()
        return RedisControl(channel: channel, handler: box.withLock { $0 }!)
    }

    /// Sends `commands` (already RESP-encoded) and waits for `replies` top-level replies.
    func execute(_ commands: ByteBuffer, replies: Int) async throws -> [RESP.Reply] {
        let promise = channel.eventLoop.makePromise(of: [RESP.Reply].self)
        let handler = handler
        let channel = channel
        channel.eventLoop.execute {
            handler.value.expect(replies, promise: promise)
            channel.writeAndFlush(commands, promise: nil)
        }
        return try await promise.futureResult.get()
    }

    func command(_ arguments: String...) async throws -> RESP.Reply {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESP.writeCommand(arguments, into: &buffer)
        return try await execute(buffer, replies: 1)[0]
    }

    /// `INFO section` as text.
    func info(_ section: String) async throws -> String {
        guard case .bulk(_, let payload?) = try await command("INFO", section) else {
            throw LoadError.setup("INFO \(section) did not answer a bulk string")
        }
        return String(buffer: payload)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Collects replies for the one batch in flight.
private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var buffer: ByteBuffer?
    private var expected = 0
    private var replies: [RESP.Reply] = []
    private var promise: EventLoopPromise<[RESP.Reply]>?

    func expect(_ count: Int, promise: EventLoopPromise<[RESP.Reply]>) {
        expected = count
        replies = []
        replies.reserveCapacity(min(count, 100_000))
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        do {
            while var current = buffer, replies.count < expected,
                  let reply = try RESP.readReply(from: &current, keepPayload: true) {
                buffer = current
                replies.append(reply)
            }
            buffer?.discardReadBytes()
        } catch {
            promise?.fail(error)
            promise = nil
            context.close(promise: nil)
            return
        }
        if replies.count == expected, let promise {
            self.promise = nil
            promise.succeed(replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(LoadError.server("redis closed the connection"))
        promise = nil
        context.fireChannelInactive()
    }
}
