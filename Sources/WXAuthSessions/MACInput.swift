import WXAuthCrypto

/// Builds the exact byte string a MAC covers, in a stack buffer (no allocation on the hot path): fixed-width fields
/// raw, variable fields length-prefixed, so no two different field lists produce the same input.
struct MACInput {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var count = 0

    /// Runs `fill` on an input of exactly `capacity` bytes (the caller computes it from its fields) and returns the
    /// truncated MAC of what was written under `key`.
    static func tag(capacity: Int, key: HMACKey, _ fill: (inout MACInput) -> Void) throws(CryptoError) -> Tag128 {
        let outcome = withUnsafeTemporaryAllocation(byteCount: max(capacity, 1), alignment: 8) { raw in
            var input = MACInput(base: raw.baseAddress!, capacity: capacity)
            fill(&input)
            let written = UnsafeRawBufferPointer(start: raw.baseAddress, count: input.count)
            return Result { () throws(CryptoError) in try key.tag128(written) }
        }
        return try outcome.get()
    }

    private init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Size of a field written with `appendField`.
    static func fieldSize(_ string: String) -> Int { 4 + string.utf8.count }

    mutating func append(_ value: UInt8) {
        precondition(count < capacity, "MAC input larger than computed")
        base.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { append(bytes: $0) }
    }

    /// The 16 random bytes exactly as they appear in the token.
    mutating func append(_ id: TokenID) {
        withUnsafeBytes(of: id) { append(bytes: $0) }
    }

    mutating func append(_ raw: [UInt8]) {
        raw.withUnsafeBytes { append(bytes: $0) }
    }

    mutating func appendField(_ string: String) {
        var string = string
        append(UInt32(string.utf8.count))
        string.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A length-prefixed field from raw UTF-8 bytes (the same encoding as `appendField(_: String)`).
    mutating func appendField(utf8 bytes: UnsafeRawBufferPointer) {
        append(UInt32(bytes.count))
        append(bytes: bytes)
    }

    private mutating func append(bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= capacity, "MAC input larger than computed")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}
