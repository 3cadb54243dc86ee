import Foundation
import NIOCore

enum DevMode {
    /// The app id `--dev` serves through the embedded simulator.
    static let appID = "wxdevapp00000001"
    /// The HTTP edge's port in `--dev` (unless `--http-port`, or `--port 0`, which makes it 0 too).
    static let httpPort = 7402

    /// `ephemeralKey` and `open` say what `--dev` actually runs with: `--config` may give keys and callers.
    static func printBanner(simulatorURL: String, ephemeralKey: Bool, open: Bool, httpPort: Int?) {
        let key = ephemeralKey
            ? "*  - the server key is EPHEMERAL: every session dies with the process *"
            : "*  - the server key comes from --config (sessions can be persisted)   *"
        let callers = open
            ? "*  - bound to loopback only; no caller authentication (open)           *"
            : "*  - bound to loopback only; callers from --config must AUTH           *"
        let edge = switch httpPort {
        case nil: "off"
        case 0: "on a free loopback port (see the ready line)"
        case let port?: "http://127.0.0.1:\(port)/v1/login, /v1/auth"
        }
        let http = "*  - HTTP edge: \(edge)".padding(toLength: 71, withPad: " ", startingAt: 0) + "*"
        let banner = """

            ************************************************************************
            *  wxauthd --dev: DEVELOPMENT MODE. NOT FOR PRODUCTION.                *
            *  - WeChat is the embedded SIMULATOR at \(simulatorURL.padding(toLength: 31, withPad: " ", startingAt: 0))*
            \(key)
            \(callers)
            \(http)
            *  - dev app id: \(appID)                                       *
            *  Mint a login code: wxauth mint-code --user alice                    *
            ************************************************************************

            """
        FileHandle.standardError.write(Data(banner.utf8))
    }
}

/// The one machine-readable line on stdout once the server listens (tests and scripts wait for it).
enum ReadyLine {
    private struct Line: Encodable {
        var event = "ready"
        var host: String
        var port: Int
        var simulator: String?
        var dev_app_id: String?
        /// The HTTP edge's port, when it is on.
        var http_port: Int?
    }

    static func print(address: SocketAddress, httpAddress: SocketAddress?, simulatorURL: String?, devAppID: String?) {
        let line = Line(
            host: address.ipAddress ?? "?", port: address.port ?? 0, simulator: simulatorURL, dev_app_id: devAppID,
            http_port: httpAddress?.port
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(line) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// Prints the ready line once every listener is up: the binary port, and the HTTP edge's when it is on.
actor ReadyGate {
    private let expectsHTTP: Bool
    private let ready: @Sendable (SocketAddress, SocketAddress?) -> Void
    private var binary: SocketAddress?
    private var http: SocketAddress?
    private var printed = false

    init(expectsHTTP: Bool, ready: @escaping @Sendable (SocketAddress, SocketAddress?) -> Void) {
        self.expectsHTTP = expectsHTTP
        self.ready = ready
    }

    func binaryListening(_ address: SocketAddress) {
        binary = address
        printIfReady()
    }

    func httpListening(_ address: SocketAddress) {
        http = address
        printIfReady()
    }

    private func printIfReady() {
        guard !printed, let binary, !expectsHTTP || http != nil else { return }
        printed = true
        ready(binary, http)
    }
}
