import Histogram
import NIOCore
import WXAuthBenchCore
import WXAuthRedis

/// Closed-loop GET/GETEX load through WXAuthRedis's client, as an application would use it: `connections`
/// `RedisConnection`s, each with `pipeline` callers awaiting `execute` in a loop (so P commands are in flight per
/// connection, pipelined on it). What this measures includes the client's own cost: promises, deadlines, task hops.
struct RedisClientLoad {
    var target: BenchTarget
    var plan: LoadPlan
    var group: any EventLoopGroup
    var probe: ServerProbe?
    var keys: KeySet
    var idleSeconds: Int
    var expectedValueBytes: Int
    /// One caller per connection sending `pipeline` commands with one `pipeline()` call, instead of `pipeline`
    /// callers each awaiting `execute()`.
    var batched = false

    func run() async throws -> RunMeasurement {
        var connections: [RedisConnection] = []
        for _ in 0..<plan.connections {
            connections.append(try await RedisConnection.connect(
                to: RedisAddress(host: target.host, port: target.port),
                configuration: .init(commandTimeout: .seconds(10), connectTimeout: .seconds(5)),
                eventLoopGroup: group.next()))
        }
        defer { Task { [connections] in for connection in connections { await connection.close() } } }

        let callers = plan.connections * (batched ? 1 : plan.pipeline)
        let perCaller = plan.count.map { ($0 + UInt64(callers) - 1) / UInt64(callers) }
        let start = NIODeadline.now().uptimeNanoseconds + 5_000_000
        let measureStart = start + plan.warmupNanos
        let window = LoadWindow(start: start, measureStart: measureStart, measureEnd: plan.durationNanos.map { measureStart + $0 })

        let cpu = Task { () -> Double? in
            try? await Self.sleep(until: measureStart)
            let before = probe?.cpuSeconds()
            if let end = window.measureEnd { try? await Self.sleep(until: end) }
            return before
        }
        let outcomes = await withTaskGroup(of: ConnectionOutcome.self) { group in
            for (index, connection) in connections.enumerated() {
                for callerIndex in 0..<(batched ? 1 : plan.pipeline) {
                    let seed = 0xBEEF &+ UInt64(index * plan.pipeline + callerIndex)
                    group.addTask {
                        await runCaller(connection, seed: seed, window: window, perCaller: perCaller)
                    }
                }
            }
            var all: [ConnectionOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let cpuBefore = await cpu.value
        let cpuAfter = probe?.cpuSeconds()

        var merged = ConnectionOutcome(histogram: .latencyNanoseconds())
        for outcome in outcomes {
            merged.histogram.add(outcome.histogram)
            merged.measured += outcome.measured
            merged.statuses.merge(outcome.statuses, uniquingKeysWith: +)
            merged.operations.merge(outcome.operations, uniquingKeysWith: +)
            merged.lastMeasuredCompletion = max(merged.lastMeasuredCompletion, outcome.lastMeasuredCompletion)
            for note in outcome.notes where !merged.notes.contains(note) { merged.notes.append(note) }
        }
        merged.notes.append(batched
            ? "through the WXAuthRedis client: \(plan.connections) connections, each one caller awaiting pipeline() of \(plan.pipeline) commands"
            : "through the WXAuthRedis client: \(plan.connections) connections x \(plan.pipeline) callers awaiting execute()")
        let measuredNanos = window.measureEnd.map { $0 - measureStart }
            ?? (merged.lastMeasuredCompletion > measureStart ? merged.lastMeasuredCompletion - measureStart : 0)
        var cpuSeconds: Double?
        if let cpuBefore, let cpuAfter { cpuSeconds = cpuAfter - cpuBefore }
        return RunMeasurement(outcome: merged, measuredSeconds: Double(measuredNanos) / 1e9, serverCPUSeconds: cpuSeconds)
    }

    /// One caller: a command, its reply, the next command, until the window (or its share of the count) ends.
    private func runCaller(_ connection: RedisConnection, seed: UInt64, window: LoadWindow, perCaller: UInt64?) async -> ConnectionOutcome {
        var random = SplitMix64(seed: seed)
        let mix = plan.mix
        var outcome = ConnectionOutcome(histogram: .latencyNanoseconds())
        let get = ByteBuffer(string: "GET"), getex = ByteBuffer(string: "GETEX"), ex = ByteBuffer(string: "EX")
        let ttl = ByteBuffer(string: String(idleSeconds))
        try? await Self.sleep(until: window.start)
        while true {
            let sent = NIODeadline.now().uptimeNanoseconds
            if let end = window.measureEnd, sent >= end { break }
            if let perCaller, outcome.measured >= perCaller { break }
            var commands: [RedisCommand] = []
            var operations: [BenchOperation] = []
            for _ in 0..<(batched ? plan.pipeline : 1) {
                let key = ByteBuffer(bytes: keys[random.below(keys.count)])
                let operation = mix.pick(using: &random)
                operations.append(operation)
                commands.append(operation == .getex
                    ? RedisCommand(arguments: [getex, key, ex, ttl], keyIndices: [1])
                    : RedisCommand(arguments: [get, key], keyIndices: [1]))
            }
            let results: [Result<RESP3Value, any Error>] = batched
                ? await connection.pipeline(commands)
                : [await Result(awaiting: { try await connection.execute(commands[0]) })]
            let now = NIODeadline.now().uptimeNanoseconds
            for (result, operation) in zip(results, operations) {
                let status: String
                switch result {
                case .success(.blobString(let value)):
                    status = "OK"
                    if value.readableBytes != expectedValueBytes, outcome.notes.isEmpty {
                        outcome.notes.append("values are \(value.readableBytes) bytes, expected \(expectedValueBytes): preload with the same --value-size")
                    }
                case .success(.null): status = "NIL"
                case .success: status = "UNEXPECTED"
                case .failure(let error as RedisClientError) where error.code == .deadlineExceeded: status = "TIMEOUT"
                case .failure(let error):
                    status = "ERR"
                    if outcome.notes.count < 3 { outcome.notes.append("error: \(error)") }
                }
                guard sent >= window.measureStart, window.measureEnd.map({ now <= $0 }) ?? true else { continue }
                outcome.histogram.record(now &- sent)
                outcome.measured += 1
                outcome.statuses[status, default: 0] += 1
                outcome.operations[operation, default: 0] += 1
                outcome.lastMeasuredCompletion = now
            }
        }
        return outcome
    }

    private static func sleep(until uptime: UInt64) async throws {
        let now = NIODeadline.now().uptimeNanoseconds
        if uptime > now { try await Task.sleep(nanoseconds: uptime - now) }
    }
}

extension Result where Failure == any Error {
    init(awaiting body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
