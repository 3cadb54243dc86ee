import NIOConcurrencyHelpers
import Logging
import Synchronization
import WXAuthSessions

/// When journal records reach the disk.
public enum JournalFlushPolicy: String, Sendable, CaseIterable {
    /// Every mutation is written and fdatasync'ed before the request that caused it is answered. Nothing
    /// acknowledged is ever lost, but each LOGIN, REFRESH and REVOKE waits for the disk (0.1 to several ms;
    /// concurrent mutations share one fdatasync). The wait happens on the thread that ran the request.
    case always
    /// Mutations are buffered in memory and written and fdatasync'ed by a background thread every flush interval
    /// (1 s by default). A crash or power loss loses at most that much.
    case interval
    /// Like `interval`, but never fdatasync'ed: the kernel writes when it likes. A killed process loses at most one
    /// interval; a power loss may lose more.
    case never
}

/// The store's `SessionJournal`: encodes each change into an in-memory buffer under a lock (no I/O on the caller's
/// thread unless the policy is `always`) and writes the buffer out on `flush()`.
final class JournalWriter: SessionJournal {
    private struct State {
        var segment: JournalSegment?
        var pending: [UInt8] = []
        var failures = 0
    }

    let policy: JournalFlushPolicy
    private let state = NIOLockedValueBox(State())
    /// Serializes writes to the file: taken before `state`, never the other way round.
    private let writeLock = NIOLockedValueBox(())
    private let logger: Logger

    init(policy: JournalFlushPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    func record(_ entries: [PersistedEntry]) {
        let failure = state.withLockedValue { state -> Refusal? in
            guard let segment = state.segment else { return nil }
            do throws(Refusal) {
                try segment.encode(entries, into: &state.pending)
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            logger.error("journal: could not encode a change; it will not survive a restart", metadata: ["error": "\(failure)"])
        }
        if policy == .always { flush() }
    }

    /// Writes whatever is buffered (and fdatasyncs unless the policy is `never`).
    func flush() {
        writeLock.withLockedValue { _ in
            let (file, data) = state.withLockedValue { state -> (OpenFile?, [UInt8]) in
                let data = state.pending
                state.pending = []
                return (state.segment.map { OpenFile(fd: $0.fd, path: $0.path) }, data)
            }
            guard let file, !data.isEmpty else { return }
            write(data, to: file, sync: policy != .never)
        }
    }

    /// Makes `next` the file new changes go to, and flushes, syncs and closes the previous one. Changes recorded
    /// before this returns are in the previous file or in `next`; nothing is lost between them.
    func switchSegment(to next: JournalSegment?) {
        writeLock.withLockedValue { _ in
            let (previous, data) = state.withLockedValue { state -> (OpenFile?, [UInt8]) in
                let data = state.pending
                let previous = state.segment.map { OpenFile(fd: $0.fd, path: $0.path) }
                state.pending = []
                state.segment = next
                return (previous, data)
            }
            guard let previous else { return }
            write(data, to: previous, sync: true)
            FileIO.close(previous.fd)
        }
    }

    private struct OpenFile: Sendable {
        var fd: Int32
        var path: String
    }

    var pendingBytes: Int { state.withLockedValue { $0.pending.count } }

    private func write(_ data: [UInt8], to file: OpenFile, sync: Bool) {
        do {
            if !data.isEmpty { try FileIO.writeAll(file.fd, data, path: file.path) }
            if sync { try FileIO.syncData(file.fd, path: file.path) }
        } catch {
            let failures = state.withLockedValue { state in
                state.failures += 1
                return state.failures
            }
            // Sessions keep working in memory; say so loudly, but not once per second forever.
            if failures <= 5 || failures % 60 == 0 {
                logger.error("journal: write failed; recent changes may not survive a restart", metadata: [
                    "error": "\(error)", "failures": "\(failures)",
                ])
            }
        }
    }
}
