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
    }

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
            }
        }
    }
}
