import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WXAuthServer

/// The HTTP edge on Hummingbird: routes requests to `EdgeHandler` and turns its replies into responses. Nothing
/// here decides anything; it only translates between Hummingbird's types and the edge's.
public enum HTTPEdge {
    /// The Hummingbird application serving `configuration` over `server`, as a swift-service-lifecycle `Service`
    /// to run beside the server in one `ServiceGroup`. `onListening` gets the bound address.
    public static func application(
        server: WXAuthServer, configuration: HTTPEdgeConfiguration, defaultHost: String, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) -> some Service {
        application(
            backend: EdgeBackend(server: server), configuration: configuration, defaultHost: defaultHost, logger: logger,
            onListening: onListening
        )
    }

    public static func application(
        backend: EdgeBackend, configuration: HTTPEdgeConfiguration, defaultHost: String, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) -> some Service {
        let handler = EdgeHandler(configuration: configuration, backend: backend, logger: logger)
        let maxBody = configuration.maxBodyBytes
        let router = Router(context: EdgeRequestContext.self)
        for route in HTTPEdgeConfiguration.Route.allCases where route != .auth {
            router.post(RouterPath("/v1/\(route.rawValue)")) { request, context in
                await respond(handler, route, request, context, maxBody: maxBody)
            }
        }
        // nginx's auth_request sends a GET (or the client's method with proxy_method unset); HEAD answers the same.
        router.get("/v1/auth") { request, context in await respond(handler, .auth, request, context, maxBody: 0) }
        router.head("/v1/auth") { request, context in await respond(handler, .auth, request, context, maxBody: 0) }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host ?? defaultHost, port: configuration.port ?? 0), serverName: nil
            ),
            onServerRunning: { channel in
                if let address = channel.localAddress { await onListening(address) }
            },
            logger: logger
        )
    }

    private static func respond(
        _ handler: EdgeHandler, _ route: HTTPEdgeConfiguration.Route, _ request: Request, _ context: EdgeRequestContext,
        maxBody: Int
    ) async -> Response {
        var request = request
        var body: [UInt8] = []
        if maxBody > 0 {
            do {
                let buffer = try await request.collectBody(upTo: maxBody)
                body = Array(buffer.readableBytesView)
            } catch {
                return response(EdgeReply.error(.init(.frameTooLarge, "the request body is larger than \(maxBody) bytes")))
            }
        }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let edgeRequest = EdgeRequest(headers: headers, body: body, peerAddress: context.peerAddress)
        return response(await handler.handle(route, edgeRequest))
    }

    static func response(_ reply: EdgeReply) -> Response {
        var fields = HTTPFields()
        for header in reply.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let status = HTTPResponse.Status(code: reply.status)
        guard let body = reply.body else { return Response(status: status, headers: fields) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Hummingbird's request context plus the TCP peer's address (for the per-client login limit).
public struct EdgeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peerAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
