import Logging
import Metrics
import NIOConcurrencyHelpers
import WXAuthSessions

/// When journal records reach the disk.
public enum JournalFlushPolicy: String, Sendable, CaseIterable {
    /// Every mutation is written and fdatasync'ed before the request that caused it is answered; a mutation whose
    /// write fails is answered STORE_UNAVAILABLE. Nothing acknowledged is ever lost, but each LOGIN, REFRESH and
    /// REVOKE waits for the disk (0.1 to several ms; concurrent mutations share one fdatasync). The wait happens on
    /// the thread that ran the request.
    case always
    /// Mutations are buffered in memory and written and fdatasync'ed by a background thread every flush interval
    /// (1 s by default). A crash or power loss loses at most that much.
    case interval
    /// Like `interval`, but never fdatasync'ed: the kernel writes when it likes. A killed process loses at most one
    /// interval; a power loss may lose more.
    case never
}

/// The store's `SessionJournal`: encodes each change into an in-memory queue under a lock (no I/O on the caller's
/// thread unless the policy is `always`) and appends the queue to the current segment on `flush()`.
///
/// A failed write or sync never loses the queue and never leaves half a record behind: the file is truncated back
/// to the end of the last record that reached the disk, the bytes stay queued in order, and the journal refuses
/// changes (`acceptsChanges` false, so the store answers STORE_UNAVAILABLE) until a later flush, from the background
/// thread or the next `always` write, puts the whole queue on disk.
final class JournalWriter: SessionJournal {
    private struct State {
        var segment: JournalSegment?
        /// Encoded records not yet known to be on disk, oldest first.
        var queue: [UInt8] = []
        /// Where the current segment's durable part ends: the next write goes here.
        var durableLength = 0
        /// The last write's failure, while it lasts.
        var failure: IOFailure?
        var failedAttempts = 0
    }

    let policy: JournalFlushPolicy
    private let state = NIOLockedValueBox(State())
    /// Serializes writes to the file: taken before `state`, never the other way round.
    private let writeLock = NIOLockedValueBox(())
    private let faults: DiskFaultInjection?
    private let logger: Logger
    private let writableGauge = Gauge(label: "wxauth.persistence.journal_writable")
    private let failureCounter = Counter(label: "wxauth.persistence.journal_write_failures")

    init(policy: JournalFlushPolicy, faults: DiskFaultInjection? = nil, logger: Logger) {
        self.policy = policy
        self.faults = faults
        self.logger = logger
        writableGauge.record(1)
    }

    var acceptsChanges: Bool { state.withLockedValue { $0.failure == nil } }

    /// The failure that makes the journal refuse changes, if any (for readiness and logs).
    var currentFailure: IOFailure? { state.withLockedValue { $0.failure } }

