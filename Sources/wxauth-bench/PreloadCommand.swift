import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import WXAuthBenchCore
import WXAuthRedis

/// Fills Redis with session-sized values under token-shaped keys, and says what they cost it in memory.
/// (wxauthd preloads itself: `wxauthd --dev --preload-sessions N`, which prints its own memory line.)
struct PreloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preload",
        abstract: "SET N keys (the same keys `run redis://` reads) with TTL, and report RSS and used_memory growth."
    )

    @Argument(help: "redis://HOST:PORT")
    var target: String

    @Option(help: "Keys to SET.")
    var keys = 1_000_000

    @Option(help: "Value size in bytes (default: the size of a VALIDATE answer).")
    var valueSize: Int?

    @Option(help: "TTL of each key in seconds (sessions expire too); 0 for none.")
    var ttl = 1800

    @Option(help: "PID of redis-server (default: found from the port).")
    var serverPID: Int32?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let target = try BenchTarget(parsing: target)
        guard target.kind == .redis else { throw ValidationError("preload is for redis:// (wxauthd: --preload-sessions)") }
        let group = MultiThreadedEventLoopGroup.singleton
        let probe = serverPID.map { ServerProbe(pid: $0) } ?? ServerProbe.find(listeningOn: target.port)
        let control = try await RedisControl.connect(host: target.host, port: target.port, group: group)
        let valueBytes = valueSize ?? sessionValueBytes
        let value = ByteBuffer(repeating: UInt8(ascii: "v"), count: valueBytes)
        let keySet = KeySet.synthetic(count: keys)

        guard case .integer(let existing) = try await control.command("DBSIZE") else {
            throw LoadError.setup("DBSIZE did not answer an integer")
        }
        var notes: [String] = []
        if existing > 0 { notes.append("the database already held \(existing) keys") }
        let usedBefore = RedisInfo.field("used_memory", in: try await control.info("memory")).flatMap(Int.init)
        let rssBefore = probe?.residentBytes() ?? 0
        let started = ContinuousClock.now
        let ttlText = String(ttl)
        let batch = 10_000
        var index = 0
        while index < keys {
            let end = min(index + batch, keys)
            var commands: [RedisCommand] = []
            commands.reserveCapacity(end - index)
            for key in index..<end {
                var arguments = [ByteBuffer(string: "SET"), ByteBuffer(bytes: keySet[key]), value]
                if ttl > 0 { arguments += [ByteBuffer(string: "EX"), ByteBuffer(string: ttlText)] }
                commands.append(RedisCommand(arguments: arguments, keyIndices: [1]))
            }
            let replies = try await control.pipeline(commands)
            if let failure = replies.first(where: { $0.string != "OK" }) {
                throw LoadError.server("SET failed: \(failure)")
            }
            index = end
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let usedAfter = RedisInfo.field("used_memory", in: try await control.info("memory")).flatMap(Int.init)
        let rssAfter = probe?.residentBytes() ?? 0
        await control.close()
        if probe == nil { notes.append("redis-server process not found: no RSS figures (give --server-pid)") }
        let report = MemoryReport(
            kind: .redis, items: keys, seconds: seconds, rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter,
            usedMemoryBefore: usedBefore, usedMemoryAfter: usedAfter, valueBytes: valueBytes,
            notes: notes + ["SET key value\(ttl > 0 ? " EX \(ttl)" : ""), \(valueBytes)-byte values, 44-byte keys"]
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("""
                preloaded   \(Formatting.grouped(Double(keys))) keys in \(Formatting.fixed(seconds, 1)) s
                RSS         \(Formatting.bytes(rssBefore)) -> \(Formatting.bytes(rssAfter)): \(Formatting.fixed(report.rssBytesPerItem, 0)) bytes per key
                used_memory \(report.usedMemoryBytesPerItem.map { Formatting.fixed($0, 0) } ?? "?") bytes per key
                """)
            for note in notes { print("note        \(note)") }
        }
    }
}
