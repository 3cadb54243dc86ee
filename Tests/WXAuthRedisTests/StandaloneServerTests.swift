import RedisTestHarness
import Foundation
import NIOCore
import Testing
@testable import WXAuthRedis

/// Connection and standalone-client behaviour against a real redis-server (started once for the suite).
@Suite("Redis standalone server", .serialized, .standaloneRedis, .timeLimit(.minutes(1)))
struct StandaloneServerTests {
    var redis: StandaloneRedis { StandaloneRedis.current! }

    func connect(_ configuration: RedisConnectionConfiguration = .init()) async throws -> RedisConnection {
        try await RedisConnection.connect(to: redis.address, configuration: configuration)
    }

    @Test func everyRESP3TypeFromTheServer() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        func debug(_ type: String) async throws -> RESP3Value {
            try await connection.execute(RedisCommand(["DEBUG", "PROTOCOL", type]))
        }
        #expect(try await debug("string") == .blobString(ByteBuffer(string: "Hello World")))
        #expect(try await debug("integer") == .integer(12345))
        #expect(try await debug("double") == .double(3.141))
        #expect(try await debug("bignum") == .bigNumber("1234567999999999999999999999999999999"))
        #expect(try await debug("null") == .null)
        #expect(try await debug("true") == .boolean(true))
        #expect(try await debug("false") == .boolean(false))
        #expect(try await debug("array") == .array([.integer(0), .integer(1), .integer(2)]))
        #expect(try await debug("set") == .set([.integer(0), .integer(1), .integer(2)]))
        #expect(try await debug("map") == .map([
            .init(key: .integer(0), value: .boolean(false)), .init(key: .integer(1), value: .boolean(true)),
            .init(key: .integer(2), value: .boolean(false)),
        ]))
        #expect(try await debug("verbatim") == .verbatimString(format: "txt", text: ByteBuffer(string: "This is a verbatim\nstring")))
        let attributed = try await debug("attrib")
        guard case .attributed(let attributes, let value) = attributed else {
            Issue.record("not an attribute: \(attributed)")
            return
        }
        #expect(attributes.first?.key.string == "key-popularity")
        #expect(value.string == "Some real reply following the attribute")
        // A push goes to the push stream; the reply that follows answers the command.
        var pushes = connection.pushes.makeAsyncIterator()
        #expect(try await debug("push").string == "Some real reply following the push reply")
        let push = await pushes.next()
        #expect(push == .push([.blobString(ByteBuffer(string: "server-cpu-usage")), .integer(42)]))
        // And an error reply is a typed error, the connection still usable.
        _ = try await connection.execute(RedisCommand(["SET", "plain", "x"]))
        await #expect(throws: RedisServerError.self) { try await connection.execute(RedisCommand(["LPUSH", "plain", "y"])) }
        do {
            _ = try await connection.execute(RedisCommand(["LPUSH", "plain", "y"]))
        } catch let error as RedisServerError {
            #expect(error.code == .wrongType)
        }
        #expect(try await connection.execute(.ping).string == "PONG")
    }

    @Test func aclUserAuthenticatesAndAWrongPasswordIsTyped() async throws {
        let alice = try await connect(.init(username: "alice", password: "secret", clientName: "wxauth-test"))
        #expect(try await alice.execute(RedisCommand(["ACL", "WHOAMI"])).string == "alice")
        #expect(try await alice.execute(RedisCommand(["CLIENT", "GETNAME"])).string == "wxauth-test")
        await alice.close()
        do {
            _ = try await connect(.init(username: "alice", password: "wrong"))
            Issue.record("a wrong password was accepted")
        } catch let error as RedisServerError {
            #expect(error.code == .wrongPass)
        }
    }

    @Test func selectPicksTheDatabase() async throws {
        let database3 = try await connect(.init(database: 3))
        let database0 = try await connect()
        _ = try await database3.execute(.set("select-test", "three"))
        #expect(try await database3.execute(.get("select-test")).string == "three")
        #expect(try await database0.execute(.get("select-test")) == .null)
        await database3.close()
        await database0.close()
    }

    @Test func tenThousandPipelinedCommandsAnswerInOrder() async throws {
        let connection = try await connect()
        _ = try await connection.execute(.del("counter"))
        let results = await connection.pipeline(Array(repeating: .incr("counter"), count: 10_000))
        #expect(results.count == 10_000)
        #expect(results.enumerated().allSatisfy { index, result in (try? result.get()) == .integer(Int64(index + 1)) })
        await connection.close()
    }

    @Test func stoppedServerHitsTheDeadlineNotAHang() async throws {
        let client = RedisStandaloneClient(address: redis.address, configuration: .init(commandTimeout: .milliseconds(300)))
        _ = try await client.execute(.ping)
        redis.server.signal(SIGSTOP)
        let start = ContinuousClock.now
        do {
            _ = try await client.execute(.get("anything"))
            Issue.record("a stopped server answered")
        } catch let error as RedisClientError {
            #expect(error.code == .deadlineExceeded)
        }
        let waited = elapsed(since: start)
        redis.server.signal(SIGCONT)
        print("SIGSTOP: command failed with deadlineExceeded after \(String(format: "%.3f", waited)) s (deadline 0.300 s)")
        #expect(waited < 2)
        // After SIGCONT the same client works again.
        #expect(try await client.execute(.ping, timeout: .seconds(5)).string == "PONG")
        await client.shutdown()
    }

    @Test func clientTrackingInvalidationsArriveAsPushes() async throws {
        let tracked = try await connect()
        let writer = try await connect()
        _ = try await writer.execute(.set("tracked-key", "1"))
        _ = try await tracked.execute(RedisCommand(["CLIENT", "TRACKING", "on"]))
        _ = try await tracked.execute(.get("tracked-key"))
        _ = try await writer.execute(.set("tracked-key", "2"))
        let push = try await firstPush(on: tracked, within: .seconds(5))
        #expect(push == .push([.blobString(ByteBuffer(string: "invalidate")), .array([.blobString(ByteBuffer(string: "tracked-key"))])]))
        await tracked.close()
        await writer.close()
    }

    @Test func shutdownFailsPendingCommandsWithATypedError() async throws {
        let connection = try await connect()
        let blocked = Task { try await connection.execute(RedisCommand(["BLPOP", "never-pushed", "10"]), timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        await connection.close()
        let outcome = await blocked.result
        #expect(throws: RedisClientError(.connectionShutdown, "the connection was closed by its owner")) { try outcome.get() }
        // Commands after close fail at once with the same code.
        do {
            _ = try await connection.execute(.ping)
            Issue.record("a closed connection answered")
        } catch let error as RedisClientError {
            #expect(error.code == .connectionShutdown)
        }
    }

    @Test func lostConnectionFailsPendingAndTheClientReconnects() async throws {
        let client = RedisStandaloneClient(address: redis.address, configuration: .init(clientName: "to-be-killed"))
        #expect(try await client.execute(.ping).string == "PONG")
        let admin = try await connect()
        _ = try await admin.execute(RedisCommand(["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"]))
        // The next command finds the connection gone and transparently uses a new one.
        #expect(try await client.execute(.ping).string == "PONG")
        let names = try await admin.execute(RedisCommand(["CLIENT", "LIST"])).string ?? ""
        #expect(names.contains("name=to-be-killed"))
        await admin.close()
        await client.shutdown()
    }

    @Test func pushStreamEndsWhenTheConnectionIsLost() async throws {
        let connection = try await connect(.init(clientName: "push-victim"))
        let admin = try await connect()
        _ = try await admin.execute(RedisCommand(["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"]))
        var pushes = connection.pushes.makeAsyncIterator()
        #expect(await pushes.next() == nil)
        await admin.close()
    }

    @Test func scriptsLoadThemselvesAfterAFlush() async throws {
        let client = RedisStandaloneClient(address: redis.address)
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        _ = try await client.execute(RedisCommand(["SCRIPT", "FLUSH"]))
        _ = try await client.execute(.del("script-counter"))
        #expect(try await client.run(script, keys: ["script-counter"], arguments: ["5"]) == .integer(5))
        #expect(try await client.run(script, keys: ["script-counter"], arguments: ["2"]) == .integer(7))
        let loaded = try await client.execute(RedisCommand(["SCRIPT", "EXISTS", script.sha1]))
        #expect(loaded == .array([.integer(1)]))
        await client.shutdown()
    }
}

/// The next push on `connection`, or nil if none comes within `timeout`.
func firstPush(on connection: RedisConnection, within timeout: Duration) async throws -> RESP3Value? {
    try await withThrowingTaskGroup(of: RESP3Value?.self) { group in
        group.addTask {
            var pushes = connection.pushes.makeAsyncIterator()
            return await pushes.next()
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
