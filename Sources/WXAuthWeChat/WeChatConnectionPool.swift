import AsyncHTTPClient
import NIOCore
import NIOPosix

/// The HTTP connections to WeChat and the slots that keep calls from queueing inside them.
///
/// AsyncHTTPClient queues a request when every pooled connection is busy, and that wait would count against the
/// call's deadline: under a login burst our own queue would turn into WECHAT_UNAVAILABLE, codes spent at WeChat
/// without a session, and an open circuit breaker. So the pool is sized to the login burst the rate limits allow,
/// and calls beyond it wait for a slot here, before their deadline starts (`WeChatAPIClient`).
public final class WeChatConnectionPool: Sendable {
    /// The fewest and most connections a pool is sized to.
    public static let connectionRange = 16...1024

    public let httpClient: HTTPClient
    let slots: CallSlots

    /// Connections (and concurrent calls) the pool allows.
    public var connections: Int { slots.count }

    /// - Parameter connections: at least 1, at most `connectionRange.upperBound` (fewer than
    ///   `connectionRange.lowerBound` only when the open file limit leaves no more).
    public init(connections: Int, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        let count = min(max(connections, 1), Self.connectionRange.upperBound)
        self.slots = CallSlots(count: count)
        self.httpClient = HTTPClient(
            eventLoopGroupProvider: .shared(eventLoopGroup),
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: count)
            )
        )
    }

    /// The pool size for a login burst: every app's per-app burst, summed (each LOGIN is one WeChat call), within
    /// `connectionRange`.
    public static func connections(forLoginBursts bursts: [Double]) -> Int {
        let total = bursts.reduce(0) { $0 + max($1, 0).rounded(.up) }
        guard total < Double(connectionRange.upperBound) else { return connectionRange.upperBound }
        return max(Int(total), connectionRange.lowerBound)
    }

    public func shutdown() async throws {
        try await httpClient.shutdown()
    }
}
