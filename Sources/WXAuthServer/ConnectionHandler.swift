import Logging
import NIOCore
import WXAuthProtocol

/// Runs one connection on its event loop: HELLO, then frames in and responses out. Synchronous operations are
/// answered in the same pass (flushed once per read burst); LOGIN completes later and is written whenever it is
/// ready, so responses may leave out of order. Reading pauses while too many requests are in flight or the
/// socket is not writable, so a client that pipelines without reading cannot grow server memory.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline to begin a graceful close.
    struct DrainEvent: Sendable {}
    /// Sent when the shutdown grace ran out: answer what is still in flight with SHUTTING_DOWN, then close.
    struct DrainDeadlineEvent: Sendable {}

    private let processor: RequestProcessor
    private let statistics: ServerStatistics
    private let maxFrameSize: Int
    private let logger: Logger
    private var machine: ConnectionStateMachine
    private var readPending = false
    private var context: ChannelHandlerContext?
    /// Request ids of deferred work not yet answered (a client may reuse an id, hence a count).
    private var deferredInFlight: [UInt32: Int] = [:]

    init(
        processor: RequestProcessor, statistics: ServerStatistics, nonce: [UInt8], maxFrameSize: Int,
        maxInFlight: Int, logger: Logger
    ) {
        self.processor = processor
        self.statistics = statistics
        self.maxFrameSize = maxFrameSize
        self.logger = logger
        self.machine = ConnectionStateMachine(
            authenticationRequired: !processor.callers.isOpen, nonce: nonce, maxInFlight: maxInFlight
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let hello = Hello(
            authenticationRequired: machine.state == .awaitingAuthentication, nonce: machine.nonce,
            maxFrame: UInt32(maxFrameSize)
        )
        write(.hello(hello), requestID: WireFormat.serverRequestID, context: context)
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.closed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        statistics.recordRequest()
        let decoded = Result { () throws(RequestDecodingError) in try frame.decodeRequest() }
        let callers = processor.callers
        let nonce = machine.nonce  // not read inside the closure: `machine` is being mutated there
        let action = machine.requestReceived(decoded) { callerID, proof in
            callers.isOpen ? .all : callers.authenticate(callerID: callerID, proof: proof, nonce: nonce)
        }
        switch action {
        case .ignore:
            break
        case .respond(let response):
            write(response, requestID: frame.requestID, context: context)
        case .respondAndClose(let response):
            writeAndClose(response, requestID: frame.requestID, context: context)
        case .process(let request):
            switch processor.process(request) {
            case .immediate(let response):
                write(response, requestID: frame.requestID, context: context)
                finishRequest(context: context)
            case .deferred(let work):
                let requestID = frame.requestID
                deferredInFlight[requestID, default: 0] += 1
                context.eventLoop.makeFutureWithTask { await work() }.assumeIsolated().whenSuccess { response in
                    self.completeDeferred(response, requestID: requestID)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfAllowed(context: context)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if machine.acceptsMoreRequests && context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainDeadlineEvent {
            answerInFlightWithShuttingDownAndClose(context: context)
            return
        }
        if event is DrainEvent {
            if machine.drain() { context.close(promise: nil) }
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            // Idle: no bytes either way for the idle timeout. Work in flight (a slow LOGIN) keeps it open.
            if machine.inFlight == 0 {
                statistics.recordIdleClosure()
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let framing = error as? FrameDecodingError {
            // The stream cannot be trusted any more: answer once (request id 0) and hang up.
            logger.info("closing connection: bad framing", metadata: ["reason": "\(framing)"])
            machine.closed()
            writeAndClose(.error(framing.response), requestID: WireFormat.serverRequestID, context: context)
            return
        }
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Internals

    private func completeDeferred(_ response: Response, requestID: UInt32) {
        guard let context else { return }  // the connection went away meanwhile
        guard forgetDeferred(requestID) else { return }  // already answered SHUTTING_DOWN
        write(response, requestID: requestID, context: context)
        context.flush()
        finishRequest(context: context)
    }

    private func finishRequest(context: ChannelHandlerContext) {
        if machine.requestFinished() {
            context.close(promise: nil)
            return
        }
        resumeReadingIfAllowed(context: context)
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        if readPending && machine.acceptsMoreRequests && context.channel.isWritable {
            readPending = false
            context.read()
        }
    }

    /// Removes one in-flight deferred request; false when it is not (any longer) in flight.
    private func forgetDeferred(_ requestID: UInt32) -> Bool {
        guard let count = deferredInFlight[requestID] else { return false }
        deferredInFlight[requestID] = count > 1 ? count - 1 : nil
        return true
    }

    /// The shutdown grace ran out: every request still in flight gets SHUTTING_DOWN (retryable) instead of a cut
    /// connection, then the connection closes once those answers are written.
    private func answerInFlightWithShuttingDownAndClose(context: ChannelHandlerContext) {
        guard machine.state != .closed else { return }
        let pending = deferredInFlight
        deferredInFlight = [:]
        machine.closed()
        let answer = Response.error(ServerError(.shuttingDown, "server is shutting down; retry on another server"))
        for (requestID, count) in pending {
            for _ in 0..<count { write(answer, requestID: requestID, context: context) }
        }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }

    private func writeAndClose(_ response: Response, requestID: UInt32, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        FrameEncoder.writeResponse(response, requestID: requestID, into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func write(_ response: Response, requestID: UInt32, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)  // a VALIDATE answer is ~84 bytes
        FrameEncoder.writeResponse(response, requestID: requestID, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }
}
