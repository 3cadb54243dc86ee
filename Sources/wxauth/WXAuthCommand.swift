import ArgumentParser
import WXAuthClient
import WXAuthProtocol

@main
struct WXAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wxauth",
        abstract: "Talk to wxauthd: log in with a wx.login code, validate, refresh and revoke session tokens, decrypt user data.",
        discussion: Output.exitCodeHelp,
        subcommands: [
            Ping.self, Login.self, Validate.self, Refresh.self, Revoke.self, RevokeUser.self,
            DecryptData.self, VerifySignature.self, PhoneNumberCommand.self, CheckSessionKey.self, ResetSessionKey.self,
            DecryptOffline.self, MintCode.self, Demo.self,
        ]
    )
}

/// Runs `body` against a connected client, turning failures into the documented exit codes.
func withClient(_ options: ConnectionOptions, _ body: (WXAuthClient) async throws -> Void) async throws {
    let client: WXAuthClient
    do {
        client = try await options.connect()
    } catch {
        throw Output.fail(error, json: options.json)
    }
    do {
        try await body(client)
        try? await client.close()
    } catch {
        try? await client.close()
        throw Output.fail(error, json: options.json)
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that wxauthd answers.")
    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        try await withClient(options) { client in
            let started = ContinuousClock.now
            let time = try await client.ping()
            let elapsed = ContinuousClock.now - started
            Output.emit([("ok", true), ("server_time", Output.iso(time)), ("rtt_ms", milliseconds(elapsed))], json: options.json)
        }
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exchange a wx.login code for a session token.")
    @OptionGroup var options: ConnectionOptions
    @Option(name: .customLong("app"), help: "The mini program's app id.") var appID: String
    @Option(help: "The code from wx.login.") var code: String

    func run() async throws {
        try await withClient(options) { client in
            let issued = try await client.login(appID: appID, code: code)
            Output.emit([("ok", true), ("token", issued.token)] + Output.sessionFields(issued.session), json: options.json)
        }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a token (and slide its idle deadline).")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String
    @Option(help: "Measure instead: this many sequential VALIDATEs on one connection (after 1,000 unmeasured), then print the latency percentiles.")
    var `repeat`: Int?

    func run() async throws {
        try await withClient(options) { client in
            if let count = `repeat` {
                guard count > 0 else { throw ValidationError("--repeat must be positive") }
                for _ in 0..<1000 { _ = try await client.validate(token: token) }
                var latencies: [Duration] = []
                latencies.reserveCapacity(count)
                let started = ContinuousClock.now
                for _ in 0..<count {
                    let sent = ContinuousClock.now
                    _ = try await client.validate(token: token)
                    latencies.append(ContinuousClock.now - sent)
                }
                let total = ContinuousClock.now - started
                latencies.sort()
                func micros(_ duration: Duration) -> Double { Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6 }
                print(String(format: "swift: VALIDATE x%d sequential on one connection: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us, %.0f calls/s",
                             count, micros(latencies[count / 2]), micros(latencies[count * 9 / 10]), micros(latencies[count * 99 / 100]),
                             micros(latencies[count - 1]), Double(count) / (micros(total) / 1e6)))
                return
            }
            let session = try await client.validate(token: token)
            Output.emit([("ok", true)] + Output.sessionFields(session), json: options.json)
        }
    }
}

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rotate a token: prints the new one; the old one stops working.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String

    func run() async throws {
        try await withClient(options) { client in
            let issued = try await client.refresh(token: token)
            Output.emit([("ok", true), ("token", issued.token)] + Output.sessionFields(issued.session), json: options.json)
        }
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End a session now.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String

    func run() async throws {
        try await withClient(options) { client in
            try await client.revoke(token: token)
            Output.emit([("ok", true), ("revoked", true)], json: options.json)
        }
    }
}

struct RevokeUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-user", abstract: "End every session of one user.")
    @OptionGroup var options: ConnectionOptions
    @Option(name: .customLong("app"), help: "The mini program's app id.") var appID: String
    @Option(help: "The user's openid.") var openid: String

    func run() async throws {
        try await withClient(options) { client in
            let count = try await client.revokeUser(appID: appID, openid: openid)
            Output.emit([("ok", true), ("revoked", count)], json: options.json)
        }
    }
}

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        return (self * factor).rounded() / factor
    }
}
