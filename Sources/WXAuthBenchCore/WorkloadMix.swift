/// One kind of request a run sends.
public enum BenchOperation: String, Hashable, Sendable, Codable, CaseIterable {
    case validate
    case refresh
    case login
    /// Redis GET of a preloaded key.
    case get
    /// Redis GETEX key EX <idle>: a read that also slides the TTL, like VALIDATE slides the idle deadline.
    case getex
    /// A frame echoed back by the in-process loopback server.
    case echo
}

/// Weighted operations, e.g. `validate=90,refresh=5,login=5`; a bare name means 100% of it.
public struct WorkloadMix: Hashable, Sendable, CustomStringConvertible {
    public private(set) var entries: [(operation: BenchOperation, weight: Int)]
    private let total: Int

    public init(parsing text: String) throws(BenchUsageError) {
        var entries: [(BenchOperation, Int)] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard let operation = BenchOperation(rawValue: pieces[0].trimmingCharacters(in: " ").lowercased()) else {
                throw BenchUsageError("workload \(text): unknown operation \(pieces[0])")
            }
            var weight = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1].trimmingCharacters(in: " ")), parsed >= 0 else {
                    throw BenchUsageError("workload \(text): weight of \(operation.rawValue) must be a whole number")
                }
                weight = parsed
            }
            if weight > 0 { entries.append((operation, weight)) }
        }
        guard !entries.isEmpty else { throw BenchUsageError("workload \(text): nothing to send") }
        self.entries = entries
        self.total = entries.reduce(0) { $0 + $1.1 }
    }

    public init(_ operation: BenchOperation) {
        entries = [(operation, 1)]
        total = 1
    }

    public var operations: [BenchOperation] { entries.map(\.operation) }

    public func contains(_ operation: BenchOperation) -> Bool { entries.contains { $0.operation == operation } }

    /// The share of `operation`, 0...1.
    public func fraction(of operation: BenchOperation) -> Double {
        Double(entries.filter { $0.operation == operation }.reduce(0) { $0 + $1.weight }) / Double(total)
    }

    /// Picks an operation with the configured weights.
    public func pick(using random: inout SplitMix64) -> BenchOperation {
        if entries.count == 1 { return entries[0].operation }
        var draw = random.below(total)
        for entry in entries {
            if draw < entry.weight { return entry.operation }
            draw -= entry.weight
        }
        return entries[entries.count - 1].operation
    }

    public var description: String {
        entries.count == 1 ? entries[0].operation.rawValue : entries.map { "\($0.operation.rawValue)=\($0.weight)" }.joined(separator: ",")
    }

    public static func == (lhs: WorkloadMix, rhs: WorkloadMix) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
