import ArgumentParser
import Foundation
import WXAuthClient

/// Where wxauthd is and who we are: shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "wxauthd host.")
    var host: String = "127.0.0.1"

    @Option(help: "wxauthd port.")
    var port: Int = 7400

    @Option(help: "Caller id, when the server requires authentication (secret in WXAUTH_CALLER_SECRET).")
    var caller: String?

    @Option(help: "Request timeout in seconds.")
    var timeout: Double = 10

    @Flag(help: "Print JSON for scripts instead of text.")
    var json = false

    func connect() async throws -> WXAuthClient {
        let secret = ProcessInfo.processInfo.environment["WXAUTH_CALLER_SECRET"]
        if caller != nil && (secret ?? "").isEmpty {
            throw ValidationError("--caller needs its secret in the environment variable WXAUTH_CALLER_SECRET")
        }
        do {
            return try await WXAuthClient.connect(
                host: host, port: port, callerID: caller, callerSecret: caller == nil ? nil : secret,
                requestTimeout: .milliseconds(Int64(timeout * 1000))
            )
        } catch let error as WXAuthClientError {
            throw error
        } catch {
            throw CLIFailure.cannotConnect("cannot connect to wxauthd at \(host):\(port): \(error)")
        }
    }
}

/// Failures of the CLI itself (not server answers).
enum CLIFailure: Error, CustomStringConvertible {
    case cannotConnect(String)
    case simulator(String)

    var description: String {
        switch self {
        case .cannotConnect(let message), .simulator(let message): message
        }
    }
}
