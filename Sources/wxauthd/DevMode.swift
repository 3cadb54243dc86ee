import Foundation
import NIOCore

enum DevMode {
    /// The app id `--dev` serves through the embedded simulator.
    static let appID = "wxdevapp00000001"

    /// `ephemeralKey` and `open` say what `--dev` actually runs with: `--config` may give keys and callers.
    static func printBanner(simulatorURL: String, ephemeralKey: Bool, open: Bool) {
        let key = ephemeralKey
            ? "*  - the server key is EPHEMERAL: every session dies with the process *"
            : "*  - the server key comes from --config (sessions can be persisted)   *"
        let callers = open
            ? "*  - bound to loopback only; no caller authentication (open)           *"
            : "*  - bound to loopback only; callers from --config must AUTH           *"
        let banner = """

            ************************************************************************
            *  wxauthd --dev: DEVELOPMENT MODE. NOT FOR PRODUCTION.                *
            *  - WeChat is the embedded SIMULATOR at \(simulatorURL.padding(toLength: 31, withPad: " ", startingAt: 0))*
            \(key)
            \(callers)
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
    }

    static func print(address: SocketAddress, simulatorURL: String?, devAppID: String?) {
        let line = Line(host: address.ipAddress ?? "?", port: address.port ?? 0, simulator: simulatorURL, dev_app_id: devAppID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(line) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
