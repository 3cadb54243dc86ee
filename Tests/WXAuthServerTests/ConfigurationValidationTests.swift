import Foundation
import Testing
import WXAuthServer
import WXAuthSessions

/// Every value that would make the server useless or unsafe is refused at start, with the setting and its range.
@Suite("Configuration refuses mistakes")
struct ConfigurationValidationTests {
    private static func valid() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.apps = [AppConfiguration(appID: "wx1", secret: "s")]
        return configuration
    }

    private static func refusal(_ change: (inout ServerConfiguration) -> Void) -> String? {
        var configuration = valid()
        change(&configuration)
        do {
            try configuration.validate()
            return nil
        } catch {
            return error.description
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var change: @Sendable (inout ServerConfiguration) -> Void
        var message: String
    }

    static let cases: [Case] = [
        Case(description: "sweep interval 0", change: { $0.sweepIntervalMilliseconds = 0 },
             message: "sweep_interval_seconds (--sweep-interval) must be between 0.1 and 3600 seconds, not 0"),
        Case(description: "max in flight 0", change: { $0.maxInFlightPerConnection = 0 },
             message: "max_in_flight_per_connection must be between 1 and 65536, not 0"),
        Case(description: "threads 0", change: { $0.threads = 0 },
             message: "threads (--threads) must be between 1 and 1024, not 0"),
        Case(description: "threads 1025", change: { $0.threads = 1025 },
             message: "threads (--threads) must be between 1 and 1024, not 1025"),
        Case(description: "max connections 0", change: { $0.maxConnections = 0 },
             message: "max_connections (--max-connections) must be between 1 and 1000000, not 0"),
        Case(description: "max connections -5", change: { $0.maxConnections = -5 },
             message: "max_connections (--max-connections) must be between 1 and 1000000, not -5"),
        Case(description: "WeChat timeout 0", change: { $0.upstream.callTimeout = .zero },
             message: "wechat.timeout_seconds (--wechat-timeout) must be between 0.1 and 120 seconds, not 0"),
        Case(description: "login burst 0", change: { $0.loginRatePerApp.burst = 0 },
             message: "login_rate_per_app.burst must be between 1.0 and 1000000.0 requests, not 0.0"),
        Case(description: "per-user rate 0", change: { $0.loginRatePerUser.perSecond = 0 },
             message: """
                login_rate_per_user: per_second must be between 0.001 and 1000000.0 (per_minute between 0.06 and \
                60000000.0), not 0.0 per second
                """),
        Case(description: "max sessions -1", change: { $0.sessions.maxEntries = -1 },
             message: "max_sessions (--max-sessions) must be between 1 and 1000000000, not -1"),
        Case(description: "max retries 9", change: { $0.upstream.maxRetries = 9 },
             message: "wechat.max_retries must be between 0 and 5, not 9"),
        Case(description: "breaker failures 0", change: { $0.upstream.breakerFailureThreshold = 0 },
             message: "wechat.breaker_failures must be between 1 and 1000, not 0"),
        Case(description: "frame deadline 0", change: { $0.frameDeadlineMilliseconds = 0 },
             message: "frame_deadline_seconds must be between 0.1 and 600 seconds, not 0"),
        Case(description: "auth timeout -1", change: { $0.authTimeoutMilliseconds = -1000 },
             message: "auth_timeout_seconds (0 disables) must be between 0 and 600 seconds, not -1"),
        Case(description: "port 70000", change: { $0.port = 70000 }, message: "port (--port) must be between 0 and 65535, not 70000"),
        Case(description: "duplicate caller id", change: {
            $0.callers = [
                CallerConfiguration(id: "svc", secret: "a", permissions: .all),
                CallerConfiguration(id: "svc", secret: "b", permissions: [.validate]),
            ]
        }, message: "caller id svc is configured twice in callers; each must be unique"),
        Case(description: "duplicate app id", change: { $0.apps.append(AppConfiguration(appID: "wx1", secret: "t")) },
             message: "app id wx1 is configured twice in apps (and --app); each must be unique"),
        Case(description: "plain http WeChat", change: { $0.wechatBaseURL = "http://api.weixin.qq.com" },
             message: """
                wechat.base_url (--wechat-base-url) must use https:// (the AppSecret travels in its requests); plain \
                http is allowed only with --dev or to a loopback host (a local simulator), not http://api.weixin.qq.com
                """),
        Case(description: "plain http to a private address", change: { $0.wechatBaseURL = "http://10.0.0.7:7401" },
             message: """
                wechat.base_url (--wechat-base-url) must use https:// (the AppSecret travels in its requests); plain \
                http is allowed only with --dev or to a loopback host (a local simulator), not http://10.0.0.7:7401
                """),
        Case(description: "plain http to a host named like loopback", change: { $0.wechatBaseURL = "http://127.0.0.1.evil.example" },
             message: """
                wechat.base_url (--wechat-base-url) must use https:// (the AppSecret travels in its requests); plain \
                http is allowed only with --dev or to a loopback host (a local simulator), not http://127.0.0.1.evil.example
                """),
        Case(description: "no scheme", change: { $0.wechatBaseURL = "api.weixin.qq.com" },
             message: "wechat.base_url (--wechat-base-url) must be an https:// URL, not api.weixin.qq.com"),
    ]

    @Test(arguments: cases)
    func isRefusedWithTheSettingAndItsRange(_ testCase: Case) {
        #expect(Self.refusal(testCase.change) == testCase.message)
    }

    @Test func theDefaultsAndTheRangeEndsAreAccepted() {
        #expect(Self.refusal { _ in } == nil)
        #expect(Self.refusal {
            $0.sweepIntervalMilliseconds = 100
            $0.maxInFlightPerConnection = 1
            $0.maxConnections = 1
            $0.threads = 1
            $0.upstream.callTimeout = .seconds(120)
            $0.loginRatePerApp.burst = 1
            $0.sessions.maxEntries = 1
            $0.idleTimeoutMilliseconds = 0
        } == nil)
    }

    @Test func plainHTTPIsAllowedWithDev() {
        #expect(Self.refusal {
            $0.isDevelopment = true
            $0.wechatBaseURL = "http://10.0.0.7:7401"
        } == nil)
    }

    @Test(arguments: ["http://127.0.0.1:7401", "http://127.8.9.10", "http://localhost:7401/", "http://[::1]:7401"])
    func plainHTTPToALoopbackSimulatorIsAllowed(_ url: String) {
        #expect(Self.refusal { $0.wechatBaseURL = url } == nil)
    }

    // MARK: - The file

    private static func fileRefusal(_ json: String, environment: [String: String] = [:]) -> String? {
        do {
            let file = try ConfigurationFileTests.load(json)
            var configuration = ServerConfiguration()
            try file.apply(to: &configuration, environment: environment)
            _ = try file.keyring(environment: environment)
            try configuration.validate()
            return nil
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    private static let app = #""apps": [{"app_id": "wx1", "secret": "s"}]"#

    @Test(arguments: [
        (#"{\#(app), "caller": [{"id": "c", "secret": "x", "permissions": ["ALL"]}]}"#, #"unknown key "caller""#),
        (#"{"apps": [{"app_id": "wx1", "secretenv": "S", "secret": "s"}]}"#, #"unknown key "apps[0].secretenv""#),
        (#"{\#(app), "wechat": {"timeout": 3}}"#, #"unknown key "wechat.timeout""#),
        (#"{\#(app), "login_rate_per_app": {"burst": 5, "rate": 1}}"#, #"unknown key "login_rate_per_app.rate""#),
        (#"{\#(app), "keys": [{"id": 1, "secret_hex": "00", "primary": true}]}"#, #"unknown key "keys[0].primary""#),
    ])
    func unknownKeysAreRefusedAtAnyLevel(json: String, expected: String) {
        let message = Self.fileRefusal(json)
        #expect(message?.contains(expected) == true, "\(message ?? "accepted")")
    }

    @Test func fileValuesAreCheckedLikeFlags() {
        #expect(Self.fileRefusal(#"{\#(Self.app), "sweep_interval_seconds": 0}"#)
            == "sweep_interval_seconds (--sweep-interval) must be between 0.1 and 3600 seconds, not 0")
        #expect(Self.fileRefusal(#"{\#(Self.app), "wechat": {"timeout_seconds": 0}}"#)
            == "wechat.timeout_seconds (--wechat-timeout) must be between 0.1 and 120 seconds, not 0")
        #expect(Self.fileRefusal(#"{\#(Self.app), "wechat": {"max_retries": 50}}"#)
            == "wechat.max_retries must be between 0 and 5, not 50")
        #expect(Self.fileRefusal(#"{\#(Self.app), "login_rate_per_user": {"per_second": 1, "per_minute": 60, "burst": 5}}"#)
            == "login_rate_per_user: give per_second or per_minute, not both")
        #expect(Self.fileRefusal(#"{\#(Self.app), "sweep_interval_seconds": 1e300}"#)
            == "sweep_interval_seconds must be a number of seconds, not 1e+300")
    }

    @Test func theReadmeExampleIsValid() throws {
        let json = try ConfigurationFileTests.readmeExample()
        #expect(Self.fileRefusal(json, environment: [
            "WXAUTH_SECRET_WX1234567890ABCDEF": "app-secret", "WXAUTH_KEY_1": String(repeating: "ab", count: 32),
            "WXAUTH_CALLER_GATEWAY": "gateway-secret", "WXAUTH_CALLER_LOGIN": "login-secret",
        ]) == nil)
    }

    @Test func anAllZeroServerKeyIsRefused() {
        let json = #"{\#(Self.app), "keys": [{"id": 1, "secret_hex": "\#(String(repeating: "00", count: 32))"}]}"#
        #expect(Self.fileRefusal(json) == "server key 1 is all zeros; use 32+ random bytes (openssl rand -hex 32)")
    }
}

