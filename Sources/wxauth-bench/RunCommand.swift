import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import WXAuthBenchCore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Load one target and report latency percentiles, throughput, statuses and server CPU.",
        discussion: """
            Closed loop: -c connections, each keeping -p requests in flight. Open loop: --rate requests per second \
            over all connections, latency measured from each request's intended send time (coordinated omission \
            corrected, as wrk2 does). The warm-up is excluded from every figure.
            """
    )

    @Argument(help: "wxauth://HOST:PORT, redis://HOST:PORT or echo://")
    var target: String

    @Option(name: [.customShort("c"), .long], help: "Connections.")
    var connections = 1

    @Option(name: [.customShort("p"), .long], help: "Requests in flight per connection (closed loop).")
    var pipeline = 1

    @Option(help: "Open loop: requests per second over all connections.")
    var rate: Double?

    @Option(help: "Measured seconds (after the warm-up).")
    var duration = 10.0

    @Option(help: "Measure this many replies instead of a duration.")
    var requests: UInt64?

    @Option(help: "Warm-up seconds, excluded from every figure.")
    var warmup = 2.0

    @Option(help: "validate (default for wxauth), a mix such as validate=90,refresh=5,login=5, get (Redis default), getex, echo.")
    var workload: String?

    @Option(help: "wxauth: file of tokens, one per line (wxauthd --dev --preload-sessions writes one).")
    var tokens: String?

    @Option(help: "wxauth without --tokens: log in this many simulated users first.")
    var sessions = 1000

    @Option(help: "wxauth mixes with login: codes to mint before the run (default: enough for the run, estimated).")
    var codes: Int?

    @Option(help: "The WeChat simulator's base URL (wxauthd --dev prints it in its ready line).")
    var simulator = "http://127.0.0.1:7401"

    @Option(name: .customLong("app"), help: "App id for LOGIN.")
    var appID = "wxdevapp00000001"

    @Option(help: "redis: number of preloaded keys to pick from (as given to `wxauth-bench preload`).")
    var keys = 1_000_000

    @Option(help: "redis: expected value size in bytes (default: the size of a VALIDATE answer).")
    var valueSize: Int?

    @Option(help: "redis getex: the TTL each read sets, seconds (wxauth's idle timeout).")
    var idleSeconds = 1800

    @Option(help: "redis closed loop: client (WXAuthRedis's RedisConnection, P callers awaiting execute() per connection), client-batch (one caller per connection awaiting pipeline() of P commands) or codec (WXAuthRedis's codec on the raw load connection, as open-loop runs use).")
    var redisPath = "client"

    @Option(help: "PID of the server (default: found from the listening port through /proc).")
    var serverPID: Int32?

    @Option(help: "Event-loop threads of the load generator.")
    var threads = 1

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        guard connections >= 1, pipeline >= 1, threads >= 1 else { throw ValidationError("-c, -p and --threads are at least 1") }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive, --warmup not negative") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let requests, requests == 0 { throw ValidationError("--requests must be positive") }
        guard ["client", "client-batch", "codec"].contains(redisPath) else {
            throw ValidationError("--redis-path is client, client-batch or codec")
        }
    }

    func run() async throws {
        var target = try BenchTarget(parsing: target)
        let defaultWorkload = switch target.kind {
        case .wxauth: "validate"
        case .redis: "get"
        case .echo: "echo"
        }
        let mix = try WorkloadMix(parsing: workload ?? defaultWorkload)
        try check(mix, for: target.kind)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var echo: EchoServer?
        if target.kind == .echo {
            echo = try await EchoServer.start()
            target.port = echo!.port
        }
        do {
            let result = try await measure(target: target, mix: mix, group: group)
            print(json ? try result.jsonLine() : result.humanReport)
        } catch {
            await echo?.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        await echo?.stop()
        try? await group.shutdownGracefully()
    }

    private func check(_ mix: WorkloadMix, for kind: BenchTarget.Kind) throws {
        let allowed: Set<BenchOperation> = switch kind {
        case .wxauth: [.validate, .refresh, .login]
        case .redis: [.get, .getex]
        case .echo: [.echo]
        }
        for operation in mix.operations where !allowed.contains(operation) {
            throw ValidationError("\(operation.rawValue) is not an operation of a \(kind.rawValue) target")
        }
    }

    private var plan: LoadPlan {
        LoadPlan(
            connections: connections, pipeline: rate == nil ? pipeline : 1, rate: rate,
            warmupNanos: UInt64(warmup * 1e9), durationNanos: requests == nil ? UInt64(duration * 1e9) : nil,
            count: requests, mix: try! WorkloadMix(parsing: workload ?? "validate")
        )
    }

    private func measure(target: BenchTarget, mix: WorkloadMix, group: any EventLoopGroup) async throws -> BenchResult {
        var adjusted = plan
        adjusted.mix = mix
        let plan = adjusted
        var notes: [String] = []
        var probe: ServerProbe?
        if target.kind != .echo {
            probe = serverPID.map { ServerProbe(pid: $0) } ?? ServerProbe.find(listeningOn: target.port)
            if probe == nil { notes.append("server process not found: no CPU figures (give --server-pid)") }
        }
        let runner = LoadRunner(target: target, plan: plan, group: group, probe: probe, showProgress: !quiet)
        let measurement: RunMeasurement
        var usedMemory: Int?
        switch target.kind {
        case .wxauth:
            let (tokens, codes) = try await prepareWXAuth(target: target, mix: mix, plan: plan)
            let appID = appID
            measurement = try await runner.run { index in
                let share = KeySet.share(index, of: plan.connections, count: tokens.count)
                let codeShare = KeySet.share(index, of: plan.connections, count: codes.count)
                return WXAuthDriver(
                    tokens: tokens.slice(share), codes: Array(codes[codeShare]), appID: appID,
                    seed: 0xC0FFEE &+ UInt64(index)
                )
            }
        case .redis:
            let keySet = KeySet.synthetic(count: keys)
            let valueBytes = valueSize ?? sessionValueBytes
            let idle = idleSeconds
            if plan.rate == nil && redisPath != "codec" {
                measurement = try await RedisClientLoad(
                    target: target, plan: plan, group: group, probe: probe, keys: keySet, idleSeconds: idle,
                    expectedValueBytes: valueBytes, batched: redisPath == "client-batch"
                ).run()
            } else {
                measurement = try await runner.run { index in
                    RedisDriver(keys: keySet, idleSeconds: idle, expectedValueBytes: valueBytes, seed: 0xBEEF &+ UInt64(index))
                }
            }
            if let control = try? await RedisControl.connect(host: target.host, port: target.port, group: group) {
                usedMemory = (try? await control.info("memory")).flatMap { RedisInfo.field("used_memory", in: $0) }.flatMap(Int.init)
                await control.close()
            }
        case .echo:
            measurement = try await runner.run { _ in EchoDriver() }
        }
        let outcome = measurement.outcome
        if plan.rate != nil {
            notes.append("open loop: up to \(plan.maxInFlight) requests in flight per connection; latency from the intended send time")
        }
        notes.append(contentsOf: outcome.notes)
        let server = measurement.serverCPUSeconds.map { cpu in
            ServerCost(pid: probe!.pid, cpuSeconds: cpu, operations: outcome.measured, rssBytes: probe!.residentBytes(),
                       usedMemoryBytes: usedMemory)
        }
        return BenchResult(
            target: target.kind == .echo ? "echo://" : target.description, kind: target.kind, workload: mix.description,
            connections: plan.connections, pipeline: plan.pipeline, openLoopRate: plan.rate,
            warmupSeconds: Double(plan.warmupNanos) / 1e9, measuredSeconds: measurement.measuredSeconds,
            operations: outcome.measured, latency: LatencySummary(nanoseconds: outcome.histogram),
            statuses: outcome.statuses,
            operationsByKind: Dictionary(uniqueKeysWithValues: outcome.operations.map { ($0.key.rawValue, $0.value) }),
            server: server, notes: notes, build: buildConfiguration
        )
    }

    /// Tokens to VALIDATE and REFRESH (from --tokens, or logged in now) and codes for LOGIN.
    private func prepareWXAuth(target: BenchTarget, mix: WorkloadMix, plan: LoadPlan) async throws -> (KeySet, [String]) {
        let setup = SimulatorSetup(simulatorURL: simulator, appID: appID)
        let tokenSet: KeySet
        if let tokens {
            tokenSet = try KeySet(lines: try String(contentsOfFile: tokens, encoding: .utf8))
        } else {
            if !quiet { FileHandle.standardError.write(Data("logging in \(sessions) simulated users...\n".utf8)) }
            tokenSet = try await setup.loginSessions(sessions, host: target.host, port: target.port)
        }
        guard tokenSet.count >= plan.connections else {
            throw ValidationError("need at least one token per connection (\(tokenSet.count) tokens, \(plan.connections) connections)")
        }
        var codeCount = 0
        if mix.contains(.login) {
            codeCount = codes ?? {
                let seconds = Double(plan.warmupNanos) / 1e9 + (Double(plan.durationNanos ?? 0) / 1e9)
                let expected = plan.rate.map { $0 * seconds } ?? Double(plan.count ?? 20_000)
                return Int(expected * mix.fraction(of: .login) * 1.2) + plan.connections
            }()
            if !quiet { FileHandle.standardError.write(Data("minting \(codeCount) login codes...\n".utf8)) }
            return (tokenSet, try await setup.mintCodes(codeCount, prefix: "bench-login-\(getpid())"))
        }
        return (tokenSet, [])
    }
}

extension BenchResult {
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
