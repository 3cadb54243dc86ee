import ArgumentParser
import Dispatch
import Foundation
import Logging
import WeChatSimulator

/// `wechat-sim`: runs a `WeChatSimulator` until SIGINT or SIGTERM.
///
/// Prints `{"event":"ready","base_url":"http://127.0.0.1:PORT"}` on stdout once listening; logs go to stderr.
@main
struct WeChatSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wechat-sim",
        abstract: "A local WeChat on loopback (jscode2session, stable_token, getuserphonenumber, checksession, resetusersessionkey), with a /sim/ control API (code, encrypt, phone-code, expire-access-tokens, fault, latency, stats)."
    )

    @Option(help: "Loopback address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 7401

    @Option(name: .customLong("app"), help: "An app as APPID:SECRET (repeatable).")
    var apps: [String] = []

    @Option(help: "Fixture JSON with apps and known users.")
    var fixture: String?

    @Option(name: .customLong("latency-ms"), help: "Latency added to every jscode2session answer.")
    var latencyMilliseconds = 0

    @Option(name: .customLong("code-lifetime-s"), help: "How long a minted code stays valid.")
    var codeLifetimeSeconds = 300

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be 0...65535") }
        guard self.latencyMilliseconds >= 0 else { throw ValidationError("--latency-ms must not be negative") }
        guard self.codeLifetimeSeconds > 0 else { throw ValidationError("--code-lifetime-s must be positive") }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("unknown --log-level") }
        for app in self.apps where Self.parseApp(app) == nil {
            throw ValidationError("--app expects APPID:SECRET, got \(app)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "wechat-sim")

        var configuration = try self.fixture.map { try WeChatSimulatorConfiguration.load(fixtureFile: $0) }
            ?? WeChatSimulatorConfiguration()
        for app in self.apps {
            if let (appID, secret) = Self.parseApp(app) {
                configuration.addApp(appID: appID, secret: secret)
            }
        }
        configuration.latency = .milliseconds(self.latencyMilliseconds)
        configuration.codeLifetime = .seconds(self.codeLifetimeSeconds)
        if configuration.apps.isEmpty {
            logger.warning("no apps configured: every jscode2session call will answer 40013 (use --app or --fixture)")
        }

        let signals = TerminationSignals()
        let simulator = WeChatSimulator(configuration: configuration, logger: logger)
        try await simulator.start(host: self.host, port: self.port)
        Self.writeLine(#"{"event":"ready","base_url":"\#(simulator.baseURL)"}"#)

        let signal = await signals.next()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        try await simulator.shutdown()
    }

    /// "APPID:SECRET" split at the first colon; both parts non-empty.
    static func parseApp(_ argument: String) -> (String, String)? {
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        let appID = String(argument[..<colon])
        let secret = String(argument[argument.index(after: colon)...])
        return appID.isEmpty || secret.isEmpty ? nil : (appID, secret)
    }

    /// Writes one line to stdout unbuffered, so a parent process reading a pipe sees it at once.
    static func writeLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
