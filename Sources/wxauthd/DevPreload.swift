import Foundation
import Synchronization
import WXAuthServer
import WXAuthSessions

/// `wxauthd --dev --preload-sessions N`: a benchmark aid that puts N sessions straight into the store at start,
/// without N LOGINs through the simulator's HTTP jscode2session (which takes minutes for a million), and writes
/// their tokens to a file for `wxauth-bench --tokens`. The sessions are made by the same `SessionStore.create`
/// a LOGIN ends in (same record, same HMAC seal, same token), for users that exist nowhere but here.
/// Refused without --dev.
enum DevPreload {
    struct Report: Encodable {
        var event = "preloaded"
        var sessions: Int
        var seconds: Double
        var rss_before_bytes: Int
        var rss_after_bytes: Int
        var tokens_file: String
    }

    static func run(store: SessionStore, appID: String, count: Int, tokensPath: String) throws {
        let rssBefore = residentBytes()
        let started = ContinuousClock.now
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let outputs = Mutex<[[UInt8]]>(Array(repeating: [], count: workers))
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let lower = count * worker / workers, upper = count * (worker + 1) / workers
            var tokens: [UInt8] = []
            tokens.reserveCapacity((upper - lower) * 45)
            var generator = SystemRandomNumberGenerator()
            for index in lower..<upper {
                var keyBytes = [UInt8](repeating: 0, count: 16)
                for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255, using: &generator) }
                do {
                    let issued = try store.create(
                        appID: appID, openid: openid(index), unionid: nil,
                        sessionKeyBase64: Data(keyBytes).base64EncodedString()
                    )
                    tokens.append(contentsOf: issued.token.utf8)
                    tokens.append(UInt8(ascii: "\n"))
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    break
                }
            }
            outputs.withLock { $0[worker] = tokens }
        }
        if let failure = failures.withLock({ $0.first }) {
            throw ConfigurationError("--preload-sessions failed: \(failure) (raise --max-sessions?)")
        }
        // Write the tokens and free them before reading RSS again: only the sessions should be counted.
        guard FileManager.default.createFile(atPath: tokensPath, contents: nil),
              let file = FileHandle(forWritingAtPath: tokensPath)
        else {
            throw ConfigurationError("--preload-tokens: cannot write \(tokensPath)")
        }
        for worker in 0..<workers {
            let chunk = outputs.withLock { outputs in
                defer { outputs[worker] = [] }
                return outputs[worker]
            }
            try file.write(contentsOf: chunk)
        }
        try file.close()
        let report = Report(
            sessions: count, seconds: (ContinuousClock.now - started) / .seconds(1), rss_before_bytes: rssBefore,
            rss_after_bytes: residentBytes(), tokens_file: tokensPath
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
    }

    /// A 28-character openid like WeChat's ("o" + 27 characters), distinct per index.
    static func openid(_ index: Int) -> String {
        let digits = String(index)
        return "obench" + String(repeating: "0", count: max(0, 22 - digits.count)) + digits
    }

    /// This process's resident set size (/proc/self/statm, Linux).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
