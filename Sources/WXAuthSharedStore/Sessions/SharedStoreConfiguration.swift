/// Timings and limits of the shared store.
public struct SharedStoreConfiguration: Sendable {
    /// How long a REFRESH retry of the old token gets the same new token back (as in memory). Default 30 s.
    public var refreshGraceMilliseconds: Int64
    /// How long a session key outlives its idle or absolute deadline, so the token answers TOKEN_EXPIRED (not
    /// INVALID_TOKEN) for that long, as the in-memory store does until its sweep. Default 60 s.
    public var expiredLingerMilliseconds: Int64
    /// Sessions each node keeps in its near cache; beyond it, reads go to Redis without being cached.
    public var nearCacheCapacity: Int
    /// The deadline of every Redis call one request makes; past it the request answers STORE_UNAVAILABLE.
    public var commandTimeout: Duration
    /// nil (default): while the invalidation feed is down the near cache serves nothing, so a revocation on any
    /// node always wins. Set: VALIDATE may still answer from cached records for this long after the feed is lost
    /// (a revocation made meanwhile may be missed for that long); after it, or when Redis is back, the cache is flushed.
    public var staleReadsWhileFeedDown: Duration?

    public init(
        refreshGraceMilliseconds: Int64 = 30_000, expiredLingerMilliseconds: Int64 = 60_000,
        nearCacheCapacity: Int = 1_000_000, commandTimeout: Duration = .seconds(1), staleReadsWhileFeedDown: Duration? = nil
    ) {
        self.refreshGraceMilliseconds = refreshGraceMilliseconds
        self.expiredLingerMilliseconds = expiredLingerMilliseconds
        self.nearCacheCapacity = nearCacheCapacity
        self.commandTimeout = commandTimeout
        self.staleReadsWhileFeedDown = staleReadsWhileFeedDown
    }
}
