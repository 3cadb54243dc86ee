/// What a run is aimed at: `wxauth://HOST:PORT`, `redis://HOST:PORT`, or `echo://` (an in-process loopback echo
/// server the tool starts itself: the floor every other latency is read against).
public struct BenchTarget: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        case wxauth
        case redis
        case echo
    }

    public var kind: Kind
    public var host: String
    public var port: Int

    public init(kind: Kind, host: String, port: Int) {
        self.kind = kind
        self.host = host
        self.port = port
    }

    /// Parses `SCHEME://HOST:PORT` (port optional: 7400 for wxauth, 6379 for redis, 0 for echo).
    public init(parsing text: String) throws(BenchUsageError) {
        guard let separator = text.range(of: "://") else {
            throw BenchUsageError("target \(text): expected wxauth://HOST:PORT, redis://HOST:PORT or echo://")
        }
        guard let kind = Kind(rawValue: String(text[..<separator.lowerBound]).lowercased()) else {
            throw BenchUsageError("target \(text): unknown scheme (wxauth, redis or echo)")
        }
        var rest = Substring(text[separator.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        var host = "127.0.0.1"
        var port = Self.defaultPort(kind)
        if !rest.isEmpty {
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
                guard let parsed = Int(rest[rest.index(after: colon)...]), (0...65_535).contains(parsed) else {
                    throw BenchUsageError("target \(text): bad port")
                }
                port = parsed
                host = String(rest[..<colon])
            } else {
                host = String(rest)
            }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host == "localhost" { host = "127.0.0.1" }
        }
        guard Self.isLoopback(host) else {
            throw BenchUsageError("target \(text): wxauth-bench only loads loopback addresses (127.0.0.0/8, ::1)")
        }
        self.init(kind: kind, host: host, port: port)
    }

    public static func defaultPort(_ kind: Kind) -> Int {
        switch kind {
        case .wxauth: 7400
        case .redis: 6379
        case .echo: 0
        }
    }

    /// Load is only ever sent to this machine.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public var description: String {
        kind == .echo ? "echo://" : "\(kind.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// A mistake in the command line or in an input file, said in words.
public struct BenchUsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
