/// Fixed-length keys (session tokens, or Redis keys shaped like them) in one flat byte array: a million of them
/// cost 44 MB and no per-key allocation, and picking one is an index computation.
public struct KeySet: Sendable {
    public let keyLength: Int
    public private(set) var bytes: [UInt8]

    public var count: Int { bytes.count / keyLength }

    public init(keyLength: Int) {
        precondition(keyLength > 0)
        self.keyLength = keyLength
        self.bytes = []
    }

    /// One key per line (blank lines and lines starting with `#` skipped); every key must have the same length.
    public init(lines text: String) throws(BenchUsageError) {
        var keyLength = 0
        var bytes: [UInt8] = []
        for line in Array(text.utf8).split(separator: UInt8(ascii: "\n")) {
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            if keyLength == 0 { keyLength = line.count }
            guard line.count == keyLength else {
                throw BenchUsageError("token file: keys of different lengths (\(keyLength) and \(line.count))")
            }
            bytes.append(contentsOf: line)
        }
        guard keyLength > 0 else { throw BenchUsageError("token file: no keys") }
        self.keyLength = keyLength
        self.bytes = bytes
    }

    public mutating func append(_ key: some Collection<UInt8>) {
        precondition(key.count == keyLength, "every key in a KeySet has the same length")
        bytes.append(contentsOf: key)
    }

    public mutating func replace(at index: Int, with key: some Collection<UInt8>) {
        precondition(key.count == keyLength)
        bytes.replaceSubrange(index * keyLength..<(index + 1) * keyLength, with: key)
    }

    public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[index * keyLength..<(index + 1) * keyLength]
    }

    /// Keys `range` of this set as a set of their own (each connection gets a disjoint share, so a REFRESH on one
    /// connection never invalidates a token another connection is about to use).
    public func slice(_ range: Range<Int>) -> KeySet {
        var result = KeySet(keyLength: keyLength)
        result.bytes = Array(bytes[range.lowerBound * keyLength..<range.upperBound * keyLength])
        return result
    }

    /// Share `index` of `parts` nearly equal shares.
    public static func share(_ index: Int, of parts: Int, count: Int) -> Range<Int> {
        precondition(parts > 0 && index < parts)
        let lower = count * index / parts
        let upper = count * (index + 1) / parts
        return lower..<upper
    }

    /// `count` keys of 44 URL-safe base64 characters (the shape of a wxauth token), the same for the same seed, so
    /// a preload run and a later load run agree on the keys without a file.
    public static func synthetic(count: Int, seed: UInt64 = 0x77_78_61_75_74_68) -> KeySet {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var set = KeySet(keyLength: 44)
        set.bytes.reserveCapacity(count * 44)
        var random = SplitMix64(seed: seed)
        for _ in 0..<count {
            for _ in 0..<4 {
                var word = random.next()
                for _ in 0..<10 {
                    set.bytes.append(alphabet[Int(word & 63)])
                    word >>= 6
                }
            }
            let tail = random.next()
            for shift in stride(from: 0, to: 24, by: 6) { set.bytes.append(alphabet[Int(tail >> UInt64(shift) & 63)]) }
        }
        return set
    }
}
