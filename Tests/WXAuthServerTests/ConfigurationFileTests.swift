import Foundation
import Testing
import WXAuthProtocol
import WXAuthServer
import WXAuthSessions

/// The configuration example in README.md is parsed as wxauthd would parse it, so the README stays true.
@Suite("Configuration file")
struct ConfigurationFileTests {
    static func readmeExample() throws -> String {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "```json\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    static func load(_ json: String) throws -> ConfigurationFile {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wxauthd-\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigurationFile.load(path: path)
    }

    @Test func theReadmeExampleConfiguresEverythingItNames() throws {
        let file = try Self.load(try Self.readmeExample())
        let environment = [
            "WXAUTH_SECRET_WX1234567890ABCDEF": "app-secret",
            "WXAUTH_KEY_1": String(repeating: "ab", count: 32),
            "WXAUTH_CALLER_GATEWAY": "gateway-secret",
            "WXAUTH_CALLER_LOGIN": "login-secret",
        ]
        var configuration = ServerConfiguration()
        try file.apply(to: &configuration, environment: environment)
        #expect(configuration.apps.map(\.appID) == ["wx1234567890abcdef"])
        #expect(configuration.apps.first?.secret == "app-secret")
        #expect(configuration.apps.first?.idleTimeoutMilliseconds == 1_800_000)
        #expect(configuration.callers.first { $0.id == "api-gateway" }?.permissions == [.validate])
        #expect(configuration.callers.first { $0.id == "login-svc" }?.permissions == .all)
        #expect(configuration.upstream.maxRetries == 2)
        #expect(configuration.loginRatePerUser.burst == 10)
        #expect(configuration.http.port == 7402)
        #expect(configuration.http.trustedProxies == ["127.0.0.1"])
        let keyring = try #require(try file.keyring(environment: environment))
        #expect(keyring.primaryKeyID == 1)
    }

    @Test func aMissingSecretVariableIsNamed() throws {
        let file = try Self.load(try Self.readmeExample())
        var configuration = ServerConfiguration()
        let error = #expect(throws: ConfigurationError.self) { try file.apply(to: &configuration, environment: [:]) }
        #expect(error?.description.contains("WXAUTH_SECRET_WX1234567890ABCDEF") == true)
    }

    @Test func unknownPermissionsAreRefused() throws {
        let file = try Self.load("""
            {"apps": [{"app_id": "wx1", "secret": "s"}], "callers": [{"id": "c", "secret": "x", "permissions": ["EVERYTHING"]}]}
            """)
        var configuration = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try file.apply(to: &configuration, environment: [:]) }
    }

    @Test func theHTTPEdgeSectionIsReadAndChecked() throws {
        let file = try Self.load("""
            {"apps": [{"app_id": "wx1", "secret": "s"}],
             "http": {"port": 7402, "host": "127.0.0.1", "public_routes": ["login", "auth"], "token_header": "X-Token",
                      "token_cookie": "sid", "trusted_proxies": ["10.0.0.1"], "login_rate_per_client": {"per_minute": 30, "burst": 5},
                      "max_body_bytes": 4096}}
            """)
        var configuration = ServerConfiguration()
        try file.apply(to: &configuration, environment: [:])
        #expect(configuration.http.port == 7402)
        #expect(configuration.http.publicRoutes == [.login, .auth])
        #expect(configuration.http.tokenHeader == "X-Token")
        #expect(configuration.http.tokenCookie == "sid")
        #expect(configuration.http.trustedProxies == ["10.0.0.1"])
        #expect(configuration.http.loginRatePerClient == RateLimit(perSecond: 0.5, burst: 5))
        #expect(configuration.http.maxBodyBytes == 4096)
        #expect(file.givesHTTPPublicRoutes)
        try configuration.validate()
    }

    @Test func httpMistakesAreRefused() throws {
        #expect(throws: ConfigurationError.self) {
            _ = try Self.load(#"{"http": {"prot": 7402}}"#)
        }
        let unknownRoute = try Self.load(#"{"http": {"public_routes": ["login", "admin"]}}"#)
        var configuration = ServerConfiguration()
        let error = #expect(throws: ConfigurationError.self) { try unknownRoute.apply(to: &configuration, environment: [:]) }
        #expect(error?.description.contains("admin") == true)
        configuration = ServerConfiguration()
        configuration.apps = [AppConfiguration(appID: "wx1", secret: "s")]
        configuration.http.port = 70_000
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.http.port = 0
        configuration.http.tokenHeader = "Bad Header:"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
