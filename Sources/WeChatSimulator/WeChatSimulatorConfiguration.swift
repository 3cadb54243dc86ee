#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a `WeChatSimulator` starts with. Immutable once the simulator is created.
///
/// A fixture seeds apps and known users:
/// `{"apps":[{"appid":"wx..","secret":"..","users":[{"user":"alice","openid":"..","session_key":"..","unionid":".."}]}]}`
/// (`users` and `unionid` optional). Users not in the fixture get a random identity on first use.
public struct WeChatSimulatorConfiguration: Sendable {
    /// appid -> app secret.
    public var apps: [String: String]
    /// Users with a fixed identity; their `appID` must be in `apps`.
    public var users: [WeChatSimulatedUser]
    /// How long a minted code stays exchangeable. Default 5 minutes, like WeChat.
    public var codeLifetime: Duration
    /// Latency added to every jscode2session answer. Default none.
    public var latency: Duration
    /// Larger request bodies get HTTP 413. Default 64 KiB.
    public var maximumRequestBodyBytes: Int
    /// How long an access token from `stable_token` lives. Default 7200 s, like WeChat.
    public var accessTokenLifetime: Duration = .seconds(7200)

    /// - Parameters:
    ///   - apps: appid -> secret.
    ///   - users: users with a fixed identity.
    ///   - codeLifetime: default 5 minutes.
    ///   - latency: added to every jscode2session answer; default zero.
    ///   - maximumRequestBodyBytes: default 64 KiB.
    public init(
        apps: [String: String] = [:],
        users: [WeChatSimulatedUser] = [],
        codeLifetime: Duration = .seconds(300),
        latency: Duration = .zero,
        maximumRequestBodyBytes: Int = 64 * 1024
    ) {
        self.apps = apps
        self.users = users
        self.codeLifetime = codeLifetime
        self.latency = latency
        self.maximumRequestBodyBytes = maximumRequestBodyBytes
    }

    /// A configuration seeded from fixture JSON (other settings at their defaults).
    public init(fixtureData: Data) throws(WeChatSimulatorError) {
        self.init()
        let fixture: Fixture
        do {
            fixture = try JSONDecoder().decode(Fixture.self, from: fixtureData)
        } catch {
            throw WeChatSimulatorError(.invalidFixture, "fixture is not valid JSON of the expected shape: \(error)")
        }
        for app in fixture.apps {
            guard !app.appid.isEmpty, !app.secret.isEmpty else {
                throw WeChatSimulatorError(.invalidFixture, "an app has an empty appid or secret")
            }
            guard self.apps[app.appid] == nil else {
                throw WeChatSimulatorError(.invalidFixture, "app \(app.appid) appears twice")
            }
            self.apps[app.appid] = app.secret
            var names: Set<String> = []
            var openids: Set<String> = []
            for user in app.users ?? [] {
                guard !user.user.isEmpty, !user.openid.isEmpty, !user.sessionKey.isEmpty else {
                    throw WeChatSimulatorError(.invalidFixture, "a user of \(app.appid) has an empty field")
                }
                guard names.insert(user.user).inserted, openids.insert(user.openid).inserted else {
                    throw WeChatSimulatorError(.invalidFixture, "user \(user.user) of \(app.appid) is not unique")
                }
                self.users.append(
                    WeChatSimulatedUser(
                        appID: app.appid,
                        user: user.user,
                        openid: user.openid,
                        sessionKey: user.sessionKey,
                        unionid: user.unionid
                    )
                )
            }
        }
    }

    /// A configuration seeded from a fixture file.
    public static func load(fixtureFile path: String) throws(WeChatSimulatorError) -> WeChatSimulatorConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw WeChatSimulatorError(.invalidFixture, "cannot read fixture file \(path): \(error)")
        }
        return try WeChatSimulatorConfiguration(fixtureData: data)
    }

    /// Adds (or replaces the secret of) an app.
    public mutating func addApp(appID: String, secret: String) {
        self.apps[appID] = secret
    }

    /// The fixture file's shape.
    private struct Fixture: Decodable {
        struct App: Decodable {
            var appid: String
            var secret: String
            var users: [User]?
        }

        struct User: Decodable {
            var user: String
            var openid: String
            var sessionKey: String
            var unionid: String?

            enum CodingKeys: String, CodingKey {
                case user
                case openid
                case sessionKey = "session_key"
                case unionid
            }
        }

        var apps: [App]
    }
}
