#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import WXAuthClient
import WXAuthProtocol
import WeChatSimulator

/// The built `wxauthd` (`swift build` first; scripts/test.sh does), killed with SIGKILL and restarted on the same
/// data directory, against an in-process WeChat simulator.
@Suite("wxauthd restarts: kill -9, kill during a snapshot, expiry while down", .serialized)
struct DaemonRestartTests {
    static let appID = "wxpersist00000001"
    static let appSecret = "persist-app-secret"
    static let key = String(repeating: "5a", count: 32)

    static let executable: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/wxauthd")

    /// One wxauthd process with its output captured.
    final class Daemon: Sendable {
        let process: Process
        final class Output: Sendable {
            private let data = Mutex(Data())
            func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
            func withLock<R>(_ body: (inout Data) -> R) -> R { data.withLock { body(&$0) } }
        }

        private let out = Output()
        private let err = Output()

        init(config: String, arguments: [String], environment extra: [String: String] = [:]) throws {
            guard FileManager.default.isExecutableFile(atPath: DaemonRestartTests.executable.path) else {
                throw DaemonTestError("\(DaemonRestartTests.executable.path) is missing: run `swift build` first")
            }
            let process = Process()
            process.executableURL = DaemonRestartTests.executable
            process.arguments = ["--config", config] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["WXAUTH_SECRET_PERSIST"] = DaemonRestartTests.appSecret
            environment["WXAUTH_TEST_KEY_1"] = DaemonRestartTests.key
            for (name, value) in extra { environment[name] = value }
            process.environment = environment
            let stdout = Pipe(), stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            self.process = process
            stdout.fileHandleForReading.readabilityHandler = { [out] handle in
                let chunk = handle.availableData
                out.append(chunk)
            }
            stderr.fileHandleForReading.readabilityHandler = { [err] handle in
                let chunk = handle.availableData
                err.append(chunk)
            }
            try process.run()
        }

        var log: String { err.withLock { String(decoding: $0, as: UTF8.self) } }

