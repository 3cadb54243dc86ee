import Foundation

/// One `wxauthd --dev` process on loopback, started from the built binary (`swift build` first), with its
/// embedded WeChat simulator. Each node has its own sessions (the in-memory store).
final class DevNode: @unchecked Sendable {
    static let buildDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug")

    let process: Process
    let port: Int
    let simulatorURL: String

    init() throws {
        let process = Process()
        process.executableURL = try Self.executable("wxauthd")
        process.arguments = ["--dev", "--port", "0", "--sim-port", "0", "--log-level", "warning"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let ready = try JSONSerialization.jsonObject(with: line.prefix { $0 != UInt8(ascii: "\n") }) as? [String: Any]
        guard ready?["event"] as? String == "ready", let port = ready?["port"] as? Int,
              let simulator = ready?["simulator"] as? String else {
            process.terminate()
            throw DevNodeError("wxauthd --dev printed no ready line")
        }
        self.process = process
        self.port = port
        self.simulatorURL = simulator
    }

    /// kill -9: the node vanishes without a graceful shutdown.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM: a graceful shutdown.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// A fresh `wx.login` code from this node's simulator.
    func mintCode(user: String) throws -> String {
        let mint = Process()
        mint.executableURL = try Self.executable("wxauth")
        mint.arguments = ["mint-code", "--sim", simulatorURL, "--user", user, "--json"]
        let out = Pipe()
        mint.standardOutput = out
        try mint.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        mint.waitUntilExit()
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let code = object["code"] as? String else { throw DevNodeError("wxauth mint-code gave no code") }
        return code
    }

    static func executable(_ name: String) throws -> URL {
        let url = buildDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw DevNodeError("\(url.path) is missing: run `swift build` first")
        }
        return url
    }
}

struct DevNodeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
