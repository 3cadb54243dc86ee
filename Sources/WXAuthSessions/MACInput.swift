import WXAuthCrypto

/// Builds the exact byte string a MAC covers: fixed-width fields raw, variable fields length-prefixed, so no two
/// different field lists produce the same input.
struct MACInput {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(160)
    }

    mutating func append(_ value: UInt8) { bytes.append(value) }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// The 16 random bytes exactly as they appear in the token.
    mutating func append(_ id: TokenID) {
        withUnsafeBytes(of: id) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    mutating func appendField(_ string: String) {
        append(UInt32(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }

    func tag(key: HMACKey) throws(CryptoError) -> Tag128 {
        let outcome = bytes.withUnsafeBytes { raw in Result { () throws(CryptoError) in try key.tag128(raw) } }
        return try outcome.get()
    }
}
