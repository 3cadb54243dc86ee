import Foundation
import Testing
import WXAuthBenchCore

/// Runs the built `wxauth-bench` briefly, as a user would: against its own loopback echo server, and against a
/// spawned `wxauthd --dev` that preloads a few sessions. Proves the tool works end to end; asserts no timings.
/// `scripts/test.sh` builds the executables before the tests run.
@Suite("wxauth-bench end to end", .serialized)
struct BenchToolSmokeTests {
    /// `.build/debug` of this checkout, or `WXAUTH_BIN_DIR` (e.g. a release scratch path's `release` folder).
    static let buildDirectory: URL = {
        if let directory = ProcessInfo.processInfo.environment["WXAUTH_BIN_DIR"] { return URL(fileURLWithPath: directory) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }()

    static func executable(_ name: String) throws -> URL {
        let url = buildDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw SmokeFailure("\(url.path) is missing: run `swift build` first (scripts/test.sh does)")
        }
        return url
    }

    /// Runs the tool to completion (bounded by its own --requests and drain limits) and returns stdout.
    static func bench(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try executable("wxauth-bench")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SmokeFailure("wxauth-bench \(arguments) exited \(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    static func result(_ json: String) throws -> BenchResult {
        try JSONDecoder().decode(BenchResult.self, from: Data(json.utf8))
    }

    @Test func echoFloorRunsInCountMode() throws {
        let run = try Self.result(Self.bench(["run", "echo://", "-c", "2", "-p", "4", "--requests", "400", "--warmup", "0", "--json", "--quiet"]))
        #expect(run.kind == .echo)
        #expect(run.operations == 400)
        #expect(run.statuses == ["OK": 400])
        #expect(run.latency.count == 400)
        let human = try Self.bench(["echo://", "--requests", "50", "--warmup", "0", "--quiet"])
        #expect(human.contains("throughput"))
        #expect(human.contains("p99.9"))
    }

    @Test func openLoopRunsAtARate() throws {
        let run = try Self.result(Self.bench([
            "run", "echo://", "-c", "2", "--rate", "2000", "--duration", "0.5", "--warmup", "0.1", "--json", "--quiet",
        ]))
        #expect(run.openLoopRate == 2000)
        #expect(run.operations > 0)
        #expect(run.errorCount == 0)
    }

    @Test func nonLoopbackTargetsAreRefused() throws {
        #expect(throws: SmokeFailure.self) { _ = try Self.bench(["run", "redis://192.0.2.1:6379", "--requests", "1"]) }
    }

    @Test func validateAndMixedWorkloadsAgainstWxauthd() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxauth-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokens = directory.appendingPathComponent("tokens.txt").path

        let daemon = Process()
        daemon.executableURL = try Self.executable("wxauthd")
        daemon.arguments = ["--dev", "--port", "0", "--sim-port", "0", "--log-level", "warning",
                            "--preload-sessions", "300", "--preload-tokens", tokens]
        let out = Pipe()
        daemon.standardOutput = out
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        // The preloaded line, then the ready line.
        var lines: [String] = []
        var pending = Data()
        let deadline = Date().addingTimeInterval(60)
        while !lines.contains(where: { $0.contains("\"event\":\"ready\"") }) && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending = Data(pending[pending.index(after: newline)...])
            }
        }
        let preloaded = try JSONDecoder().decode(
            PreloadLine.self, from: Data(try #require(lines.first { $0.contains("\"event\":\"preloaded\"") }).utf8)
        )
        #expect(preloaded.sessions == 300)
        let ready = try #require(lines.first { $0.contains("\"event\":\"ready\"") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(ready.utf8)) as? [String: Any])
        let port = try #require(object["port"] as? Int)
        let simulator = try #require(object["simulator"] as? String)

        let validate = try Self.result(Self.bench([
            "run", "wxauth://127.0.0.1:\(port)", "--tokens", tokens, "-c", "2", "-p", "8", "--requests", "600",
            "--warmup", "0", "--server-pid", "\(daemon.processIdentifier)", "--json", "--quiet",
        ]))
        #expect(validate.operations == 600)
        #expect(validate.statuses == ["OK": 600])
        #expect(validate.server?.pid == daemon.processIdentifier)
        #expect(validate.notes.allSatisfy { !$0.contains("did not decode") })

        let mixed = try Self.result(Self.bench([
            "run", "wxauth://127.0.0.1:\(port)", "--tokens", tokens, "--simulator", simulator,
            "--workload", "validate=80,refresh=10,login=10", "--codes", "60", "-c", "2", "-p", "2",
            "--requests", "300", "--warmup", "0", "--json", "--quiet",
        ]))
        #expect(mixed.operations == 300)
        #expect(mixed.errorCount == 0, "statuses: \(mixed.statuses), notes: \(mixed.notes)")
        #expect(mixed.operationsByKind["refresh", default: 0] > 0)
        #expect(mixed.operationsByKind["login", default: 0] > 0)

        // Sessions logged in through the simulator when no token file is given.
        let loggedIn = try Self.result(Self.bench([
            "run", "wxauth://127.0.0.1:\(port)", "--simulator", simulator, "--sessions", "20", "--requests", "100",
            "--warmup", "0", "--json", "--quiet",
        ]))
        #expect(loggedIn.statuses == ["OK": 100])

        // And the report reads it all back.
        let runs = directory.appendingPathComponent("runs.jsonl")
        try ([validate, mixed].map { try String(decoding: JSONEncoder().encode($0), as: UTF8.self) } + [lines.joined(separator: "\n")])
            .joined(separator: "\n").write(to: runs, atomically: true, encoding: .utf8)
        let svg = directory.appendingPathComponent("plot.svg").path
        let markdown = try Self.bench(["report", runs.path, "--svg", svg])
        #expect(markdown.contains("| C=2 P=8 |"))
        #expect(markdown.contains("wxauthd (sessions)"))
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
    }
}

struct SmokeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
