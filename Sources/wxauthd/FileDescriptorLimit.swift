import Logging
import NIOCore
import WXAuthServer
import WXAuthWeChat

extension WXAuthDaemon {
    /// Raises the soft open file limit (RLIMIT_NOFILE) as far as the connection limits need and the hard limit
    /// allows; when that is not enough, lowers the WeChat pool and `max_connections` to fit, with a warning that
    /// names the numbers (as Redis does with maxclients). Returns the WeChat pool size to use.
    func fitFileDescriptorLimit(_ configuration: inout ServerConfiguration, logger: Logger) throws -> Int {
        let wantedPool = WeChatConnectionPool.connections(
            forLoginBursts: Array(repeating: configuration.loginRatePerApp.burst, count: configuration.apps.count))
        guard let (soft, hard) = FileDescriptorBudget.currentLimits() else {
            logger.warning("cannot read the open file limit (RLIMIT_NOFILE); connection limits not checked against it")
            return wantedPool
        }
        let reserve = FileDescriptorBudget.reserve(eventLoops: System.coreCount)
        let perWeChat = dev ? 2 : 1  // --dev: the simulator's end of each WeChat connection is in this process too
        func plan(hardLimit: Int) throws -> FileDescriptorBudget.Plan {
            guard let plan = FileDescriptorBudget.plan(
                maxConnections: configuration.maxConnections, wechatConnections: wantedPool,
                descriptorsPerWeChatConnection: perWeChat, reserve: reserve, softLimit: soft, hardLimit: hardLimit
            ) else {
                throw ConfigurationError("""
                    the open file limit is \(soft) (hard \(Self.describe(hard))): too low for wxauthd, which keeps \
                    \(reserve) descriptors for itself and needs \(FileDescriptorBudget.minimumWeChatConnections * perWeChat) \
                    for WeChat and at least 1 for a client; raise it (ulimit -n, systemd LimitNOFILE)
                    """)
            }
            return plan
        }
        var fitted = try plan(hardLimit: hard)
        if fitted.softLimit > soft {
            if FileDescriptorBudget.setSoftLimit(fitted.softLimit) {
                logger.notice("raised the open file limit", metadata: ["from": "\(soft)", "to": "\(fitted.softLimit)"])
            } else {
                fitted = try plan(hardLimit: soft)
            }
        }
        if fitted.wechatConnections < wantedPool {
            logger.warning("""
                WeChat connection pool lowered from \(wantedPool) to \(fitted.wechatConnections) to fit the open file \
                limit of \(fitted.softLimit); LOGINs beyond it wait for a connection
                """)
        }
        if fitted.maxConnections < configuration.maxConnections {
            logger.warning("""
                max_connections lowered from \(configuration.maxConnections) to \(fitted.maxConnections): the open file \
                limit is \(fitted.softLimit) (hard \(Self.describe(hard))) and \
                \(fitted.reserve + fitted.wechatConnections * perWeChat) descriptors are kept for the listener, event \
                loops, files and the WeChat connections; raise the limit (ulimit -n, systemd LimitNOFILE) to allow more
                """)
            configuration.maxConnections = fitted.maxConnections
        }
        return fitted.wechatConnections
    }

    private static func describe(_ limit: Int) -> String { limit == Int.max ? "unlimited" : "\(limit)" }
}
