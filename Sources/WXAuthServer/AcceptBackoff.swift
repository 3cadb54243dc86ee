import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Pauses accepting after a failed accept, so running out of file descriptors cannot spin an event loop.
///
/// A failed accept (EMFILE/ENFILE when the process or system is out of descriptors, ENOBUFS, ENOMEM) leaves the
/// connection in the listen queue, so the listening socket stays readable. NIO keeps the socket registered with
/// its read still pending when the first accept of a read cycle fails, so epoll reports it readable again at once:
/// 100% CPU, nothing logged, new clients hanging. NIO's `AcceptBackoffHandler` cannot help there (it delays the next
/// `read()`, and none is ever issued; `ServerBootstrap.bind(host:port:)` does not install it either). This handler
/// turns `autoRead` off, which takes the socket out of epoll, and back on after a pause, which registers it again;
/// each failure is counted and logged (rate-limited), with the remedy.
final class AcceptBackoff: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// How long accepting pauses after a resource error. Connections wait in the listen backlog meanwhile.
    static let pause: TimeAmount = .milliseconds(250)

    private let statistics: ServerStatistics
    private let logger: Logger
    private let logLimit = LogRateLimit(interval: .seconds(5))
    private(set) var isPaused = false

    init(statistics: ServerStatistics, logger: Logger) {
        self.statistics = statistics
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError else {
            context.fireErrorCaught(error)
            return
        }
        statistics.recordAcceptError()
        // A connection reset before we accepted it concerns that connection only: accept the next one at once.
        let resourceError = error.errnoCode != ECONNABORTED
        if let suppressed = logLimit.admit() {
            logger.error("accepting connections failed", metadata: [
                "error": "\(error)", "pause_ms": "\(resourceError ? Self.pause.nanoseconds / 1_000_000 : 0)",
                "suppressed": "\(suppressed)",
                "hint": "raise the file descriptor limit (ulimit -n) or lower max_connections",
            ])
        }
        if resourceError { pauseAccepting(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isPaused = false
        context.fireChannelInactive()
    }

    private func pauseAccepting(context: ChannelHandlerContext) {
        guard !isPaused else { return }
        isPaused = true
        context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            guard self.isPaused else { return }
            self.isPaused = false
            guard context.channel.isActive else { return }
            context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
            context.read()
        }
    }
}
