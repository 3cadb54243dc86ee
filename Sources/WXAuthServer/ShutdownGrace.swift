import WXAuthWeChat

/// How long graceful shutdown waits for requests in flight. The drain must outlast the longest deadline it lets
/// run, or it would cut requests that were going to be answered: a LOGIN waits at most the WeChat call deadline
/// (`UpstreamPolicy.callTimeout`, retries and any wait for a connection included), so the effective grace is at
/// least that plus a margin for the answer to be written. Whatever is still in flight when the grace runs out is
/// answered SHUTTING_DOWN before its connection closes.
public struct ShutdownGrace: Sendable, Hashable {
    /// Added to the longest request deadline: time to write the answer that came just in time.
    public static let margin: Duration = .seconds(1)

    /// `shutdownGraceMilliseconds` as configured.
    public let configured: Duration
    /// The longest a request the drain lets run may take before it is answered.
    public let longestRequest: Duration

    public init(configured: Duration, longestRequest: Duration) {
        self.configured = configured
        self.longestRequest = longestRequest
    }

    public init(_ configuration: ServerConfiguration) {
        self.init(
            configured: .milliseconds(configuration.shutdownGraceMilliseconds),
            longestRequest: configuration.upstream.callTimeout
        )
    }

    /// The grace the drain uses: the configured one, extended to `longestRequest + margin` when that is longer.
    public var effective: Duration { max(configured, longestRequest + Self.margin) }

    /// Whether the configured grace was too short and had to be extended (the server logs it).
    public var isExtended: Bool { effective > configured }
}
