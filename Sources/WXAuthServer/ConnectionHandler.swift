import Logging
import NIOCore
import WXAuthProtocol

/// Runs one connection on its event loop: HELLO, then frames in and responses out. Synchronous operations are
/// answered in the same pass (flushed once per read burst); LOGIN completes later and is written whenever it is
/// ready, so responses may leave out of order.
///
/// The handler frames the byte stream itself (with `FrameDecoder`, the one frame parser) and takes a frame only
/// while the connection may take more work: under the in-flight cap, writable, and within this event-loop turn's
/// budget of frames. Everything else waits undecoded in `inbound`, and the socket is not read meanwhile, so one
/// connection can hold at most one read burst of unread bytes and can neither grow server memory nor starve the
/// other connections on its event loop. The frame deadline (slowloris) runs only while a partial frame waits for the
/// client's bytes and we are reading; it pauses while we are the ones not reading.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline to begin a graceful close.
    struct DrainEvent: Sendable {}
    /// Sent when the shutdown grace ran out: answer what is still in flight with SHUTTING_DOWN, then close.
    struct DrainDeadlineEvent: Sendable {}

    struct Limits: Sendable {
        var maxFrameSize: Int
        var maxInFlight: Int
        /// A frame whose first byte arrived must be complete within this long (counted while we read).
        var frameDeadline: TimeAmount
        /// A connection that must authenticate and has not within this long is closed. nil: no deadline.
        var authenticationDeadline: TimeAmount?
        /// Frames taken per event-loop turn before yielding to the other connections on the loop.
        var framesPerTurn: Int = ConnectionHandler.defaultFramesPerTurn
    }

    static let defaultFramesPerTurn = 64

    private let processor: RequestProcessor
    private let authentication: AuthenticationGuard
    private let statistics: ServerStatistics
    private let turns: EventLoopTurns
    private let limits: Limits
    private let logger: Logger
    private var machine: ConnectionStateMachine
    /// Bytes read but not yet taken as frames: at most a partial frame while we read, one read burst otherwise.
    private var inbound = ByteBuffer()
    private var framesLeftThisTurn: Int
    private var nextTurnScheduled = false
    private var readPending = false
    private var frameDeadline: Scheduled<Void>?
    private var authenticationDeadline: Scheduled<Void>?
    private var peerAddress = "unknown"
    private var context: ChannelHandlerContext?
    /// Request ids of deferred work not yet answered (a client may reuse an id, hence a count).
    private var deferredInFlight: [UInt32: Int] = [:]

    init(
        processor: RequestProcessor, authentication: AuthenticationGuard, statistics: ServerStatistics,
        turns: EventLoopTurns, nonce: [UInt8], limits: Limits, logger: Logger
    ) {
        self.processor = processor
        self.authentication = authentication
        self.statistics = statistics
        self.turns = turns
        self.limits = limits
        self.logger = logger
        self.framesLeftThisTurn = limits.framesPerTurn
        self.machine = ConnectionStateMachine(
            authenticationRequired: !authentication.callers.isOpen, nonce: nonce, maxInFlight: limits.maxInFlight
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        peerAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let hello = Hello(
            authenticationRequired: machine.isAwaitingAuthentication, nonce: machine.nonce,
            maxFrame: UInt32(limits.maxFrameSize)
        )
        write(.hello(hello), requestID: WireFormat.serverRequestID, context: context)
        context.flush()
        if machine.isAwaitingAuthentication, let deadline = limits.authenticationDeadline {
            authenticationDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: deadline) {
                self.authenticationDeadlinePassed()
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.closed()
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard machine.state != .closed else { return }
        if inbound.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound.writeBuffer(&bytes)
        }
        takeBufferedFrames(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !nextTurnScheduled { framesLeftThisTurn = limits.framesPerTurn }
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        takeBufferedFrames(context: context)
        context.flush()
        resumeReadingIfAllowed(context: context)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if mayTakeWork(context) {
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
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Bytes read and not yet taken as frames (tests).
    var bufferedBytes: Int { inbound.readableBytes }

    // MARK: - Taking frames

    /// Whether the connection may take another frame (and read more bytes).
    private func mayTakeWork(_ context: ChannelHandlerContext) -> Bool {
        machine.acceptsMoreRequests && !nextTurnScheduled && context.channel.isWritable
    }

    /// Takes buffered frames while the connection may take more work; what is left waits, undecoded.
    private func takeBufferedFrames(context: ChannelHandlerContext) {
        var frameCompleted = false
        while mayTakeWork(context) {
            guard framesLeftThisTurn > 0 else {
                if inbound.readableBytes > 0 { scheduleNextTurn(context: context) }
                break
            }
            let frame: Frame?
            do {
                frame = try FrameDecoder.decodeFrame(from: &inbound, maxFrameSize: limits.maxFrameSize)
            } catch {
                closeForBadFraming(error, context: context)
                return
            }
            guard let frame else { break }
            framesLeftThisTurn -= 1
            frameCompleted = true
            handle(frame, context: context)
        }
        compactInbound()
        updateFrameDeadline(frameCompleted: frameCompleted, context: context)
    }

    /// The budget of this turn is spent: continue in the loop's next round, after it has polled its sockets.
    private func scheduleNextTurn(context: ChannelHandlerContext) {
        guard !nextTurnScheduled else { return }
        nextTurnScheduled = true
        turns.enqueue { self.nextTurn() }
    }

    private func nextTurn() {
        nextTurnScheduled = false
        framesLeftThisTurn = limits.framesPerTurn
        guard let context, machine.state != .closed else { return }
        takeBufferedFrames(context: context)
        context.flush()
        resumeReadingIfAllowed(context: context)
    }

    private func compactInbound() {
        if inbound.readableBytes == 0 {
            if inbound.capacity > 0 { inbound = ByteBuffer() }
        } else if inbound.readerIndex >= 16_384 {
            inbound.discardReadBytes()
        }
    }

    /// The deadline runs while a partial frame waits for the client and we read; restarted whenever a frame
    /// completes, paused (cancelled) while we withhold reads, started afresh when we read again.
    private func updateFrameDeadline(frameCompleted: Bool, context: ChannelHandlerContext) {
        guard inbound.readableBytes > 0 && mayTakeWork(context) else {
            cancelFrameDeadline()
            return
        }
        guard frameDeadline == nil || frameCompleted else { return }
        frameDeadline?.cancel()
        frameDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: limits.frameDeadline) {
            self.frameDeadlinePassed()
        }
    }

    private func frameDeadlinePassed() {
        frameDeadline = nil
        guard let context, machine.state != .closed else { return }
        statistics.recordFrameDeadlineClosure()
        logger.debug("closing connection: frame not complete within the deadline")
        machine.closed()
        context.close(promise: nil)
    }

    private func authenticationDeadlinePassed() {
        authenticationDeadline = nil
        guard let context, machine.authenticationDeadlinePassed() else { return }
        statistics.recordAuthenticationTimeout()
        logger.debug("closing connection: not authenticated within the deadline")
        context.close(promise: nil)
    }

    private func cancelFrameDeadline() {
        frameDeadline?.cancel()
        frameDeadline = nil
    }

    /// Drops everything a closed connection held (buffered bytes, timers); in-flight work finishes on its own and
    /// finds the connection gone.
    private func release() {
        inbound = ByteBuffer()
        readPending = false
        cancelFrameDeadline()
        authenticationDeadline?.cancel()
        authenticationDeadline = nil
    }

    // MARK: - Requests

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        statistics.recordRequest()
        let decoded = Result { () throws(RequestDecodingError) in try frame.decodeRequest() }
        var action = machine.requestReceived(decoded)
        if case .authenticate(let callerID, let proof) = action {
            let permissions = authentication.authenticate(
                callerID: callerID, proof: proof, nonce: machine.nonce, address: peerAddress
            )
            action = machine.authenticationChecked(permissions)
            if !machine.isAwaitingAuthentication {
                authenticationDeadline?.cancel()
                authenticationDeadline = nil
            }
        }
        switch action {
        case .ignore, .authenticate:
            break
        case .respond(let response):
            write(response, requestID: frame.requestID, context: context)
        case .respondAndClose(let response):
            writeAndClose(response, requestID: frame.requestID, context: context)
        case .process(let request):
            switch processor.process(request) {
            case .immediate(let response):
                write(response, requestID: frame.requestID, context: context)
                if machine.requestFinished() { context.close(promise: nil) }
            case .deferred(let work):
                let requestID = frame.requestID
                deferredInFlight[requestID, default: 0] += 1
                // Holds the handler until the work ends (bounded by the WeChat deadline), not beyond.
                context.eventLoop.makeFutureWithTask { await work() }.assumeIsolated().whenSuccess { response in
                    self.completeDeferred(response, requestID: requestID)
                }
            }
        }
    }

    private func completeDeferred(_ response: Response, requestID: UInt32) {
        guard let context else { return }  // the connection went away meanwhile
        guard forgetDeferred(requestID) else { return }  // already answered SHUTTING_DOWN
        write(response, requestID: requestID, context: context)
        if machine.requestFinished() {
            context.flush()
            context.close(promise: nil)
            return
        }
        // A slot freed: frames waiting behind the in-flight cap may go now.
        takeBufferedFrames(context: context)
        context.flush()
        resumeReadingIfAllowed(context: context)
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        if readPending && mayTakeWork(context) {
            readPending = false
            context.read()
        }
    }

    private func closeForBadFraming(_ error: FrameDecodingError, context: ChannelHandlerContext) {
        // The stream cannot be trusted any more: answer once (request id 0) and hang up.
        logger.info("closing connection: bad framing", metadata: ["reason": "\(error)"])
        machine.closed()
        release()
        writeAndClose(.error(error.response), requestID: WireFormat.serverRequestID, context: context)
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
