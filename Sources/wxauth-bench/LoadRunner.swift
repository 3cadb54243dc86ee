import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization
import WXAuthBenchCore

/// Opens the connections, starts them together, watches the server's CPU over the measured window, and merges
/// what every connection measured into one result.
struct LoadRunner {
    var target: BenchTarget
    var plan: LoadPlan
    var group: any EventLoopGroup
    var probe: ServerProbe?
    var showProgress: Bool

    func run<Driver: LoadDriver>(makeDriver: @escaping @Sendable (Int) -> Driver) async throws -> RunMeasurement {
        let progress = ProgressCounter()
        let perConnectionCount = plan.count.map { count in
            (count + UInt64(plan.connections) - 1) / UInt64(plan.connections)
        }
        var handlers: [NIOLoopBound<LoadHandler<Driver>>] = []
        var readies: [EventLoopFuture<Void>] = []
        var dones: [EventLoopFuture<ConnectionOutcome>] = []
        var channels: [any Channel] = []
        defer { for channel in channels { channel.close(promise: nil) } }

        for index in 0..<plan.connections {
            let loop = group.next()
            let ready = loop.makePromise(of: Void.self)
            let done = loop.makePromise(of: ConnectionOutcome.self)
            let box = Mutex<NIOLoopBound<LoadHandler<Driver>>?>(nil)
            let plan = plan
            let channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = LoadHandler(
                            driver: makeDriver(index), plan: plan, perConnectionCount: perConnectionCount,
                            seed: 0x5eed_0000 &+ UInt64(index), progress: progress, ready: ready, done: done
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        box.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                    }
                }
                .connect(host: target.host, port: target.port)
                .get()
            channels.append(channel)
            guard let handler = box.withLock({ $0 }) else { throw LoadError.setup("connection \(index) has no handler") }
            handlers.append(handler)
            readies.append(ready.futureResult)
            dones.append(done.futureResult)
        }
        for ready in readies { try await ready.get() }

        let start = NIODeadline.now().uptimeNanoseconds + 5_000_000
        let measureStart = start + plan.warmupNanos
        let window = LoadWindow(
            start: start, measureStart: measureStart, measureEnd: plan.durationNanos.map { measureStart + $0 }
        )
        for (index, handler) in handlers.enumerated() {
            handler.eventLoop.execute { handler.value.begin(window: window, connectionIndex: index) }
        }

        let reporter = showProgress ? ProgressReporter(counter: progress, window: window, plan: plan) : nil
        let progressTask = reporter.map { reporter in Task { await reporter.run() } }
        defer { progressTask?.cancel() }

        // Server CPU over the measured window (sampled at its edges).
        try await sleep(until: measureStart)
        let cpuBefore = probe?.cpuSeconds()
        var cpuAfter: Double?
        if let end = window.measureEnd {
            try await sleep(until: end)
            cpuAfter = probe?.cpuSeconds()
        }
        var outcomes: [ConnectionOutcome] = []
        for done in dones { outcomes.append(try await done.get()) }
        if window.measureEnd == nil { cpuAfter = probe?.cpuSeconds() }
        progressTask?.cancel()
        reporter?.clearLine()

        var histogram = Histogram<UInt64>.latencyNanoseconds()
        var merged = ConnectionOutcome(histogram: histogram)
        for outcome in outcomes {
            histogram.add(outcome.histogram)
            merged.measured += outcome.measured
            merged.statuses.merge(outcome.statuses, uniquingKeysWith: +)
            merged.operations.merge(outcome.operations, uniquingKeysWith: +)
            merged.lastMeasuredCompletion = max(merged.lastMeasuredCompletion, outcome.lastMeasuredCompletion)
            for note in outcome.notes where !merged.notes.contains(note) { merged.notes.append(note) }
        }
        merged.histogram = histogram
        let measuredNanos = window.measureEnd.map { $0 - measureStart }
            ?? (merged.lastMeasuredCompletion > measureStart ? merged.lastMeasuredCompletion - measureStart : 0)
        var cpu: Double?
        if let cpuBefore, let cpuAfter { cpu = cpuAfter - cpuBefore }
        return RunMeasurement(outcome: merged, measuredSeconds: Double(measuredNanos) / 1e9, serverCPUSeconds: cpu)
    }

    private func sleep(until uptime: UInt64) async throws {
        let now = NIODeadline.now().uptimeNanoseconds
        if uptime > now { try await Task.sleep(nanoseconds: uptime - now) }
    }
}

struct RunMeasurement: Sendable {
    var outcome: ConnectionOutcome
    var measuredSeconds: Double
    var serverCPUSeconds: Double?
}

/// A line on stderr once a second: phase, elapsed time, replies so far and the current rate.
final class ProgressReporter: Sendable {
    let counter: ProgressCounter
    let window: LoadWindow
    let plan: LoadPlan
    let isTerminal = isatty(STDERR_FILENO) == 1

    init(counter: ProgressCounter, window: LoadWindow, plan: LoadPlan) {
        self.counter = counter
        self.window = window
        self.plan = plan
    }

    func run() async {
        var last = 0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            if Task.isCancelled { return }
            let now = NIODeadline.now().uptimeNanoseconds
            let replies = counter.replies.load(ordering: .relaxed)
            let measured = counter.measured.load(ordering: .relaxed)
            let phase = now < window.measureStart ? "warm-up " : "measuring"
            let elapsed = Double(now > window.start ? now - window.start : 0) / 1e9
            var total = ""
            if let duration = plan.durationNanos {
                total = " / " + Formatting.fixed(Double(duration + plan.warmupNanos) / 1e9, 0) + " s"
            } else if let count = plan.count {
                total = " (\(Formatting.grouped(Double(measured))) of \(Formatting.grouped(Double(count))))"
            }
            let line = "[\(Formatting.fixed(elapsed, 0)) s\(total)] \(phase)  \(Formatting.grouped(Double(replies - last))) replies/s"
            last = replies
            let text = isTerminal ? "\r\u{1B}[K" + line : line + "\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func clearLine() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
