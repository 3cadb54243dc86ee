import AsyncHTTPClient
import Foundation
import Testing

/// The built `wxauthd` and `wxauth` executables, run as a user would run them. `scripts/test.sh` (the README's test
/// command) builds them before the tests run.
@Suite("wxauthd and wxauth binaries")
struct DaemonBinaryTests {
    static let buildDirectory: URL = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.appendingPathComponent(".build/debug")
    }()

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func executable(_ name: String) throws -> URL {
        let url = buildDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestFailure("\(url.path) is missing: run `swift build` first (scripts/test.sh does)")
        }
        return url
    }

    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = try executable(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func startupWithoutConfigurationFailsAndSaysWhatToConfigure() throws {
        let outcome = try Self.run("wxauthd", ["--port", "0"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("no WeChat app is configured"))
        #expect(outcome.stderr.contains("WXAUTH_SECRET_"))
        #expect(outcome.stderr.contains("--dev"))
    }

    @Test func appWithoutSecretFailsAndNamesTheVariable() throws {
        let outcome = try Self.run("wxauthd", ["--app", "wxabc", "--port", "0"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("WXAUTH_SECRET_WXABC"))
    }

    @Test func productionWithoutServerKeyFails() throws {
        let outcome = try Self.run("wxauthd", ["--app", "wxabc", "--port", "0"], environment: ["WXAUTH_SECRET_WXABC": "s3cret"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("no server key is configured"))
        #expect(!outcome.stderr.contains("s3cret"))
    }

    @Test(arguments: ["0.0.0.0", "10.1.2.3", "::"])
    func devRefusesANonLoopbackBind(host: String) throws {
        let outcome = try Self.run("wxauthd", ["--dev", "--host", host, "--port", "0", "--sim-port", "0"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("loopback only"))
    }

    /// `wxauthd --dev` on free ports, started and read up to its ready line; the caller stops it.
    static func startDev() throws -> (daemon: Process, ready: [String: Any]?, stderr: Pipe) {
        let daemon = Process()
        daemon.executableURL = try executable("wxauthd")
        daemon.arguments = ["--dev", "--port", "0", "--sim-port", "0"]
        let out = Pipe(), err = Pipe()
        daemon.standardOutput = out
        daemon.standardError = err
        try daemon.run()
        do {
            return (daemon, try DaemonReadyLine.read(from: out), err)
        } catch {
            daemon.terminate()
            throw error
        }
    }

    @Test func devServerRunsTheDemoAndStopsOnSIGTERM() async throws {
        let (daemon, ready, err) = try Self.startDev()
        defer { if daemon.isRunning { daemon.terminate() } }
        let port = try #require(ready?["port"] as? Int)
        let simulator = try #require(ready?["simulator"] as? String)
        #expect(ready?["host"] as? String == "127.0.0.1")

        let demo = try Self.run("wxauth", ["demo", "--port", "\(port)", "--sim", simulator])
        #expect(demo.status == 0)
        for step in ["LOGIN", "VALIDATE token", "REFRESH", "VALIDATE old token", "REVOKE", "same session", "WECHAT_REJECTED"] {
            #expect(demo.stdout.contains(step))
        }
        #expect(demo.stdout.components(separatedBy: "rejected: TOKEN_REVOKED").count == 3)
        for step in ["DECRYPT user info", "signature valid", "rejected: DECRYPT_FAILED", "phone 13800138000",
                     "session_key current at WeChat"] {
            #expect(demo.stdout.contains(step), "demo lacks \(step)")
        }

        daemon.terminate()  // SIGTERM
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("DEVELOPMENT MODE"))
        #expect(log.contains("wxauthd stopped"))
    }

    @Test func devServerServesTheHTTPEdgeAndNamesItsPortInTheReadyLine() async throws {
        let (daemon, ready, err) = try Self.startDev()
        defer { if daemon.isRunning { daemon.terminate() } }
        let httpPort = try #require(ready?["http_port"] as? Int)
        #expect(ready?["port"] as? Int != httpPort)

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(httpPort)/v1/auth")
        request.headers.add(name: "Authorization", value: "Bearer not-a-token")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 401)
        #expect(response.headers.first(name: "X-WXAuth-Reason") == "invalid")

        daemon.terminate()  // SIGTERM: both listeners stop
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("HTTP edge: on a free loopback port"))
    }

    @Test func devBannerSaysCallersMustAuthWhenTheConfigurationHasCallers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxauthd-banner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"callers": [{"id": "gateway", "secret_env": "WXAUTH_TEST_CALLER", "permissions": ["VALIDATE"]}]}"#.utf8)
            .write(to: config)
        let daemon = Process()
        daemon.executableURL = try Self.executable("wxauthd")
        daemon.arguments = ["--dev", "--config", config.path, "--port", "0", "--sim-port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["WXAUTH_TEST_CALLER"] = "gateway-secret-0123456789abcdef"
        daemon.environment = environment
        let out = Pipe(), err = Pipe()
        daemon.standardOutput = out
        daemon.standardError = err
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try #require(try DaemonReadyLine.read(from: out)["port"] as? Int)
        daemon.terminate()
        daemon.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("DEVELOPMENT MODE"))
        #expect(log.contains("callers from --config must AUTH"))
        #expect(!log.contains("no caller authentication (open)"))
        #expect(!log.contains("gateway-secret"))
    }
}
