#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// Test hook (`PersistenceConfiguration.diskFaults`): makes persistence's writes and syncs fail the way a full or
/// failing disk does, at the file layer, so tests can check what a client's OK promises when the disk says no.
/// Never set in production.
public final class DiskFaultInjection: Sendable {
    private struct State {
        /// Bytes a write may still put in a file before failing; nil writes normally.
        var writeBudget: Int?
        var writeErrno: Int32 = ENOSPC
        var syncErrno: Int32?
        var injectedFailures = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// From now on, writes fail with `code` once `afterBytes` more bytes reached the file: the write that crosses
    /// the budget puts its first bytes in the file and then fails, as a torn append on a disk that filled up does.
    public func failWrites(afterBytes: Int = 0, code: Int32 = ENOSPC) {
        state.withLockedValue {
            $0.writeBudget = afterBytes
            $0.writeErrno = code
        }
    }

    /// From now on, every fsync/fdatasync fails with `code` (EIO is what a failing device reports).
    public func failSyncs(code: Int32 = EIO) {
        state.withLockedValue { $0.syncErrno = code }
    }

    /// The disk works again.
    public func heal() {
        state.withLockedValue {
            $0.writeBudget = nil
            $0.syncErrno = nil
        }
    }

    /// How many writes and syncs were made to fail so far.
    public var injectedFailures: Int { state.withLockedValue { $0.injectedFailures } }

    /// How many of `count` bytes may be written before the write fails, and the errno it then fails with.
    func admitWrite(count: Int) -> (allowed: Int, failure: Int32?) {
        state.withLockedValue { state in
            guard let budget = state.writeBudget else { return (count, nil) }
            guard count > budget else {
                state.writeBudget = budget - count
                return (count, nil)
            }
            state.writeBudget = 0
            state.injectedFailures += 1
            return (budget, state.writeErrno)
        }
    }

    func admitSync() -> Int32? {
        state.withLockedValue { state in
            guard let code = state.syncErrno else { return nil }
            state.injectedFailures += 1
            return code
        }
    }
}
