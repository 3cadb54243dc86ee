import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx on a free loopback port, with its own configuration generated from deploy/nginx/wxauth.conf in a
/// temporary directory; always stopped by `with`.
struct NginxUnderTest {
    let port: Int
    let directory: URL
    private let process: Process

    static var binary: String? {
        let candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// CI installs nginx and sets this, so a missing nginx fails there instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["WXAUTH_REQUIRE_NGINX"] == "1" }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func with<R>(wxauthdHTTPPort: Int, upstreamPort: Int, _ body: (NginxUnderTest) async throws -> R) async throws -> R {
        let nginx = try await start(wxauthdHTTPPort: wxauthdHTTPPort, upstreamPort: upstreamPort)
        do {
            let result = try await body(nginx)
            nginx.stop()
            return result
        } catch {
            nginx.stop()
            throw error
        }
    }

    /// deploy/nginx/wxauth.conf with its three addresses pointed at the test's processes. Each must be found, so
    /// the test notices when the shipped file changes shape.
    static func siteConfiguration(wxauthdHTTPPort: Int, upstreamPort: Int, listenPort: Int) throws -> String {
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("deploy/nginx/wxauth.conf"), encoding: .utf8)
        for (shipped, test) in [
            ("server 127.0.0.1:7402;", "server 127.0.0.1:\(wxauthdHTTPPort);"),
            ("server 127.0.0.1:8080;", "server 127.0.0.1:\(upstreamPort);"),
            ("listen 127.0.0.1:8000;", "listen 127.0.0.1:\(listenPort);"),
        ] {
            guard text.contains(shipped) else { throw EdgeTestFailure("deploy/nginx/wxauth.conf no longer contains \(shipped)") }
            text = text.replacingOccurrences(of: shipped, with: test)
        }
        return text
    }

    static func start(wxauthdHTTPPort: Int, upstreamPort: Int) async throws -> NginxUnderTest {
        guard let binary else { throw EdgeTestFailure("nginx is not installed (apt-get install nginx)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxauth-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let port = try FreePort.find()
        try siteConfiguration(wxauthdHTTPPort: wxauthdHTTPPort, upstreamPort: upstreamPort, listenPort: port)
            .write(to: directory.appendingPathComponent("wxauth.conf"), atomically: true, encoding: .utf8)
        let path = directory.path
        let main = """
            daemon off;
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log info;
            events { worker_connections 128; }
            http {
                access_log \(path)/access.log;
                client_body_temp_path \(path)/client_body;
                proxy_temp_path \(path)/proxy;
                fastcgi_temp_path \(path)/fastcgi;
                uwsgi_temp_path \(path)/uwsgi;
                scgi_temp_path \(path)/scgi;
                include \(path)/wxauth.conf;
            }
            """
        try main.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-p", path, "-c", "\(path)/nginx.conf", "-e", "\(path)/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let nginx = NginxUnderTest(port: port, directory: directory, process: process)
        // Ready when it accepts connections; bounded, and a dead nginx ends the wait at once.
        for _ in 0..<200 {
            if !process.isRunning {
                let log = (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
                nginx.stop()
                throw EdgeTestFailure("nginx exited at start: \(log)")
            }
            if FreePort.accepts(port) { return nginx }
            try await Task.sleep(for: .milliseconds(50))
        }
        nginx.stop()
        throw EdgeTestFailure("nginx did not start listening on \(port)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
}

enum FreePort {
    /// A port the kernel just handed out on 127.0.0.1 (free at that moment).
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EdgeTestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw EdgeTestFailure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
