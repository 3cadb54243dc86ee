/// Limits and timings of the session store. Per-app lifetimes live in `AppConfiguration`.
public struct SessionStoreConfiguration: Sendable {
    /// Power of two. Default 256.
    public var shardCount: Int
    /// Live sessions plus remembered revoked/rotated tokens. At the cap LOGIN gets SERVER_FULL; nothing is evicted.
    public var maxEntries: Int
    /// How long a REFRESH retry of the old token gets the same new token back. Default 30 s.
    public var refreshGraceMilliseconds: Int64

    public init(shardCount: Int = 256, maxEntries: Int = 2_000_000, refreshGraceMilliseconds: Int64 = 30_000) {
        self.shardCount = shardCount
        self.maxEntries = maxEntries
        self.refreshGraceMilliseconds = refreshGraceMilliseconds
    }
}
