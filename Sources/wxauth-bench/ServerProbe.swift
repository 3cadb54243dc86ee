import Foundation
import WXAuthBenchCore

/// Reads a server process's CPU time and resident memory from /proc (Linux).
struct ServerProbe: Sendable {
    let pid: Int32
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// utime + stime so far, in seconds.
    func cpuSeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let ticks = ProcFS.parseStat(text) else { return nil }
        return Double(ticks.total) / Self.ticksPerSecond
    }

    func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        return ProcFS.parseStatmResidentBytes(text, pageSize: Self.pageSize)
    }

    /// The process with a socket listening on `port` (by the listening socket's inode), when this user may see it.
    static func find(listeningOn port: Int) -> ServerProbe? {
        var inodes: Set<UInt64> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let text = try? String(contentsOfFile: table, encoding: .utf8) {
                inodes.formUnion(ProcFS.listeningInodes(inNetTCP: text, port: port))
            }
        }
        guard !inodes.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid(),
                  let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for fd in fds {
                guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"),
                      let inode = ProcFS.socketInode(fromLink: link) else { continue }
                if inodes.contains(inode) { return ServerProbe(pid: pid) }
            }
        }
        return nil
    }
}