/// The same refusals from the daemon a user runs: exit 78 (EX_CONFIG) and the message on stderr.
@Suite("wxauthd refuses mistaken values")
struct DaemonConfigurationRefusalTests {
    @Test(arguments: [
        (["--dev", "--port", "0", "--sim-port", "0", "--sweep-interval", "0"],
         "sweep_interval_seconds (--sweep-interval) must be between 0.1 and 3600 seconds, not 0"),
        (["--dev", "--port", "0", "--sim-port", "0", "--max-connections=-5"],
         "max_connections (--max-connections) must be between 1 and 1000000, not -5"),
        (["--dev", "--port", "0", "--sim-port", "0", "--wechat-timeout", "0"],
         "wechat.timeout_seconds (--wechat-timeout) must be between 0.1 and 120 seconds, not 0"),
        (["--dev", "--port", "0", "--sim-port", "0", "--threads", "0"],
         "threads (--threads) must be between 1 and 1024, not 0"),
        (["--dev", "--port", "0", "--sim-port", "0", "--max-sessions=-1"],
         "max_sessions (--max-sessions) must be between 1 and 1000000000, not -1"),
        (["--dev", "--port", "0", "--sim-port", "0", "--sweep-interval", "nan"],
         "--sweep-interval must be a number of seconds, not nan"),
    ])
    func flags(arguments: [String], message: String) throws {
        let outcome = try DaemonBinaryTests.run("wxauthd", arguments)
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    @Test(arguments: [
        (#"{"apps": [{"app_id": "wxabc", "secret": "s"}], "caller": []}"#, #"unknown key "caller""#),
        (#"{"apps": [{"app_id": "wxabc", "secret": "s"}], "max_in_flight_per_connection": 0}"#,
         "max_in_flight_per_connection must be between 1 and 65536, not 0"),
        (#"{"apps": [{"app_id": "wxabc", "secret": "s"}], "wechat": {"base_url": "http://api.weixin.qq.com"}}"#,
         "plain http is allowed only with --dev or to a loopback host"),
    ])
    func files(json: String, message: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wxauthd-\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try DaemonBinaryTests.run("wxauthd", ["--config", path, "--port", "0"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }
}
