import NIOCore
import WXAuthBenchCore
import WXAuthRedis

/// A plain request/reply Redis connection for setup and measurement (preload, INFO, DBSIZE), not for load:
/// WXAuthRedis's `RedisConnection` with a long deadline.
struct RedisControl: Sendable {
    let connection: RedisConnection

    static func connect(host: String, port: Int, group: any EventLoopGroup) async throws -> RedisControl {
        RedisControl(connection: try await RedisConnection.connect(
            to: RedisAddress(host: host, port: port),
            configuration: .init(clientName: "wxauth-bench", commandTimeout: .seconds(120), connectTimeout: .seconds(5)),
            eventLoopGroup: group))
    }

    func command(_ arguments: String...) async throws -> RESP3Value {
        try await connection.execute(RedisCommand(arguments))
    }

    /// Every reply, in order; the first error reply is thrown.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESP3Value] {
        try await connection.pipeline(commands).map { try $0.get() }
    }

    /// `INFO section` as text.
    func info(_ section: String) async throws -> String {
        guard let text = try await command("INFO", section).string else {
            throw LoadError.setup("INFO \(section) did not answer a string")
        }
        return text
    }

    func close() async {
        await connection.close()
    }
}
