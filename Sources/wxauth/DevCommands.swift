import ArgumentParser
import WXAuthClient
import WXAuthProtocol

/// Options for commands that use a WeChat simulator (`wxauthd --dev` or `wechat-sim`).
struct SimulatorOptions: ParsableArguments {
    @Option(help: "The WeChat simulator's base URL (wxauthd --dev prints it).")
    var sim: String = "http://127.0.0.1:7401"

    @Option(name: .customLong("app"), help: "App id (the --dev app by default).")
    var appID: String = "wxdevapp00000001"
}

struct MintCode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint-code", abstract: "Get a fresh login code for a simulated user (what wx.login returns).")
    @OptionGroup var simulator: SimulatorOptions
    @Option(help: "Simulated user name; the same name is always the same openid.") var user: String = "alice"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        do {
            let code = try await SimulatorControl.mintCode(simulatorURL: simulator.sim, appID: simulator.appID, user: user)
            Output.emit([("code", code), ("app_id", simulator.appID), ("user", user)], json: json)
        } catch {
            throw Output.fail(error, json: json)
        }
    }
}

/// The whole flow against a `wxauthd --dev` server, one step per line with its latency.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole login flow against `wxauthd --dev` and print each step with its latency.")
    @OptionGroup var options: ConnectionOptions
    @OptionGroup var simulator: SimulatorOptions
    @Option(help: "Simulated user name.") var user: String = "alice"
    @Option(help: ArgumentHelp(
        "A second wxauthd node (host:port) sharing the first one's store: the LOGIN retry, VALIDATE, REFRESH and REVOKE go there.",
        valueName: "host:port"))
    var secondNode: String?

    func run() async throws {
        var steps: [(String, Double, String)] = []
        func step<T>(_ name: String, _ body: () async throws -> T, describe: (T) -> String) async throws -> T {
            let started = ContinuousClock.now
            let value = try await body()
            let elapsed = milliseconds(ContinuousClock.now - started)
            steps.append((name, elapsed, describe(value)))
            if !options.json {
                print("\(name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(String(format: "%8.3f", elapsed)) ms  \(describe(value))")
            }
            return value
        }
        func rejection(_ body: () async throws -> Void) async -> String {
            do {
                try await body()
                return "ACCEPTED (unexpected!)"
            } catch let error as ServerError {
                return "rejected: \(error.status.name)"
            } catch {
                return "failed: \(error)"
            }
        }

        do {
            if !options.json { print("wxauth demo against \(options.host):\(options.port), simulator \(simulator.sim)\n") }
            let code = try await step("1. wx.login (simulator mints code)", {
                try await SimulatorControl.mintCode(simulatorURL: simulator.sim, appID: simulator.appID, user: user)
            }, describe: { _ in "code for user \(user)" })
            let client = try await options.connect()
            defer { Task { try? await client.close() } }
            // With a second node, the steps alternate between the two: one store, two servers.
            var other = client
            if let secondNode {
                guard let colon = secondNode.lastIndex(of: ":"), let port = Int(secondNode[secondNode.index(after: colon)...]) else {
                    throw ValidationError("--second-node must be host:port")
                }
                var second = options
                second.host = String(secondNode[..<colon])
                second.port = port
                other = try await second.connect()
                if !options.json { print("second node \(secondNode): LOGIN retry, VALIDATE, REFRESH and REVOKE go there\n") }
            }
            defer { if secondNode != nil { Task { [other] in try? await other.close() } } }
            let login = try await step("2. LOGIN (code -> WeChat -> token)", {
                try await client.login(appID: simulator.appID, code: code)
            }, describe: { "openid \($0.session.openid), token \($0.token.prefix(6))..." })
            let retried = try await step("3. LOGIN retried with the same code", {
                try await other.login(appID: simulator.appID, code: code)
            }, describe: { $0.token == login.token ? "same session (a lost reply costs no 40163)" : "DIFFERENT session" })
            _ = try await step("4. VALIDATE token", { try await other.validate(token: login.token) },
                               describe: { "valid until \(Output.iso($0.expiresAt))" })
            let refreshed = try await step("5. REFRESH (rotate token)", { try await other.refresh(token: login.token) },
                                           describe: { "new token \($0.token.prefix(6))..." })
            let oldResult = try await step("6. VALIDATE old token", {
                await rejection { _ = try await client.validate(token: login.token) }
            }, describe: { $0 })
            _ = try await step("7. VALIDATE new token", { try await client.validate(token: refreshed.token) },
                               describe: { "valid, openid \($0.openid)" })
            _ = try await step("8. REVOKE new token", { try await other.revoke(token: refreshed.token) },
                               describe: { _ in "revoked" })
            let newResult = try await step("9. VALIDATE revoked token", {
                await rejection { _ = try await client.validate(token: refreshed.token) }
            }, describe: { $0 })
            let reused = try await step("10. LOGIN with the used code", {
                await rejection { _ = try await client.login(appID: simulator.appID, code: code) }
            }, describe: { $0 })
            // Step 6 of the tutorial: user data, decrypted inside wxauthd (the session_key never leaves it).
            let first = try await step("11. LOGIN (fresh code)", {
                let fresh = try await SimulatorControl.mintCode(simulatorURL: simulator.sim, appID: simulator.appID, user: user)
                return try await client.login(appID: simulator.appID, code: fresh)
            }, describe: { "token \($0.token.prefix(6))..." })
            let second = try await step("12. LOGIN again (new session_key)", {
                let fresh = try await SimulatorControl.mintCode(simulatorURL: simulator.sim, appID: simulator.appID, user: user)
                return try await client.login(appID: simulator.appID, code: fresh)
            }, describe: { "token \($0.token.prefix(6))..., WeChat replaced the user's session_key" })
            let info = try await step("13. wx.getUserInfo (simulator)", {
                try await SimulatorControl.encryptUserData(
                    simulatorURL: simulator.sim, appID: simulator.appID, user: user,
                    data: ["nickName": user, "gender": 1, "city": "Guangzhou", "country": "CN"])
            }, describe: { "encryptedData \($0["encryptedData"]?.count ?? 0) chars, AES-128-CBC" })
            let decrypted = try await step("14. DECRYPT user info", {
                try await client.decrypt(token: second.token, encryptedData: info["encryptedData"] ?? "", iv: info["iv"] ?? "")
            }, describe: { $0.count > 60 ? String($0.prefix(60)) + "..." : $0 })
            let signature = try await step("15. VERIFY_SIGNATURE rawData", {
                do {
                    try await client.verifySignature(
                        token: second.token, rawData: info["rawData"] ?? "", signature: info["signature"] ?? "")
                    return "signature valid"
                } catch let error as ServerError {
                    return "refused: \(error.status.name)"
                }
            }, describe: { $0 })
            let stale = try await step("16. DECRYPT with the older session", {
                await rejection {
                    _ = try await client.decrypt(token: first.token, encryptedData: info["encryptedData"] ?? "", iv: info["iv"] ?? "")
                }
            }, describe: { $0 })
            let phone = try await step("17. PHONE_NUMBER (access token)", {
                let phoneCode = try await SimulatorControl.phoneCode(
                    simulatorURL: simulator.sim, appID: simulator.appID, user: user, phone: "+86 13800138000")
                return try await client.phoneNumber(token: second.token, code: phoneCode)
            }, describe: { "phone \($0.phoneNumber), country code \($0.countryCode)" })
            let current = try await step("18. CHECK_SESSION_KEY", { try await client.checkSessionKey(token: second.token) },
                                         describe: { $0 ? "session_key current at WeChat" : "session_key STALE" })
            if options.json {
                Output.emit(steps.map { ($0.0, ["ms": $0.1, "result": $0.2] as [String: Any]) }, json: true)
            }
            guard oldResult.hasPrefix("rejected"), newResult.hasPrefix("rejected"), reused.hasPrefix("rejected"),
                  retried.token == login.token, decrypted.contains("watermark"), signature == "signature valid",
                  stale.hasPrefix("rejected"), phone.purePhoneNumber == "13800138000", current
            else {
                throw ExitCode(70)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Output.fail(error, json: options.json)
        }
    }
}
