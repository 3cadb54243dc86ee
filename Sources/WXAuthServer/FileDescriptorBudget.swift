#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fits the connection limits into the process's open file limit (RLIMIT_NOFILE), as Redis fits `maxclients`.
///
/// Every client connection and every pooled WeChat connection is a descriptor; past the limit, accept() fails with
/// EMFILE and new clients hang instead of getting SERVER_FULL. At start the soft limit is raised toward the hard
/// limit as far as needed; when even that is not enough, the WeChat pool and then `max_connections` are lowered
/// (with a warning naming the numbers) so that the limit is reached as SERVER_FULL, never as EMFILE.
public struct FileDescriptorBudget: Sendable, Hashable {
    /// Descriptors for everything that is neither a client nor a WeChat connection: stdio, the listener, the
    /// persistence files, the user-data HTTP client, logs, a margin. Event loops add theirs (`reserve`).
    public static let baseReserve = 48
    /// Per event-loop thread: epoll, eventfd, timerfd.
    public static let perEventLoop = 3
    /// The WeChat pool never gets less than this when it must shrink.
    public static let minimumWeChatConnections = 4

    /// What to run with.
    public struct Plan: Sendable, Hashable {
        /// The soft limit to set (the current one when it is enough).
        public var softLimit: Int
        public var maxConnections: Int
        public var wechatConnections: Int
        /// Descriptors kept for everything else.
        public var reserve: Int

        public init(softLimit: Int, maxConnections: Int, wechatConnections: Int, reserve: Int) {
            self.softLimit = softLimit
            self.maxConnections = maxConnections
            self.wechatConnections = wechatConnections
            self.reserve = reserve
        }
    }

    /// Descriptors kept for everything but client and WeChat connections.
    public static func reserve(eventLoops: Int) -> Int { baseReserve + perEventLoop * max(eventLoops, 1) }

    /// The plan for the wanted limits under the current soft and hard limits (`Int.max`: unlimited).
    /// `descriptorsPerWeChatConnection` is 2 when the WeChat simulator runs in the same process (`--dev`).
    /// Returns nil when not even one client connection fits.
    public static func plan(
        maxConnections: Int, wechatConnections: Int, descriptorsPerWeChatConnection: Int = 1, reserve: Int,
        softLimit: Int, hardLimit: Int
    ) -> Plan? {
        let perWeChat = max(descriptorsPerWeChatConnection, 1)
        let (wechatDescriptors, o1) = wechatConnections.multipliedReportingOverflow(by: perWeChat)
        let (partial, o2) = maxConnections.addingReportingOverflow(wechatDescriptors)
        let (needed, o3) = partial.addingReportingOverflow(reserve)
        let wanted = o1 || o2 || o3 ? Int.max : needed
        let limit = softLimit >= wanted ? softLimit : max(softLimit, min(hardLimit, wanted))
        if limit >= wanted {
            return Plan(softLimit: limit, maxConnections: maxConnections, wechatConnections: wechatConnections, reserve: reserve)
        }
        let available = limit - reserve
        let wechat = min(wechatConnections, max(minimumWeChatConnections, available / (4 * perWeChat)))
        let clients = min(maxConnections, available - wechat * perWeChat)
        guard clients >= 1 else { return nil }
        return Plan(softLimit: limit, maxConnections: clients, wechatConnections: wechat, reserve: reserve)
    }

    /// The process's RLIMIT_NOFILE (soft, hard), `Int.max` for unlimited; nil when it cannot be read.
    public static func currentLimits() -> (soft: Int, hard: Int)? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        return (Self.int(limit.rlim_cur), Self.int(limit.rlim_max))
    }

    /// Sets the soft limit (not above the hard limit). Returns whether it worked.
    public static func setSoftLimit(_ soft: Int) -> Bool {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return false }
        limit.rlim_cur = soft == Int.max ? Self.infinity : rlim_t(soft)
        return setrlimit(Self.resource, &limit) == 0
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    /// RLIM_INFINITY (all bits set; the C macro does not import as a Swift constant).
    private static let infinity = rlim_t.max

    private static func int(_ value: rlim_t) -> Int {
        value == Self.infinity || value > rlim_t(Int.max) ? Int.max : Int(value)
    }
}
