import Foundation

/// The JSON line `wxauthd` prints on stdout once it listens (`{"event": "ready", "host", "port", ...}`), read from
/// the pipe its stdout goes to. Empty when the process exited before printing it.
enum DaemonReadyLine {
    static func read(from stdout: Pipe) throws -> [String: Any] {
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let object = try JSONSerialization.jsonObject(with: line.prefix { $0 != UInt8(ascii: "\n") })
        return object as? [String: Any] ?? [:]
    }
}
