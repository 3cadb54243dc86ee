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
///
/// Per command it costs one queue entry: one timer serves every deadline (armed for the earliest; when it fires
/// it expires what is due and re-arms), and flushes requested while the event loop is busy go out as one write.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct PendingCommand {
        var promise: EventLoopPromise<RESP3Value>
        var deadline: NIODeadline
        /// Already failed by its deadline: its reply, when it comes, is dropped.
        var expired = false
    }

    private var pending = CircularBuffer<PendingCommand>(initialCapacity: 64)
    private var inbound: ByteBuffer?
    private let decoder: RESP3Decoder
    private let pushes: AsyncStream<RESP3Value>.Continuation
    private let logger: Logger
    private var deadlineTimer: Scheduled<Void>?
    /// When `deadlineTimer` fires; nil when no timer is armed.
    private var armedDeadline: NIODeadline?
    private var flushScheduled = false
    private var removed = false
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
        for promise in request.promises {
            pending.append(PendingCommand(promise: promise, deadline: request.deadline))
        }
        if !request.promises.isEmpty, armedDeadline.map({ request.deadline < $0 }) ?? true {
            armTimer(at: request.deadline, context: context)
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    /// Flushes asked for while the loop is busy (other writes queued behind this one) become one flush.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            if !removed { context.flush() }
        }
    }

    private func armTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        deadlineTimer?.cancel()
        armedDeadline = deadline
        deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            armedDeadline = nil
            deadlineTimer = nil
            expireDueCommands(context: context)
        }
    }

    /// Fails every command whose deadline has passed, and arms the timer for the earliest one left.
    private func expireDueCommands(context: ChannelHandlerContext) {
        guard !removed else { return }
        let now = context.eventLoop.now
        let error = RedisClientError(.deadlineExceeded, "no reply before the command's deadline")
        var earliest: NIODeadline?
        for index in pending.indices where !pending[index].expired {
            if pending[index].deadline <= now {
                pending[index].expired = true
                pending[index].promise.fail(error)
            } else if earliest.map({ pending[index].deadline < $0 }) ?? true {
                earliest = pending[index].deadline
            }
        }
        if let earliest { armTimer(at: earliest, context: context) }
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
        removed = true
        finish(with: RedisClientError(.connectionClosed, "the connection to Redis was lost"))
    }

    /// Fails every command still waiting and ends the push stream; the first error to finish the connection wins.
    private func finish(with error: RedisClientError) {
        if terminalError == nil { terminalError = error }
        let failure = terminalError!
        deadlineTimer?.cancel()
        deadlineTimer = nil
        armedDeadline = nil
        while let command = pending.popFirst() {
            if !command.expired { command.promise.fail(failure) }
        }
        pushes.finish()
    }
}
