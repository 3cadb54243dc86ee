import Histogram
import NIOCore
import Synchronization
import WXAuthBenchCore

/// What one connection measured.
struct ConnectionOutcome: Sendable {
    var histogram: Histogram<UInt64>
    var measured: UInt64 = 0
    var statuses: [String: UInt64] = [:]
    var operations: [BenchOperation: UInt64] = [:]
    var lastMeasuredCompletion: UInt64 = 0
    var notes: [String] = []
}

/// Replies seen so far by every connection, read by the progress line.
final class ProgressCounter: Sendable {
    let replies = Atomic<Int>(0)
    let measured = Atomic<Int>(0)
}

/// One load connection, driven synchronously on its event loop (no task hops on the hot path): a closed loop
/// keeps `pipeline` requests in flight and sends one per reply; an open loop sends on a timer at the intended
/// times. Writes made while handling one read burst go out in one flush.
final class LoadHandler<Driver: LoadDriver>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt32
        var operation: BenchOperation
        /// When it was sent (closed loop) or should have been sent (open loop).
        var start: UInt64
    }

    private var driver: Driver
    private let plan: LoadPlan
    private let perConnectionCount: UInt64?
    private let progress: ProgressCounter
    private let ready: EventLoopPromise<Void>
    private let done: EventLoopPromise<ConnectionOutcome>
    private var random: SplitMix64

    private var window: LoadWindow?
    private var schedule: OpenLoopSchedule?
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var inbound: ByteBuffer?
    private var outbound: ByteBuffer
    private var nextID: UInt32 = 1
    private var greetingsLeft: Int
    private var stopping = false
    private var finished = false
    private var outcome = ConnectionOutcome(histogram: .latencyNanoseconds())
    private var context: ChannelHandlerContext?
    private var readySignalled = false
    /// Open loop: a send timer is scheduled (exactly one at a time).
    private var timerArmed = false
    /// Open loop: requests were due but the in-flight cap held them back.
    private var backlogged = false

    init(
        driver: Driver, plan: LoadPlan, perConnectionCount: UInt64?, seed: UInt64, progress: ProgressCounter,
        ready: EventLoopPromise<Void>, done: EventLoopPromise<ConnectionOutcome>
    ) {
        self.driver = driver
        self.plan = plan
        self.perConnectionCount = perConnectionCount
        self.progress = progress
        self.ready = ready
        self.done = done
        self.random = SplitMix64(seed: seed)
        self.greetingsLeft = driver.greetingReplies
        self.outbound = ByteBufferAllocator().buffer(capacity: 4096)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if greetingsLeft == 0 { signalReady(nil) }
        context.fireChannelActive()
    }

    /// Starts sending (on the channel's event loop).
    func begin(window: LoadWindow, connectionIndex: Int) {
        guard let context, !finished else { return }
        self.window = window
        if let rate = plan.rate {
            let perConnection = rate / Double(plan.connections)
            schedule = OpenLoopSchedule(
                startNanos: window.start, ratePerSecond: perConnection,
                phase: Double(connectionIndex) / Double(plan.connections)
            )
            tick(context: context)
        } else {
            let now = NIODeadline.now().uptimeNanoseconds
            for _ in 0..<plan.pipeline { send(start: now) }
            flush(context: context)
        }
        if window.measureEnd == nil {
            // Count mode: a bound all the same, so a stuck server cannot hold the tool forever.
            context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(window.measureStart + 600_000_000_000)) {
                self.finish(timedOut: true)
            }
        }
        if let end = window.measureEnd {
            // Stop sending at the end of the window even if no reply ever comes, then give replies time to drain.
            context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(end)) { self.stopSending() }
            context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(end + plan.drainNanos)) {
                self.finish(timedOut: true)
            }
        }
    }

    private func send(start: UInt64) {
        let id = nextID
        nextID = nextID == UInt32.max ? 1 : nextID + 1
        let operation = driver.writeRequest(plan.mix.pick(using: &random), id: id, into: &outbound)
        pending.append(Pending(id: id, operation: operation, start: start))
    }

    private func flush(context: ChannelHandlerContext) {
        guard outbound.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        outbound = context.channel.allocator.buffer(capacity: 4096)
    }

    // MARK: Open loop

    private func tick(context: ChannelHandlerContext) {
        guard var schedule, !stopping else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        var due = schedule.dueCount(now: now)
        while due > 0 && pending.count < plan.maxInFlight {
            let intended = schedule.nextIntendedTime
            if let end = window?.measureEnd, intended >= end { stopping = true; break }
            send(start: schedule.take())
            due -= 1
        }
        self.schedule = schedule
        flush(context: context)
        guard !stopping else { return finishIfDrained() }
        backlogged = due > 0
        if !backlogged && !timerArmed {
            timerArmed = true
            let next = schedule.nextIntendedTime
            context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(max(next, now + 1))) {
                self.timerArmed = false
                self.tick(context: context)
            }
        }
        // When backlogged (the in-flight cap was hit), the next reply calls tick again.
    }

    // MARK: Replies

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if inbound == nil {
            inbound = incoming
        } else {
            inbound!.writeBuffer(&incoming)
        }
        let now = NIODeadline.now().uptimeNanoseconds
        var replies = 0
        var measuredNow = 0
        do {
            while var buffer = inbound, let reply = try driver.readReply(from: &buffer) {
                inbound = buffer
                replies += 1
                if greetingsLeft > 0 {
                    greetingsLeft -= 1
                    if greetingsLeft == 0 { signalReady(nil) }
                    continue
                }
                guard let request = takePending(reply.requestID) else {
                    throw LoadError.server("a reply answered no request in flight (id \(reply.requestID ?? 0))")
                }
                driver.complete(reply, operation: request.operation, id: request.id)
                if record(reply, request, now: now) { measuredNow += 1 }
                if schedule == nil && !stopping { send(start: now) }
            }
            if let buffer = inbound, buffer.readableBytes == 0 { inbound = nil } else { inbound?.discardReadBytes() }
        } catch {
            outcome.notes.append("connection failed: \(error)")
            finish(timedOut: false)
            context.close(promise: nil)
            return
        }
        progress.replies.add(replies, ordering: .relaxed)
        if measuredNow > 0 { progress.measured.add(measuredNow, ordering: .relaxed) }
        if backlogged && !stopping && pending.count < plan.maxInFlight { tick(context: context) }
        flush(context: context)
        finishIfDrained()
    }

    private func takePending(_ id: UInt32?) -> Pending? {
        guard let first = pending.first else { return nil }
        guard let id, id != first.id else { return pending.removeFirst() }
        // Out of order (a LOGIN waiting on WeChat lets the VALIDATEs behind it pass).
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return nil }
        return pending.remove(at: index)
    }

    /// Records a reply that belongs to the measured window. Returns whether it did.
    private func record(_ reply: ParsedReply, _ request: Pending, now: UInt64) -> Bool {
        guard let window, request.start >= window.measureStart else { return false }
        if let end = window.measureEnd {
            guard now <= end else { return false }
        } else if let target = perConnectionCount {
            guard outcome.measured < target else { stopping = true; return false }
        }
        outcome.histogram.record(now &- request.start)
        outcome.measured += 1
        outcome.statuses[reply.status, default: 0] += 1
        outcome.operations[request.operation, default: 0] += 1
        outcome.lastMeasuredCompletion = now
        if let target = perConnectionCount, outcome.measured >= target { stopping = true }
        return true
    }

    private func signalReady(_ error: (any Error)?) {
        guard !readySignalled else { return }
        readySignalled = true
        if let error { ready.fail(error) } else { ready.succeed(()) }
    }

    private func stopSending() {
        stopping = true
        finishIfDrained()
    }

    private func finishIfDrained() {
        if stopping && pending.isEmpty { finish(timedOut: false) }
    }

    private func finish(timedOut: Bool) {
        guard !finished else { return }
        finished = true
        stopping = true
        if timedOut, let window, !pending.isEmpty {
            let lost = pending.filter { $0.start >= window.measureStart }.count
            if lost > 0 {
                outcome.statuses["TIMEOUT", default: 0] += UInt64(lost)
                outcome.notes.append("\(lost) requests had no reply within the drain time")
            }
        }
        outcome.notes.append(contentsOf: driver.notes)
        signalReady(LoadError.server("the connection ended before it was ready"))
        done.succeed(outcome)
        context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            outcome.notes.append("the server closed the connection")
            finish(timedOut: true)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished { outcome.notes.append("connection error: \(error)") }
        context.close(promise: nil)
    }
}
