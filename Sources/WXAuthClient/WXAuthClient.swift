import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import WXAuthCrypto
import WXAuthProtocol

/// An async client for wxauthd. One TCP connection; any number of concurrent calls are pipelined over it and
/// matched to their responses by request id. Error answers are thrown as `ServerError` (check `isRetryable`).
/// The operations (`validate`, `login`, ...) come from `WXAuthOperations`; `WXAuthFailoverClient` offers the same
/// over several nodes.
public final class WXAuthClient: WXAuthOperations {
    /// A token with the session it names (LOGIN and REFRESH answers).
    public struct IssuedSession: Sendable, Hashable {
        public var token: String
        public var session: SessionView
    }

    private let channel: any Channel
    public let hello: Hello
    public let requestTimeout: TimeAmount

    private init(channel: any Channel, hello: Hello, requestTimeout: TimeAmount) {
        self.channel = channel
        self.hello = hello
        self.requestTimeout = requestTimeout
    }

    /// Connects, reads HELLO and, when the server asks for it, authenticates with the caller's secret (which never
    /// crosses the wire; only an HMAC over the server's nonce does).
    public static func connect(
        host: String, port: Int, callerID: String? = nil, callerSecret: String? = nil,
        requestTimeout: TimeAmount = .seconds(10), connectTimeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WXAuthClient {
        let helloBox = HelloBox()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let promise = channel.eventLoop.makePromise(of: Hello.self)
                    helloBox.future = promise.futureResult
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: 16 * 1024 * 1024))
                    )
                    try channel.pipeline.syncOperations.addHandler(ClientChannelHandler(helloPromise: promise))
                }
            }
            .connect(host: host, port: port)
            .get()
        do {
            guard let helloFuture = helloBox.future else { throw WXAuthClientError.connectionClosed }
            let hello = try await helloFuture.get()
            let client = WXAuthClient(channel: channel, hello: hello, requestTimeout: requestTimeout)
            if let callerID, let callerSecret {
                try await client.authenticate(callerID: callerID, secret: callerSecret)
            } else if hello.authenticationRequired {
                throw WXAuthClientError.authenticationRequired
            }
            return client
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Whether the connection is still open (the server may close it: idle timeout, graceful shutdown).
    public var isConnected: Bool { channel.isActive }

    /// Sends AUTH with `HMAC-SHA256(secret, "wxauth-auth-v1" || nonce)`; returns the granted permissions.
    @discardableResult
    public func authenticate(callerID: String, secret: String) async throws -> Permissions {
        let proof = try HMACKey(key: Array(secret.utf8)).authenticationCode(for: Array("wxauth-auth-v1".utf8) + hello.nonce)
        guard case .authenticated(let permissions) = try await expectOK(.auth(callerID: callerID, proof: proof)) else {
            throw unexpectedBody()
        }
        return permissions
    }

    /// Sends any request and returns the response, error answers included (for tools that show every status).
    public func send(_ request: Request) async throws -> Response {
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let pending = ClientChannelHandler.PendingRequest(request: request, promise: promise, timeout: requestTimeout)
        channel.writeAndFlush(pending, promise: nil)
        return try await promise.futureResult.get()
    }

    public func close() async throws {
        try await channel.close()
    }

    /// Retires the connection: new requests fail with `notSent`, and it closes once the requests in flight
    /// are answered or time out (a node being left still answers what it was asked).
    public func closeWhenIdle() {
        channel.pipeline.fireUserInboundEventTriggered(ClientChannelHandler.CloseWhenIdleEvent())
    }
}

/// Hands the HELLO future from the channel initializer to `connect`.
private final class HelloBox: Sendable {
    private let storage = NIOLockedValueBox<EventLoopFuture<Hello>?>(nil)

    var future: EventLoopFuture<Hello>? {
        get { storage.withLockedValue { $0 } }
        set { storage.withLockedValue { $0 = newValue } }
    }
}