    func record(_ entries: [PersistedEntry]) throws(JournalRecordFailure) {
        let failure = state.withLockedValue { state -> Refusal? in
            guard let segment = state.segment else { return nil }
            do throws(Refusal) {
                try segment.encode(entries, into: &state.queue)
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            logger.error("journal: could not encode a change; it is refused", metadata: ["error": "\(failure)"])
            throw JournalRecordFailure("encoding failed: \(failure)")
        }
        guard policy == .always else { return }
        do {
            try flush()
        } catch {
            throw JournalRecordFailure("\(error)")
        }
    }

    /// Writes the queue to the current segment (and fdatasyncs unless the policy is `never`). On failure the
    /// queue is kept, the file is cut back to its last complete record, and the journal refuses changes.
    func flush() throws(IOFailure) {
        let outcome = writeLock.withLockedValue { _ in
            Result { () throws(IOFailure) in try flushHoldingWriteLock() }
        }
        try outcome.get()
    }

    /// What the background thread runs: a flush, whose failure is logged (by `flushHoldingWriteLock`) and kept.
    func flushInBackground() {
        try? flush()
    }

    private func flushHoldingWriteLock() throws(IOFailure) {
        let (segment, data, offset) = state.withLockedValue { state -> (JournalSegment?, [UInt8], Int) in
            let data = state.queue
            state.queue = []
            return (state.segment, data, state.durableLength)
        }
        guard let segment else { return }
        guard !data.isEmpty else {
            // Nothing queued; a failure that was only a sync failure still needs a sync that works.
            guard state.withLockedValue({ $0.failure != nil }) else { return }
            do {
                if policy != .never { try FileIO.syncData(segment.fd, path: segment.path, faults: faults) }
                recovered()
            } catch {
                failed(error, segment: segment, offset: offset, unwritten: [])
                throw error
            }
            return
        }
        do {
            try FileIO.writeAll(segment.fd, data, path: segment.path, faults: faults)
            if policy != .never { try FileIO.syncData(segment.fd, path: segment.path, faults: faults) }
        } catch {
            failed(error, segment: segment, offset: offset, unwritten: data)
            throw error
        }
        state.withLockedValue { $0.durableLength = offset + data.count }
        recovered()
    }

    /// Cuts the file back to its last complete record, puts `unwritten` back at the head of the queue, and makes
    /// the journal refuse changes.
    private func failed(_ error: IOFailure, segment: JournalSegment, offset: Int, unwritten: [UInt8]) {
        var truncation: IOFailure?
        do {
            try FileIO.truncate(segment.fd, to: offset, path: segment.path)
        } catch {
            truncation = error
        }
        failureCounter.increment()
        writableGauge.record(0)
        let (attempts, firstFailure) = state.withLockedValue { state -> (Int, Bool) in
            state.queue = unwritten + state.queue
            let first = state.failure == nil
            state.failure = error
            state.failedAttempts += 1
            return (state.failedAttempts, first)
        }
        // Loud on the transition, then once a minute-ish (the background flush retries every interval).
        if firstFailure || attempts % 60 == 0 {
            var metadata: Logger.Metadata = [
                "error": "\(error)", "failed_attempts": "\(attempts)", "queued_bytes": "\(unwritten.count)",
            ]
            if let truncation { metadata["truncate_error"] = "\(truncation)" }
            logger.error(
                "journal: write failed; refusing LOGIN, REFRESH and REVOKE with STORE_UNAVAILABLE until the disk accepts writes again (queued changes are kept and retried)",
                metadata: metadata
            )
        }
    }

    private func recovered() {
        let attempts = state.withLockedValue { state -> Int in
            guard state.failure != nil else { return 0 }
            state.failure = nil
            defer { state.failedAttempts = 0 }
            return state.failedAttempts
        }
        guard attempts > 0 else { return }
        writableGauge.record(1)
        logger.notice("journal: writable again; queued changes are on disk and changes are accepted again", metadata: [
            "failed_attempts": "\(attempts)",
        ])
    }

    /// Makes `next` the segment new changes go to, once everything queued for the current one is on disk (synced);
    /// then closes the previous one. Throws, leaving the current segment in place, when the queue cannot be written:
    /// the caller must then discard `next`.
    func switchSegment(to next: JournalSegment?) throws(IOFailure) {
        let outcome = writeLock.withLockedValue { _ in
            Result { () throws(IOFailure) in
                while true {
                    let previous = state.withLockedValue { state -> JournalSegment?? in
                        guard state.queue.isEmpty, state.failure == nil else { return .none }
                        defer {
                            state.segment = next
                            state.durableLength = JournalSegment.headerAreaSize
                        }
                        return .some(state.segment)
                    }
                    guard let previous else {
                        try flushHoldingWriteLock()
                        continue
                    }
                    if let previous {
                        if policy == .never { try? FileIO.syncData(previous.fd, path: previous.path) }
                        FileIO.close(previous.fd)
                    }
                    return
                }
            }
        }
        try outcome.get()
    }

    var queuedBytes: Int { state.withLockedValue { $0.queue.count } }
}
