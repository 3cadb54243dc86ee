import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The simulator's open connections, so `shutdown()` can close keep-alive connections too.
final class ConnectionRegistry: Sendable {
    /// `nil` once closed: connections arriving afterwards are closed at once.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]?>([:])

    /// Tracks `channel` until it closes; closes it at once if the registry is already closed.
    func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = self.connections.withLockedValue { connections -> Bool in
            guard connections != nil else { return false }
            connections![id] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            self.connections.withLockedValue { _ = $0?.removeValue(forKey: id) }
        }
    }

    /// Stops accepting and closes every tracked connection.
    func closeAll() async {
        let open = self.connections.withLockedValue { connections -> [any Channel] in
            let open = connections.map { Array($0.values) } ?? []
            connections = nil
            return open
        }
        for channel in open {
            try? await channel.close()
        }
    }
}
