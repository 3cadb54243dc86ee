import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WXAuthProtocol

/// A node that speaks just enough of the protocol to fail on purpose: HELLO (open), then for every request either
/// a SHUTTING_DOWN answer or a closed connection. It counts the requests it received, by opcode.
final class ScriptedNode: Sendable {
    enum Behaviour: Sendable {
        case answerShuttingDown
        case closeOnRequest
        /// A draining node still finishing work: PINGs are held and answered (server time 42) only after another
        /// request was answered SHUTTING_DOWN.
        case drainingWithAPingInFlight
    }

    static let heldPingServerTime: Int64 = 42

    let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[UInt8]>

    var requestsReceived: [Opcode] { received.withLockedValue { $0.map(Opcode.init(rawValue:)) } }

    static func start(_ behaviour: Behaviour) async throws -> ScriptedNode {
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour, received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return ScriptedNode(port: channel.localAddress!.port!, channel: channel, received: received)
    }

    private init(port: Int, channel: any Channel, received: NIOLockedValueBox<[UInt8]>) {
        self.port = port
        self.channel = channel
        self.received = received
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = Frame
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour
        let received: NIOLockedValueBox<[UInt8]>
        private let heldPings = NIOLockedValueBox<[UInt32]>([])

        init(behaviour: Behaviour, received: NIOLockedValueBox<[UInt8]>) {
            self.behaviour = behaviour
            self.received = received
        }

        func channelActive(context: ChannelHandlerContext) {
            var hello = ByteBuffer()
            let body = Hello(authenticationRequired: false, nonce: [UInt8](repeating: 0, count: 32), maxFrame: 65_536)
            FrameEncoder.writeResponse(.hello(body), requestID: 0, into: &hello)
            context.writeAndFlush(wrapOutboundOut(hello), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            received.withLockedValue { $0.append(frame.kind) }
            switch behaviour {
            case .answerShuttingDown:
                var answer = ByteBuffer()
                FrameEncoder.writeResponse(.error(ServerError(.shuttingDown, "scripted")), requestID: frame.requestID, into: &answer)
                context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
            case .closeOnRequest:
                context.close(promise: nil)
            case .drainingWithAPingInFlight:
                if frame.kind == Opcode.ping.rawValue {
                    heldPings.withLockedValue { $0.append(frame.requestID) }
                    return
                }
                var answer = ByteBuffer()
                FrameEncoder.writeResponse(.error(ServerError(.shuttingDown, "scripted")), requestID: frame.requestID, into: &answer)
                context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
                // The held PINGs are answered a little later, as a draining node finishes slower work: a client
                // that cut the connection when it left the node would never see these answers.
                let held = heldPings.withLockedValue { held in defer { held = [] }; return held }
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(300)) {
                    var pongs = ByteBuffer()
                    for id in held {
                        FrameEncoder.writeResponse(.pong(serverTime: ScriptedNode.heldPingServerTime), requestID: id, into: &pongs)
                    }
                    context.writeAndFlush(self.wrapOutboundOut(pongs), promise: nil)
                }
            }
        }
    }
}
