import ArgumentParser
import WXAuthBenchCore

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wxauth-bench",
        abstract: "Latency and throughput of wxauthd VALIDATE and Redis GET, measured the same way on this machine.",
        discussion: """
            Targets: wxauth://HOST:PORT, redis://HOST:PORT, echo:// (an in-process loopback echo server: the floor). \
            Loopback only. See BENCHMARKS.md; benchmarks/compare.sh runs the whole comparison.
            """,
        subcommands: [RunCommand.self, PreloadCommand.self, ReportCommand.self, RevocationCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

#if DEBUG
let buildConfiguration = "debug"
#else
let buildConfiguration = "release"
#endif

/// The size of the VALIDATE answer body for a session of the dev app (app id 16 bytes, openid 28, no unionid):
/// Redis values get this size, so both servers send back the same amount of data.
let sessionValueBytes: Int = {
    let appID = 16, openid = 28, unionid = 0
    return 2 + appID + 2 + openid + 2 + unionid + 3 * 8
}()
