import Logging
import NIOCore

/// Closes a connection whose started frame is not complete within the deadline, so a client sending one byte every
/// few seconds cannot hold a half frame (and its buffer) open forever. It sits before the frame decoder and follows
/// frame boundaries from the length prefixes alone; it never copies or holds bytes.
final class FrameDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let deadline: TimeAmount
    private let onExpiry: @Sendable () -> Void
    private var prefixBytesSeen = 0
    private var prefix: UInt32 = 0
    private var bodyBytesLeft = 0
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount, onExpiry: @escaping @Sendable () -> Void = {}) {
        self.deadline = deadline
        self.onExpiry = onExpiry
    }

    /// Whether part of a frame has arrived but not all of it.
    var isInsideFrame: Bool { prefixBytesSeen > 0 || bodyBytesLeft > 0 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        var completedFrame = false
        while bytes.readableBytes > 0 {
            if bodyBytesLeft > 0 {
                let step = min(bodyBytesLeft, bytes.readableBytes)
                bytes.moveReaderIndex(forwardBy: step)
                bodyBytesLeft -= step
                if bodyBytesLeft == 0 { completedFrame = true }
            } else {
                prefix = prefix << 8 | UInt32(bytes.readInteger(as: UInt8.self)!)
                prefixBytesSeen += 1
                if prefixBytesSeen == WireFormatPrefix.size {
                    bodyBytesLeft = Int(prefix)
                    prefixBytesSeen = 0
                    prefix = 0
                    if bodyBytesLeft == 0 { completedFrame = true }
                }
            }
        }
        if !isInsideFrame {
            timer?.cancel()
            timer = nil
        } else if timer == nil || completedFrame {
            timer?.cancel()
            let onExpiry = onExpiry
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: deadline) {
                onExpiry()
                context.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

private enum WireFormatPrefix {
    static let size = 4
}
