import NIOCore
import WXAuthProtocol

/// The client end of a connection: numbers outgoing requests, matches responses by request id (in any order),
/// fails what is pending when the connection ends, and times out requests that get no answer.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    struct PendingRequest {
        var request: Request
        var promise: EventLoopPromise<Response>
        var timeout: TimeAmount
    }

    private struct InFlight {
        var opcode: Opcode
        var promise: EventLoopPromise<Response>
        var timer: Scheduled<Void>?
    }

    private var nextRequestID: UInt32 = 1
    private var inFlight: [UInt32: InFlight] = [:]
    private let helloPromise: EventLoopPromise<Hello>
    private var helloReceived = false
    private var closed = false
    /// Retired: no new requests; close once nothing is in flight.
    private var closeWhenIdle = false

    /// Sent through the pipeline to retire the connection (`WXAuthClient.closeWhenIdle`).
    struct CloseWhenIdleEvent: Sendable {}

    init(helloPromise: EventLoopPromise<Hello>) {
        self.helloPromise = helloPromise
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A connection that never became active (refused, reset) must not leak the HELLO promise.
        if !helloReceived {
            helloReceived = true
            helloPromise.fail(WXAuthClientError.connectionClosed)
        }
        failAll(with: WXAuthClientError.connectionClosed)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is CloseWhenIdleEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        closeWhenIdle = true
        closeIfRetiredAndIdle(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let pending = unwrapOutboundIn(data)
        guard !closed && !closeWhenIdle else {
            pending.promise.fail(WXAuthClientError.notSent)
            promise?.fail(WXAuthClientError.notSent)
            return
        }
        let requestID = allocateRequestID()
        var buffer = context.channel.allocator.buffer(capacity: 64)
        FrameEncoder.writeRequest(pending.request, requestID: requestID, into: &buffer)
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: pending.timeout) {
            self.fail(requestID: requestID, with: WXAuthClientError.timedOut)
            self.closeIfRetiredAndIdle(context: context)
        }
        inFlight[requestID] = InFlight(opcode: pending.request.opcode, promise: pending.promise, timer: timer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !helloReceived {
            helloReceived = true
            do {
                guard case .hello(let hello) = try frame.decodeResponse(to: .hello) else {
                    throw WXAuthClientError.protocolViolation("first frame was not HELLO")
                }
                helloPromise.succeed(hello)
            } catch {
                helloPromise.fail(error)
                context.close(promise: nil)
            }
            return
        }
        guard let entry = inFlight.removeValue(forKey: frame.requestID) else {
            // Request id 0: the server is reporting a connection-level error and will close.
            if frame.requestID == WireFormat.serverRequestID,
               case .error(let error)? = try? frame.decodeResponse(to: .ping) {
                failAll(with: error)
            }
            return
        }
        entry.timer?.cancel()
        do {
            let response = try frame.decodeResponse(to: entry.opcode)
            entry.promise.succeed(response)
        } catch {
            entry.promise.fail(WXAuthClientError.protocolViolation("\(error)"))
        }
        closeIfRetiredAndIdle(context: context)
    }

    private func closeIfRetiredAndIdle(context: ChannelHandlerContext) {
        if closeWhenIdle && inFlight.isEmpty && !closed { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failAll(with: WXAuthClientError.connectionClosed)
        if !helloReceived {
            helloReceived = true
            helloPromise.fail(WXAuthClientError.connectionClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(with: WXAuthClientError.protocolViolation("\(error)"))
        context.close(promise: nil)
    }

    private func allocateRequestID() -> UInt32 {
        repeat {
            nextRequestID &+= 1
        } while nextRequestID == WireFormat.serverRequestID || inFlight[nextRequestID] != nil
        return nextRequestID
    }

    private func fail(requestID: UInt32, with error: any Error) {
        inFlight.removeValue(forKey: requestID)?.promise.fail(error)
    }

    private func failAll(with error: any Error) {
        let pending = inFlight
        inFlight.removeAll()
        for entry in pending.values {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }
}
