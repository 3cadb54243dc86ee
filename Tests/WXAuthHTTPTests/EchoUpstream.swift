import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The app behind nginx: records every request it gets (path and headers) and echoes the headers back as JSON.
final class EchoUpstream: Sendable {
    struct Seen: Sendable {
        var path: String
        var headers: [String: String]
    }

    let requests = NIOLockedValueBox<[Seen]>([])

    static func with<R>(_ body: (EchoUpstream, Int) async throws -> R) async throws -> R {
        let upstream = EchoUpstream()
        let router = Router()
        let record: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            upstream.requests.withLockedValue { $0.append(Seen(path: request.uri.path, headers: headers)) }
            let data = try JSONSerialization.data(withJSONObject: headers)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("**", use: record)
        router.post("**", use: record)
        var logger = Logger(label: "echo-upstream")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            throw EdgeTestFailure("the echo upstream did not start")
        }
        do {
            let result = try await body(upstream, port)
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }
}
