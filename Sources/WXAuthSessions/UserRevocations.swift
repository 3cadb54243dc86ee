import NIOConcurrencyHelpers
import Synchronization

/// "Every session of this user that existed at time T is revoked": the watermark REVOKE_USER leaves behind, so a
/// session that a concurrent REFRESH moved into an already-scanned shard is caught on its next use. Checked on
/// every read of a live record; free while no watermark exists.
final class UserRevocations: Sendable {
    private struct User: Hashable {
        var appIndex: UInt16
        var openid: String
    }

    private struct Watermark {
        var revokedAt: Int64
        var forgetAt: Int64
    }

    private let watermarks = NIOLockedValueBox<[User: Watermark]>([:])
    private let isEmpty = Atomic<Bool>(true)

    /// Sessions of the user created before `at` are revoked; the watermark is kept until `forgetAt` (when every
    /// such session has passed its absolute deadline anyway).
    func revoke(appIndex: UInt16, openid: String, at: Int64, forgetAt: Int64) {
        watermarks.withLockedValue { watermarks in
            watermarks[User(appIndex: appIndex, openid: openid)] = Watermark(revokedAt: at, forgetAt: forgetAt)
            isEmpty.store(false, ordering: .releasing)
        }
    }

    /// `openid` is only evaluated while some watermark exists (it makes a String from the record).
    func isRevoked(appIndex: UInt16, openid: @autoclosure () -> String, createdAt: Int64) -> Bool {
        guard !isEmpty.load(ordering: .acquiring) else { return false }
        let user = User(appIndex: appIndex, openid: openid())
        return watermarks.withLockedValue { watermarks in
            guard let mark = watermarks[user] else { return false }
            return createdAt < mark.revokedAt
        }
    }

    func prune(now: Int64) {
        guard !isEmpty.load(ordering: .acquiring) else { return }
        watermarks.withLockedValue { watermarks in
            watermarks = watermarks.filter { $0.value.forgetAt > now }
            isEmpty.store(watermarks.isEmpty, ordering: .releasing)
        }
    }
}
