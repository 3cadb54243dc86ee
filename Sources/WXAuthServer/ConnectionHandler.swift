import Logging
import NIOCore
import WXAuthProtocol

/// Runs one connection on its event loop: HELLO, then frames in and responses out. Synchronous operations are
/// answered in the same pass, encoded into the connection's one outbound buffer and written with one flush per read
/// batch; LOGIN completes later and is written whenever it is ready, so responses may leave out of order.
///
/// The handler frames the byte stream itself (with `FrameDecoder`, the one frame parser) and takes a frame only
/// while the connection may take more work: under the in-flight cap, writable, and within this event-loop turn's
/// budget of frames. Everything else waits undecoded in `inbound`, and the socket is not read meanwhile, so one
/// connection can hold at most one read burst of unread bytes and can neither grow server memory nor starve the
/// other connections on its event loop. The frame deadline (slowloris) lives beside the decoder's bytes
/// (`InboundFrames`): it runs only while a partial frame waits for the client's bytes and we are reading, pauses
/// while we are the ones not reading, and is served by one timer armed at most once per frame.
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
        /// A connection with nothing in flight and no bytes either way for this long is closed. nil: never.
        var idleTimeout: TimeAmount? = nil
        /// Frames taken per event-loop turn before yielding to the other connections on the loop.
        var framesPerTurn: Int = ConnectionHandler.defaultFramesPerTurn
    }

    static let defaultFramesPerTurn = 64

    private let processor: RequestProcessor
    private let authentication: AuthenticationGuard
    private let statistics: ServerStatistics
    /// This event loop's counters (no process-wide atomic per request).
    private let counters: EventLoopCounters
    private let turns: EventLoopTurns
    private let limits: Limits
    private let logger: Logger
    private var machine: ConnectionStateMachine
    /// Bytes read but not yet taken as frames, and the frame deadline beside them.
    private var inbound: InboundFrames
    /// Responses of the current batch, written to the channel with one flush; reused from batch to batch (once the
    /// socket took its bytes the storage is ours alone again, and `clear()` keeps it).
    private var outbound = ByteBuffer()
    /// Requests taken since the last flush, reported to swift-metrics with it.
    private var requestsThisBatch = 0
    private var framesLeftThisTurn: Int
    private var nextTurnScheduled = false
    private var readPending = false
    /// The frame deadline's one timer (see `InboundFrames`).
    private var frameDeadlineTimer: Scheduled<Void>?
    private var authenticationDeadline: Scheduled<Void>?
    /// The idle timer: one timer, armed for `lastActivity + idleTimeout` and moved on only when it fires (no
    /// per-read reschedule and no per-write promise, as NIO's IdleStateHandler would make).
    private var idleTimer: Scheduled<Void>?
    /// When bytes last went either way (read, or answers handed to the channel).
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var peerAddress = "unknown"
    private var context: ChannelHandlerContext?
    /// Request ids of deferred work not yet answered (a client may reuse an id, hence a count).
    private var deferredInFlight: [UInt32: Int] = [:]

    init(
        processor: RequestProcessor, authentication: AuthenticationGuard, statistics: ServerStatistics,
        counters: EventLoopCounters, turns: EventLoopTurns, nonce: [UInt8], limits: Limits, logger: Logger
    ) {
        self.processor = processor
        self.authentication = authentication
        self.statistics = statistics
        self.counters = counters
        self.turns = turns
        self.inbound = InboundFrames(maxFrameSize: limits.maxFrameSize, frameDeadline: limits.frameDeadline)
        self.limits = limits
        self.logger = logger
        self.framesLeftThisTurn = limits.framesPerTurn
        self.machine = ConnectionStateMachine(
            authenticationRequired: !authentication.callers.isOpen, nonce: nonce, maxInFlight: limits.maxInFlight
        )
    }

    /// Capacity of the outbound buffer; one that grew past `outboundKeptCapacity` (large DECRYPT answers) is
    /// given back after its flush.
    static let outboundCapacity = 1024
    static let outboundKeptCapacity = 64 * 1024

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: Self.outboundCapacity)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        outbound = ByteBuffer()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        peerAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let hello = Hello(
            authenticationRequired: machine.isAwaitingAuthentication, nonce: machine.nonce,
            maxFrame: UInt32(limits.maxFrameSize)
        )
        write(.hello(hello), requestID: WireFormat.serverRequestID)
        flushBatch(context: context)
        if let idleTimeout = limits.idleTimeout {
            lastActivity = context.eventLoop.now
            armIdleTimer(at: lastActivity + idleTimeout, context: context)
        }
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
        if limits.idleTimeout != nil { lastActivity = context.eventLoop.now }
        inbound.append(&bytes)
        takeBufferedFrames(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !nextTurnScheduled { framesLeftThisTurn = limits.framesPerTurn }
        flushBatch(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        takeBufferedFrames(context: context)
        flushBatch(context: context)
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
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Bytes read and not yet taken as frames (tests).
    var bufferedBytes: Int { inbound.bufferedBytes }

    // MARK: - Taking frames

    /// Whether the connection may take another frame (and read more bytes).
    private func mayTakeWork(_ context: ChannelHandlerContext) -> Bool {
        machine.acceptsMoreRequests && !nextTurnScheduled && context.channel.isWritable
    }

    /// Takes buffered frames while the connection may take more work; what is left waits, undecoded.
    private func takeBufferedFrames(context: ChannelHandlerContext) {
        while mayTakeWork(context) {
            guard framesLeftThisTurn > 0 else {
                if inbound.bufferedBytes > 0 { scheduleNextTurn(context: context) }
                break
            }
            let frame: Frame?
            do {
                frame = try inbound.next()
            } catch {
                closeForBadFraming(error, context: context)
                return
            }
            guard let frame else { break }
            framesLeftThisTurn -= 1
            handle(frame, context: context)
        }
        guard machine.state != .closed else { return }
        let action = inbound.framesTaken(reading: mayTakeWork(context), now: { context.eventLoop.now })
        if case .arm(let deadline) = action { armFrameDeadlineTimer(at: deadline, context: context) }
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
        flushBatch(context: context)
        resumeReadingIfAllowed(context: context)
    }

    private func armFrameDeadlineTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        frameDeadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.frameDeadlineTimerFired()
        }
    }

    private func frameDeadlineTimerFired() {
        frameDeadlineTimer = nil
        guard let context, machine.state != .closed else { return }
        switch inbound.deadlineTimerFired(now: context.eventLoop.now) {
        case .lapse:
            return
        case .rearm(let deadline):
            armFrameDeadlineTimer(at: deadline, context: context)
            return
        case .close:
            break
        }
        statistics.recordFrameDeadlineClosure()
        logger.debug("closing connection: frame not complete within the deadline")
        machine.closed()
        context.close(promise: nil)
    }

    private func armIdleTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.idleTimerFired() }
    }

    /// Idle: no bytes either way for the idle timeout. Work in flight (a slow LOGIN) keeps it open.
    private func idleTimerFired() {
        idleTimer = nil
        guard let context, machine.state != .closed, let idleTimeout = limits.idleTimeout else { return }
        let now = context.eventLoop.now
        guard now >= lastActivity + idleTimeout else {
            armIdleTimer(at: lastActivity + idleTimeout, context: context)
            return
        }
        guard machine.inFlight == 0 else {
            armIdleTimer(at: now + idleTimeout, context: context)
            return
        }
        statistics.recordIdleClosure()
        context.close(promise: nil)
    }

    private func authenticationDeadlinePassed() {
        authenticationDeadline = nil
        guard let context, machine.authenticationDeadlinePassed() else { return }
        statistics.recordAuthenticationTimeout()
        logger.debug("closing connection: not authenticated within the deadline")
        context.close(promise: nil)
    }

    /// Drops everything a closed connection held (buffered bytes, timers); in-flight work finishes on its own and
    /// finds the connection gone. Answers already in the outbound buffer still go out with the next flush.
    private func release() {
        inbound.release()
        readPending = false
        frameDeadlineTimer?.cancel()
        frameDeadlineTimer = nil
        authenticationDeadline?.cancel()
        authenticationDeadline = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    // MARK: - Requests

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        counters.recordRequests(1)
        requestsThisBatch += 1
        let decoded = Result { () throws(RequestDecodingError) in try frame.decodeRequestMessage() }
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
            write(response, requestID: frame.requestID)
        case .respondAndClose(let response):
            writeAndClose(response, requestID: frame.requestID, context: context)
        case .process(let message):
            switch processor.process(message, requestID: frame.requestID, into: &outbound) {
            case .answered:
                if machine.requestFinished() {
                    flushBatch(context: context)
                    context.close(promise: nil)
                }
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
        write(response, requestID: requestID)
        if machine.requestFinished() {
            flushBatch(context: context)
            context.close(promise: nil)
            return
        }
        // A slot freed: frames waiting behind the in-flight cap may go now.
        takeBufferedFrames(context: context)
        flushBatch(context: context)
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
            for _ in 0..<count { write(answer, requestID: requestID) }
        }
        flushAndClose(context: context)
    }

    /// Answers, then closes once everything in the outbound buffer (this answer last) is written.
    private func writeAndClose(_ response: Response, requestID: UInt32, context: ChannelHandlerContext) {
        write(response, requestID: requestID)
        flushAndClose(context: context)
    }

    private func write(_ response: Response, requestID: UInt32) {
        FrameEncoder.writeResponse(response, requestID: requestID, into: &outbound)
    }

    /// Ends a batch: the outbound buffer goes to the channel with one flush, and the batch's requests to
    /// swift-metrics with one increment.
    private func flushBatch(context: ChannelHandlerContext) {
        reportBatch()
        guard outbound.readableBytes > 0 else { return }
        sendOutbound(context: context, promise: nil)
    }

    private func flushAndClose(context: ChannelHandlerContext) {
        reportBatch()
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        sendOutbound(context: context, promise: written)
    }

    /// Writes and flushes what the outbound buffer holds. The bytes are taken out of the buffer before the write:
    /// a flush can re-enter this handler (writability changes) and must not send them twice.
    private func sendOutbound(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        do {
            let batch = outbound.readSlice(length: outbound.readableBytes)!
            context.write(wrapOutboundOut(batch), promise: promise)
        }
        if limits.idleTimeout != nil { lastActivity = context.eventLoop.now }
        context.flush()
        if outbound.readableBytes == 0 { recycleOutbound() }
    }

    private func reportBatch() {
        guard requestsThisBatch > 0 else { return }
        statistics.reportRequestBatch(requestsThisBatch)
        requestsThisBatch = 0
    }

    /// Ready for the next batch: the same storage when the socket took the bytes (the common case: `clear()` then
    /// allocates nothing), a fresh one when the channel still holds them or the buffer grew large.
    private func recycleOutbound() {
        if outbound.capacity > Self.outboundKeptCapacity, let context {
            outbound = context.channel.allocator.buffer(capacity: Self.outboundCapacity)
        } else {
            outbound.clear()
        }
    }
}
