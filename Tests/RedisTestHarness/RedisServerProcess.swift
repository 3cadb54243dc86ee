import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `redis-server` child process on a loopback port, with its files in a temporary directory. Stopped with
/// SIGKILL by `stop()` (after SIGCONT, in case a test paused it); tests always reach `stop()` through the fixtures'
/// `defer`s.
public final class RedisServerProcess: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public init(port: Int, directory: URL, arguments: [String]) throws {
        self.port = port
        self.directory = directory.appendingPathComponent("node-\(port)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try RedisTools.path("redis-server"))
        process.currentDirectoryURL = self.directory
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--enable-debug-command", "yes",
                             "--logfile", self.directory.appendingPathComponent("redis.log").path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits until the server answers PING.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? RedisTools.cli(port: port, ["PING"]))?.contains("PONG") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("redis-server on port \(port) did not start; see \(directory.path)/redis.log")
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum RedisTools {
    public static func path(_ tool: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError("\(tool) is not installed (apt-get install redis-server redis-tools)")
    }

    /// Runs redis-cli against a loopback port and answers its standard output.
    @discardableResult
    public static func cli(port: Int, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path("redis-cli"))
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `count` distinct loopback ports that are free now, each with port+10000 free too (the cluster bus).
    public static func freePorts(_ count: Int) -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let candidate = Int.random(in: 20000..<30000)
            if !ports.contains(candidate), isFree(candidate), isFree(candidate + 10000) { ports.append(candidate) }
        }
        return ports
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wxauth-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
