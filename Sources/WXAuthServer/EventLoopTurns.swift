import NIOConcurrencyHelpers
import NIOCore

/// Fair turns for the connections of one event loop. NIO runs ready tasks until none is left before it polls its
/// sockets again, so a connection that re-queued its leftover frames with `execute` would keep its loop from ever
/// polling while it had work: fresh connections, and the listening socket, would wait behind a flood. A connection
/// whose budget for the turn is spent queues its continuation here instead; one round runs every queued
/// continuation, and the next round is scheduled a moment after the current one ends, so the loop polls its sockets
/// (reads, writes, accepts) between rounds.
final class EventLoopTurns {
    /// How long after a round the next one may start; long enough that the loop's task runner sees no ready task
    /// and polls its sockets first.
    static let pause: TimeAmount = .microseconds(50)

    private let eventLoop: any EventLoop
    private var waiting: [() -> Void] = []
    private var roundPending = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `continuation` in the next round (on this loop).
    func enqueue(_ continuation: @escaping () -> Void) {
        waiting.append(continuation)
        scheduleRound()
    }

    private func scheduleRound() {
        guard !roundPending, !waiting.isEmpty else { return }
        roundPending = true
        eventLoop.assumeIsolated().scheduleTask(in: Self.pause) { self.runRound() }
    }

    private func runRound() {
        let round = waiting
        waiting = []
        for continuation in round { continuation() }  // those with work left queue themselves for the next round
        roundPending = false
        scheduleRound()
    }
}

/// One `EventLoopTurns` per event loop, made on first use.
final class EventLoopTurnsRegistry: Sendable {
    private let turns = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<EventLoopTurns>]>([:])

    /// The turns of `eventLoop`; call on that loop.
    func turns(on eventLoop: any EventLoop) -> EventLoopTurns {
        turns.withLockedValue { turns in
            if let existing = turns[ObjectIdentifier(eventLoop)] { return existing.value }
            let made = EventLoopTurns(eventLoop: eventLoop)
            turns[ObjectIdentifier(eventLoop)] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
