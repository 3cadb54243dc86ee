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

    /// Asks every connection to finish its in-flight requests and close; waits up to `timeout`, then closes the rest.
    func drain(timeout: TimeAmount) async {
        let open = channels.withLockedValue { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionHandler.DrainEvent())
        }
        let deadline = NIODeadline.now() + timeout
        for channel in open {
            let remaining = deadline - NIODeadline.now()
            if remaining <= .zero {
                channel.close(promise: nil)
                continue
            }
            let closed = channel.closeFuture
            let timer = channel.eventLoop.scheduleTask(in: remaining) { channel.close(promise: nil) }
            try? await closed.get()
            timer.cancel()
        }
    }
}
