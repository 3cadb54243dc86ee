import Foundation
import Testing
import WXAuthProtocol
import WXAuthServer

/// The connection limits fit the open file limit: raised toward the hard limit when needed, lowered (with a
/// warning) when even that is too little, so the limit shows as SERVER_FULL instead of EMFILE and hung clients.
@Suite("Open file limit at start")
struct FileDescriptorBudgetTests {
    private let reserve = FileDescriptorBudget.reserve(eventLoops: 2)

    @Test func enoughDescriptorsChangeNothing() throws {
        let plan = try #require(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, reserve: reserve, softLimit: 65_536, hardLimit: 65_536))
        #expect(plan == .init(softLimit: 65_536, maxConnections: 10_000, wechatConnections: 400, reserve: reserve))
    }

    @Test func theSoftLimitIsRaisedAsFarAsNeeded() throws {
        let plan = try #require(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, reserve: reserve, softLimit: 1024, hardLimit: 1_048_576))
        #expect(plan.softLimit == 10_000 + 400 + reserve)
        #expect(plan.maxConnections == 10_000 && plan.wechatConnections == 400)
        let unlimited = try #require(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, reserve: reserve, softLimit: 1024, hardLimit: .max))
        #expect(unlimited.softLimit == 10_000 + 400 + reserve)
    }

    @Test func aLowHardLimitLowersThePoolAndTheConnectionCapToFit() throws {
        let plan = try #require(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, reserve: reserve, softLimit: 128, hardLimit: 128))
        #expect(plan.softLimit == 128)
        #expect(plan.wechatConnections == (128 - reserve) / 4)
        #expect(plan.maxConnections == 128 - reserve - plan.wechatConnections)
        let dev = try #require(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, descriptorsPerWeChatConnection: 2, reserve: reserve,
            softLimit: 128, hardLimit: 128))
        #expect(dev.maxConnections + 2 * dev.wechatConnections + reserve <= 128)
        #expect(dev.maxConnections >= 1)
    }

    @Test func everyPlanFitsItsLimit() {
        for limit in stride(from: reserve + 10, through: 20_000, by: 97) {
            for hard in [limit, limit * 2, Int.max] {
                guard let plan = FileDescriptorBudget.plan(
                    maxConnections: 10_000, wechatConnections: 400, descriptorsPerWeChatConnection: 2, reserve: reserve,
                    softLimit: limit, hardLimit: hard)
                else {
                    Issue.record("no plan for \(limit)")
                    continue
                }
                #expect(plan.maxConnections + 2 * plan.wechatConnections + plan.reserve <= plan.softLimit)
                #expect(plan.softLimit <= hard && plan.softLimit >= limit)
                #expect(plan.maxConnections >= 1 && plan.maxConnections <= 10_000)
                #expect(plan.wechatConnections >= 1 && plan.wechatConnections <= 400)
            }
        }
    }

    @Test func aLimitBelowTheReserveIsRefused() {
        #expect(FileDescriptorBudget.plan(
            maxConnections: 10_000, wechatConnections: 400, reserve: reserve, softLimit: 40, hardLimit: 40) == nil)
    }

    @Test func theProcessLimitCanBeRead() throws {
        let (soft, hard) = try #require(FileDescriptorBudget.currentLimits())
        #expect(soft > 0 && soft <= hard)
    }

    /// wxauthd under `prlimit --nofile=128:128`: it warns, lowers max_connections, and clients past the lowered cap
    /// get SERVER_FULL at once instead of hanging.
    @Test func theDaemonFitsALowLimitAndRefusesWithServerFull() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else { return }
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        daemon.arguments = ["--nofile=128:128", "--", try DaemonBinaryTests.executable("wxauthd").path,
                            "--dev", "--port", "0", "--sim-port", "0"]
        let out = Pipe(), err = Pipe()
        daemon.standardOutput = out
        daemon.standardError = err
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        let ready: [String: Any]? = try DaemonReadyLine.read(from: out)
        let port = try #require(ready?["port"] as? Int)

        var connections: [RawConnection] = []
        var admitted = 0, refused = 0
        for _ in 0..<100 {
            let raw = try await RawConnection.connect(port: port, reading: false)
            connections.append(raw)
            try await raw.startReading()
            let first = try await raw.nextFrame(timeout: .seconds(5))  // throws if the server leaves it hanging
            if first.kind == Status.serverFull.rawValue { refused += 1 } else if first.kind == Opcode.hello.rawValue { admitted += 1 }
        }
        for raw in connections { await raw.close() }
        daemon.terminate()
        daemon.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(refused > 0)
        #expect(log.contains("max_connections lowered from 10000 to \(admitted):"), "\(log.suffix(1500))")
        #expect(log.contains("the open file limit is 128"))
    }
}