        /// The port from the ready line.
        func port(timeout: Duration = .seconds(30)) async throws -> Int {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let line = out.withLock { data in data.firstIndex(of: UInt8(ascii: "\n")).map { data.prefix(upTo: $0) } }
                if let line, let object = try JSONSerialization.jsonObject(with: line) as? [String: Any],
                   let port = object["port"] as? Int {
                    return port
                }
                guard process.isRunning else { throw DaemonTestError("wxauthd exited: \(log)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw DaemonTestError("no ready line; log: \(log)")
        }

        func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if log.contains(text) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw DaemonTestError("log never said \(text): \(log)")
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    struct DaemonTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A config file for the simulator at `simulator` and data directory `dataDirectory`.
    static func configuration(simulator: String, dataDirectory: String, idleSeconds: Double = 1800) throws -> String {
        let path = dataDirectory + ".json"
        let json: [String: Any] = [
            "host": "127.0.0.1", "port": 0,
            "apps": [["app_id": appID, "secret_env": "WXAUTH_SECRET_PERSIST", "idle_timeout_seconds": idleSeconds]],
            "keys": [["id": 1, "secret_hex_env": "WXAUTH_TEST_KEY_1"]],
            "wechat": ["base_url": simulator, "timeout_seconds": 5],
            "data_dir": dataDirectory,
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func withSimulator<T>(_ body: (WeChatSimulator, String) async throws -> T) async throws -> T {
        let simulator = WeChatSimulator(configuration: WeChatSimulatorConfiguration(apps: [appID: appSecret]))
        try await simulator.start(host: "127.0.0.1", port: 0)
        let directory = NSTemporaryDirectory() + "wxauthd-persist-" + UUID().uuidString
        do {
            let result = try await body(simulator, directory)
            try? await simulator.shutdown()
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: directory + ".json")
            return result
        } catch {
            try? await simulator.shutdown()
            throw error
        }
    }

    static func status(of operation: () async throws -> Void) async -> Status? {
        do {
            try await operation()
            return .ok
        } catch let error as ServerError {
            return error.status
        } catch {
            return nil
        }
    }

    static func login(_ client: WXAuthClient, _ simulator: WeChatSimulator, user: String) async throws -> WXAuthClient.IssuedSession {
        try await client.login(appID: appID, code: try simulator.mintCode(appID: appID, user: user))
    }

    @Test func killNineAfterTheFlushIntervalLosesNothing() async throws {
        try await Self.withSimulator { simulator, directory in
            let config = try Self.configuration(simulator: simulator.baseURL, dataDirectory: directory)
            let arguments = ["--journal-flush", "interval", "--snapshot-interval", "3600"]
            let first = try Daemon(config: config, arguments: arguments)
            var client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await first.port())
            var live: [String] = []
            for user in ["u0", "u1", "u2"] { live.append(try await Self.login(client, simulator, user: user).token) }
            let rotatedOld = try await Self.login(client, simulator, user: "u3").token
            let rotatedNew = try await client.refresh(token: rotatedOld).token
            let revoked = try await Self.login(client, simulator, user: "u4").token
            try await client.revoke(token: revoked)
            let mallory = try await Self.login(client, simulator, user: "mallory")
            let mallory2 = try await Self.login(client, simulator, user: "mallory")
            #expect(try await client.revokeUser(appID: Self.appID, openid: mallory.session.openid) == 2)
            try await Task.sleep(for: .milliseconds(3000))  // three 1 s flush intervals
            try? await client.close()
            first.kill9()
            #expect(first.process.terminationReason == .uncaughtSignal)

            let second = try Daemon(config: config, arguments: arguments)
            defer { second.stop() }
            client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await second.port())
            for token in live + [rotatedNew] {
                #expect(await Self.status { _ = try await client.validate(token: token) } == .ok)
            }
            for token in [revoked, mallory.token, mallory2.token, rotatedOld] {
                #expect(await Self.status { _ = try await client.validate(token: token) } == .tokenRevoked)
            }
            try? await client.close()
            #expect(second.log.contains("persistence: sessions loaded"))
            #expect(second.log.contains("integrity_failures=0"))
            for token in live + [revoked, rotatedOld, rotatedNew] { #expect(!second.log.contains(token)) }
        }
    }

    @Test func killNineDuringASnapshotLeavesThePreviousOneUsable() async throws {
        try await Self.withSimulator { simulator, directory in
            let config = try Self.configuration(simulator: simulator.baseURL, dataDirectory: directory)
            // Run 1: a session, then a graceful stop (final snapshot).
            let first = try Daemon(config: config, arguments: [])
            var client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await first.port())
            let before = try await Self.login(client, simulator, user: "before").token
            try? await client.close()
            first.stop()
            #expect(first.process.terminationStatus == 0)
            #expect(first.log.contains("final snapshot written"))
            let snapshot = try Data(contentsOf: URL(fileURLWithPath: directory + "/sessions.snapshot"))

            // Run 2: the start-up snapshot pauses after its temporary file (test hook); kill -9 right there.
            let second = try Daemon(config: config, arguments: [], environment: ["WXAUTH_TEST_SNAPSHOT_PAUSE_MS": "60000"])
            client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await second.port())
            try await second.waitForLog("snapshot temporary file written")
            let during = try await Self.login(client, simulator, user: "during").token
            try await Task.sleep(for: .milliseconds(3000))  // three flush intervals
            try? await client.close()
            second.kill9()
            #expect(FileManager.default.fileExists(atPath: directory + "/sessions.snapshot.tmp"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/sessions.snapshot")) == snapshot)

            // Run 3: the old snapshot loads, the journal brings the later session back.
            let third = try Daemon(config: config, arguments: [])
            defer { third.stop() }
            client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await third.port())
            #expect(await Self.status { _ = try await client.validate(token: before) } == .ok)
            #expect(await Self.status { _ = try await client.validate(token: during) } == .ok)
            try? await client.close()
            #expect(third.log.contains("removed an incomplete snapshot"))
            #expect(!third.log.contains("REFUSED"))
        }
    }

    @Test func aSessionThatExpiredWhileTheServerWasDownIsGone() async throws {
        try await Self.withSimulator { simulator, directory in
            let config = try Self.configuration(simulator: simulator.baseURL, dataDirectory: directory, idleSeconds: 2)
            let first = try Daemon(config: config, arguments: [])
            var client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await first.port())
            let token = try await Self.login(client, simulator, user: "sleepy").token
            try? await client.close()
            first.stop()
            try await Task.sleep(for: .milliseconds(2500))

            let second = try Daemon(config: config, arguments: [])
            defer { second.stop() }
            client = try await WXAuthClient.connect(host: "127.0.0.1", port: try await second.port())
            #expect(await Self.status { _ = try await client.validate(token: token) } == .invalidToken)
            try? await client.close()
            #expect(second.log.contains("expired=1"))
        }
    }

    @Test func devModeRefusesADataDirectoryWithoutAStableKey() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["--dev", "--port", "0", "--sim-port", "0", "--data-dir", NSTemporaryDirectory() + "wxauthd-dev-refused"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 78)
        #expect(log.contains("needs a stable server key"))
    }
}
