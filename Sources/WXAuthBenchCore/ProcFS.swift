/// Readings of another process from Linux's /proc, parsed here without I/O so they can be tested on fixed text.
public enum ProcFS {
    /// CPU time of a process: `utime` and `stime` (fields 14 and 15 of /proc/PID/stat), in clock ticks.
    public struct CPUTicks: Hashable, Sendable {
        public var user: UInt64
        public var system: UInt64
        public var total: UInt64 { user + system }
    }

    /// Parses /proc/PID/stat. The command name (field 2) is in parentheses and may itself contain spaces and
    /// parentheses, so fields are counted from the *last* ')'.
    public static func parseStat(_ text: String) -> CPUTicks? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return CPUTicks(user: user, system: system)
    }

    /// Resident set size in bytes from /proc/PID/statm (second field, in pages).
    public static func parseStatmResidentBytes(_ text: String, pageSize: Int) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * pageSize
    }

    /// The socket inodes listening (state 0A) on `port` in a /proc/net/tcp or /proc/net/tcp6 table.
    public static func listeningInodes(inNetTCP text: String, port: Int) -> [UInt64] {
        var inodes: [UInt64] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[3] == "0A" else { continue }
            guard let colon = fields[1].lastIndex(of: ":"),
                  let localPort = Int(fields[1][fields[1].index(after: colon)...], radix: 16),
                  localPort == port, let inode = UInt64(fields[9]), inode != 0
            else { continue }
            inodes.append(inode)
        }
        return inodes
    }

    /// The inode of a `socket:[N]` link target in /proc/PID/fd.
    public static func socketInode(fromLink target: String) -> UInt64? {
        guard target.hasPrefix("socket:["), target.hasSuffix("]") else { return nil }
        return UInt64(target.dropFirst(8).dropLast())
    }
}
