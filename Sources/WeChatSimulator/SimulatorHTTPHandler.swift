import NIOCore
import NIOHTTP1

/// Collects one request (body bounded), asks the router, writes the answer (after its delay) on the event loop.
///
/// Sits behind NIOHTTP1's server pipeline with pipelining assistance, so at most one request per connection is
/// in flight here, and protocol errors get a 400 from `HTTPServerProtocolErrorHandler`.
final class SimulatorHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// The body grew past the limit: drop the rest, then answer 413 and close.
        case discarding(HTTPRequestHead)
        case responding
    }

    private let router: SimulatorRouter
    private let maximumBodyBytes: Int
    private var state: State = .idle
    private var scheduledResponse: Scheduled<Void>?

    init(router: SimulatorRouter, maximumBodyBytes: Int) {
        self.router = router
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            if declared > self.maximumBodyBytes {
                self.state = .discarding(head)
            } else {
                self.state = .receiving(head, context.channel.allocator.buffer(capacity: declared))
            }
        case .body(var chunk):
            guard case .receiving(let head, var body) = self.state else { return }
            if body.readableBytes + chunk.readableBytes > self.maximumBodyBytes {
                self.state = .discarding(head)
            } else {
                self.state = .idle  // drop the reference so `body` stays uniquely owned
                body.writeBuffer(&chunk)
                self.state = .receiving(head, body)
            }
        case .end:
            switch self.state {
            case .receiving(let head, let body):
                self.state = .responding
                let request = SimulatorHTTPRequest(
                    method: head.method,
                    uri: head.uri,
                    body: Array(body.readableBytesView)
                )
                self.send(self.router.respond(to: request), version: head.version, keepAlive: head.isKeepAlive, context: context)
            case .discarding(let head):
                self.state = .responding
                let response = SimulatorHTTPResponse.error(.payloadTooLarge, "request body larger than \(self.maximumBodyBytes) bytes")
                self.send(response, version: head.version, keepAlive: false, context: context)
            case .idle, .responding:
                break
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.scheduledResponse?.cancel()
        self.scheduledResponse = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.scheduledResponse?.cancel()
        self.scheduledResponse = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(_ response: SimulatorHTTPResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        guard response.delay > .zero else {
            self.write(response, version: version, keepAlive: keepAlive, context: context)
            return
        }
        self.scheduledResponse = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(response.delay)) {
            self.scheduledResponse = nil
            self.write(response, version: version, keepAlive: keepAlive, context: context)
        }
    }

    private func write(_ response: SimulatorHTTPResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        var body = context.channel.allocator.buffer(capacity: response.body.count)
        body.writeBytes(response.body)
        self.state = .idle
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                loopBoundContext.value.close(promise: nil)
            }
        }
    }
}
