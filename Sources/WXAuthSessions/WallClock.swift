#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Wall-clock time in milliseconds since the Unix epoch (UTC). Injected so expiry can be tested exactly.
public protocol WallClock: Sendable {
    func nowMilliseconds() -> Int64
}

/// `clock_gettime(CLOCK_REALTIME)`.
public struct SystemWallClock: WallClock {
    public init() {}

    public func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to (tests).
public final class ManualWallClock: WallClock {
    private let now: Atomic<Int64>

    public init(milliseconds: Int64 = 1_764_160_000_000) {
        self.now = Atomic(milliseconds)
    }

    public func nowMilliseconds() -> Int64 { now.load(ordering: .relaxed) }

    public func advance(milliseconds: Int64) { now.add(milliseconds, ordering: .relaxed) }

    public func advance(seconds: Int64) { advance(milliseconds: seconds * 1000) }
}
