#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import WXAuthClient
import WXAuthProtocol
import WeChatSimulator

/// The issue's scenario on a real full disk: the built `wxauthd` with `journal_flush: always` on a 512 KiB tmpfs.
/// Runs where this process may mount one (root in a VM or CI container); elsewhere `DiskFullTests` covers the same
/// promises through failures injected at the file layer.
@Suite(
    "wxauthd on a full disk (a real 512 KiB tmpfs)", .serialized,
    .enabled(if: Tmpfs.canMount, "mounting a tmpfs is not permitted here; DiskFullTests injects the failures instead")
)
struct DaemonDiskFullTests {
    typealias Daemon = DaemonRestartTests.Daemon

    @Test func nothingAnsweredOKIsLostAndRefusedCodesStillWork() async throws {
        try await DaemonRestartTests.withSimulator { simulator, directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Tmpfs.mount(at: directory, size: "512k")
            defer { Tmpfs.unmount(directory) }
            let config = try DaemonRestartTests.configuration(simulator: simulator.baseURL, dataDirectory: directory)
            let arguments = ["--journal-flush", "always", "--snapshot-interval", "3600"]
            let first = try Daemon(config: config, arguments: arguments)
            var client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await first.port())
            try await first.waitForLog("persistence: sessions loaded")

            var acknowledged: [String: String] = [:]  // token -> openid
            func login(_ code: String) async -> (Status?, WXAuthClient.IssuedSession?) {
                do {
                    let issued = try await client.login(appID: DaemonRestartTests.appID, code: code)
                    acknowledged[issued.token] = issued.session.openid
                    return (.ok, issued)
                } catch let error as ServerError {
                    return (error.status, nil)
                } catch {
                    return (nil, nil)
                }
            }
            for index in 0..<20 { _ = await login(try simulator.mintCode(appID: DaemonRestartTests.appID, user: "before-\(index)")) }
            #expect(acknowledged.count == 20)

            let filler = directory + "/filler"
            try Tmpfs.fill(filler)
            let duringCodes = try (0..<120).map { try simulator.mintCode(appID: DaemonRestartTests.appID, user: "during-\($0)") }
            var refusedCodes: [String] = []
            var unexpected: [String] = []
            for code in duringCodes {
                // OK only if the record really went in (the journal's last page may still have room): then it
                // must survive the kill below like every other OK.
                switch await login(code).0 {
                case .ok: break
                case .storeUnavailable: refusedCodes.append(code)
                case let other: unexpected.append(other?.name ?? "no answer")
                }
            }
            #expect(unexpected.isEmpty, "\(unexpected)")
            #expect(refusedCodes.count >= 100, "the disk was full: \(refusedCodes.count) of 120 refused")
            try await first.waitForLog("journal: write failed")

            try FileManager.default.removeItem(atPath: filler)
            try await first.waitForLog("journal: writable again", timeout: .seconds(10))
            // Every refused code still opens its session: none was spent without its answer being kept.
            for code in refusedCodes { #expect(await login(code).0 == .ok) }
            for index in 0..<20 { _ = await login(try simulator.mintCode(appID: DaemonRestartTests.appID, user: "after-\(index)")) }
            #expect(acknowledged.count == 160)
            try? await client.close()
            first.kill9()

            let second = try Daemon(config: config, arguments: arguments)
            defer { second.stop() }
            client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await second.port())
            var lost = 0
            for (token, openid) in acknowledged {
                let session = try? await client.validate(token: token)
                if session?.openid != openid { lost += 1 }
            }
            #expect(lost == 0, "\(lost) of \(acknowledged.count) acknowledged sessions lost")
            #expect(!second.log.contains("REFUSED"), "the journal stayed one valid chain")
            try? await client.close()
        }
    }
}

/// A small tmpfs for the test's data directory.
enum Tmpfs {
    static let canMount: Bool = {
        let probe = NSTemporaryDirectory() + "wxauth-tmpfs-probe-" + UUID().uuidString
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil else {
            return false
        }
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? mount(at: probe, size: "64k")) != nil else { return false }
        unmount(probe)
        return true
    }()

    static func mount(at path: String, size: String) throws {
        try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path])
    }

    static func unmount(_ path: String) {
        try? run("/bin/umount", [path])
    }

    /// Writes zeros to `path` until the file system is full.
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw DaemonRestartTests.DaemonTestError("cannot create \(path)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        var written = 0
        while true {
            let result = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if result <= 0 { break }
            written += result
            if written > 64 << 20 { throw DaemonRestartTests.DaemonTestError("\(path) never filled up") }
        }
        // Also the last few bytes a partial write may have left.
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) == 1 {}
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DaemonRestartTests.DaemonTestError("\(executable) \(arguments.joined(separator: " ")) failed")
        }
    }
}
