import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The open connections, so that graceful shutdown can drain them and the connection cap can be enforced.
final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    /// Registers `channel` unless `limit` connections are already open.
    func admit(_ channel: any Channel, limit: Int) -> Bool {
        let admitted = channels.withLockedValue { channels -> Bool in
            guard channels.count < limit else { return false }
            channels[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in
                self?.channels.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }

    var count: Int { channels.withLockedValue { $0.count } }

    /// Asks every connection to finish its in-flight requests and close; waits up to `timeout`, then cuts the
    /// rest short: what they still have in flight is answered SHUTTING_DOWN, then they close.
    func drain(timeout: TimeAmount) async {
        let open = channels.withLockedValue { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionHandler.DrainEvent())
        }
        let deadline = NIODeadline.now() + timeout
        for channel in open {
            let remaining = max(deadline - NIODeadline.now(), .zero)
            let timer = channel.eventLoop.scheduleTask(in: remaining) { Self.cutShort(channel) }
            try? await channel.closeFuture.get()
            timer.cancel()
        }
    }

    /// How long a connection cut short has to write its SHUTTING_DOWN answers before it is closed regardless.
    static let cutShortWriteAllowance: TimeAmount = .milliseconds(500)

    /// The grace ran out: the connection handler answers every request still in flight with SHUTTING_DOWN and
    /// closes; a connection without one (or that cannot write) is closed after `cutShortWriteAllowance`.
    private static func cutShort(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(ConnectionHandler.DrainDeadlineEvent())
        channel.eventLoop.scheduleTask(in: cutShortWriteAllowance) { channel.close(promise: nil) }
    }
}
