/// What one load run measured. One JSON object per run (`--json`); `wxauth-bench report` reads them back.
public struct BenchResult: Codable, Sendable {
    public var record = "run"
    public var target: String
    public var kind: BenchTarget.Kind
    public var workload: String
    public var connections: Int
    public var pipeline: Int
    /// Requests per second asked for (open loop); nil for closed loop.
    public var openLoopRate: Double?
    public var warmupSeconds: Double
    public var measuredSeconds: Double
    /// Replies received inside the measured window, errors included.
    public var operations: UInt64
    public var throughput: Double
    public var latency: LatencySummary
    /// Replies per status name ("OK", "INVALID_TOKEN", "ERR", "NIL", "TIMEOUT", ...), measured window only.
    public var statuses: [String: UInt64]
    public var operationsByKind: [String: UInt64]
    public var server: ServerCost?
    public var notes: [String]
    /// "release" or "debug" (the tool's own build: a debug load generator is not a measurement).
    public var build: String

    public init(
        target: String, kind: BenchTarget.Kind, workload: String, connections: Int, pipeline: Int,
        openLoopRate: Double?, warmupSeconds: Double, measuredSeconds: Double, operations: UInt64,
        latency: LatencySummary, statuses: [String: UInt64], operationsByKind: [String: UInt64],
        server: ServerCost?, notes: [String], build: String
    ) {
        self.target = target
        self.kind = kind
        self.workload = workload
        self.connections = connections
        self.pipeline = pipeline
        self.openLoopRate = openLoopRate
        self.warmupSeconds = warmupSeconds
        self.measuredSeconds = measuredSeconds
        self.operations = operations
        self.throughput = measuredSeconds > 0 ? Double(operations) / measuredSeconds : 0
        self.latency = latency
        self.statuses = statuses
        self.operationsByKind = operationsByKind
        self.server = server
        self.notes = notes
        self.build = build
    }

    public var errorCount: UInt64 { statuses.filter { $0.key != "OK" }.values.reduce(0, +) }

    /// "C=50 P=16" or "open 20000/s C=50".
    public var cellName: String {
        if let openLoopRate { return "open \(Int(openLoopRate))/s C=\(connections)" }
        return "C=\(connections) P=\(pipeline)"
    }
}

/// The server's side of a run: CPU it burnt during the measured window and its memory at the end.
public struct ServerCost: Codable, Sendable, Hashable {
    public var pid: Int32
    public var cpuSeconds: Double
    public var cpuSecondsPerMillionOps: Double
    public var rssBytes: Int?
    /// Redis only: INFO used_memory at the end of the run.
    public var usedMemoryBytes: Int?

    public init(pid: Int32, cpuSeconds: Double, operations: UInt64, rssBytes: Int?, usedMemoryBytes: Int?) {
        self.pid = pid
        self.cpuSeconds = cpuSeconds
        self.cpuSecondsPerMillionOps = operations > 0 ? cpuSeconds / Double(operations) * 1_000_000 : 0
        self.rssBytes = rssBytes
        self.usedMemoryBytes = usedMemoryBytes
    }
}

/// What holding N sessions (or N keys) costs a server in memory.
public struct MemoryReport: Codable, Sendable, Hashable {
    public var record = "memory"
    public var kind: BenchTarget.Kind
    public var items: Int
    public var seconds: Double
    public var rssBeforeBytes: Int
    public var rssAfterBytes: Int
    public var rssBytesPerItem: Double
    /// Redis only: INFO used_memory growth per key (the allocator's count, without fragmentation).
    public var usedMemoryBytesPerItem: Double?
    public var valueBytes: Int?
    public var notes: [String]

    public init(
        kind: BenchTarget.Kind, items: Int, seconds: Double, rssBeforeBytes: Int, rssAfterBytes: Int,
        usedMemoryBefore: Int? = nil, usedMemoryAfter: Int? = nil, valueBytes: Int? = nil, notes: [String] = []
    ) {
        self.kind = kind
        self.items = items
        self.seconds = seconds
        self.rssBeforeBytes = rssBeforeBytes
        self.rssAfterBytes = rssAfterBytes
        self.rssBytesPerItem = items > 0 ? Double(rssAfterBytes - rssBeforeBytes) / Double(items) : 0
        if let usedMemoryBefore, let usedMemoryAfter, items > 0 {
            self.usedMemoryBytesPerItem = Double(usedMemoryAfter - usedMemoryBefore) / Double(items)
        }
        self.valueBytes = valueBytes
        self.notes = notes
    }
}

/// The line `wxauthd --dev --preload-sessions N` prints on stdout once the sessions are in the store.
public struct PreloadLine: Codable, Sendable, Hashable {
    public var event: String
    public var sessions: Int
    public var seconds: Double
    public var rss_before_bytes: Int
    public var rss_after_bytes: Int
    public var tokens_file: String

    public init(sessions: Int, seconds: Double, rssBeforeBytes: Int, rssAfterBytes: Int, tokensFile: String) {
        event = "preloaded"
        self.sessions = sessions
        self.seconds = seconds
        rss_before_bytes = rssBeforeBytes
        rss_after_bytes = rssAfterBytes
        tokens_file = tokensFile
    }

    public var memoryReport: MemoryReport {
        MemoryReport(
            kind: .wxauth, items: sessions, seconds: seconds, rssBeforeBytes: rss_before_bytes,
            rssAfterBytes: rss_after_bytes,
            notes: ["measured by wxauthd itself (/proc/self/statm) around its --preload-sessions loop"]
        )
    }
}
