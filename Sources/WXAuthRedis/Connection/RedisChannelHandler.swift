import Logging
import NIOCore

/// What a `RedisConnection` hands to its channel: encoded commands and one promise per command, in order, with
/// the deadline they share.
struct RedisOutboundRequest: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<RESP3Value>]
    var deadline: NIODeadline
}

/// Sent down the pipeline by `RedisConnection.close()`: pending commands fail with `connectionShutdown`.
struct RedisShutdownEvent: Sendable {}

/// Matches replies to commands in order (Redis answers a connection's commands in the order sent), routes pushes
/// (`>`) to the push stream, fails commands whose deadline passes, and fails everything pending, with a typed
/// error, when the connection ends. Runs on the channel's event loop only.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct PendingCommand {
        var promise: EventLoopPromise<RESP3Value>
        var batch: UInt64
        /// Already failed by its deadline: its reply, when it comes, is dropped.
        var expired = false
        /// Held by the last command of a batch: cancelled when that reply arrives.
        var deadlineTimer: Scheduled<Void>?
    }

    private var pending = CircularBuffer<PendingCommand>(initialCapacity: 64)
    private var inbound: ByteBuffer?
    private let decoder: RESP3Decoder
    private let pushes: AsyncStream<RESP3Value>.Continuation
    private let logger: Logger
    private var nextBatch: UInt64 = 0
    /// Set once the connection is finished; later writes fail with it at once.
    private var terminalError: RedisClientError?

    init(decoder: RESP3Decoder, pushes: AsyncStream<RESP3Value>.Continuation, logger: Logger) {
        self.decoder = decoder
        self.pushes = pushes
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let terminalError {
            request.promises.forEach { $0.fail(terminalError) }
            promise?.fail(terminalError)
            return
        }
        let batch = nextBatch
        nextBatch &+= 1
        for promise in request.promises {
            pending.append(PendingCommand(promise: promise, batch: batch))
        }
        if !request.promises.isEmpty {
            let timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [self] in
                expire(batch: batch)
            }
            pending[pending.index(before: pending.endIndex)].deadlineTimer = timer
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    private func expire(batch: UInt64) {
        let error = RedisClientError(.deadlineExceeded, "no reply before the command's deadline")
        for index in pending.indices where pending[index].batch == batch && !pending[index].expired {
            pending[index].expired = true
            pending[index].promise.fail(error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if inbound == nil {
            inbound = incoming
        } else {
            inbound!.writeBuffer(&incoming)
        }
        do {
            while let value = try decoder.decode(from: &inbound!) {
                try deliver(value)
            }
        } catch {
            let failure = RedisClientError(.protocolError, "\(error)")
            logger.error("closing a connection that broke the protocol", metadata: ["error": "\(error)"])
            finish(with: failure)
            context.close(promise: nil)
            return
        }
        if inbound!.readableBytes == 0 {
            inbound = nil
        } else if inbound!.readerIndex > 64 * 1024 {
            inbound!.discardReadBytes()
        }
    }

    private func deliver(_ value: RESP3Value) throws(RedisClientError) {
        if case .push = value {
            pushes.yield(value)
            return
        }
        guard let command = pending.popFirst() else {
            throw RedisClientError(.protocolError, "a reply with no command waiting for it")
        }
        command.deadlineTimer?.cancel()
        guard !command.expired else { return }
        switch value {
        case .simpleError(let text), .blobError(let text):
            command.promise.fail(RedisServerError(message: String(buffer: text)))
        default:
            command.promise.succeed(value)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is RedisShutdownEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        finish(with: RedisClientError(.connectionShutdown, "the connection was closed by its owner"))
        context.close(promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(with: RedisClientError(.connectionClosed, "the connection to Redis was lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(with: RedisClientError(.connectionClosed, "\(error)"))
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(with: RedisClientError(.connectionClosed, "the connection to Redis was lost"))
    }

    /// Fails every command still waiting and ends the push stream; the first error to finish the connection wins.
    private func finish(with error: RedisClientError) {
        if terminalError == nil { terminalError = error }
        let failure = terminalError!
        while let command = pending.popFirst() {
            command.deadlineTimer?.cancel()
            if !command.expired { command.promise.fail(failure) }
        }
        pushes.finish()
    }
}
