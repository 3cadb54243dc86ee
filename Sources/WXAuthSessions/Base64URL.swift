/// Unpadded URL-safe base64 (RFC 4648 section 5) for fixed-size token bytes. Hand-written because token parsing
/// must be strict (exact length, exact alphabet, canonical) and allocation-free on the hot path.
enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Encodes a multiple of 3 bytes (no padding needed).
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        precondition(bytes.count % 3 == 0)
        let outputCount = bytes.count / 3 * 4
        return String(unsafeUninitializedCapacity: outputCount) { output in
            var out = 0
            var index = 0
            while index < bytes.count {
                let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                output[out] = alphabet[Int(chunk >> 18 & 63)]
                output[out + 1] = alphabet[Int(chunk >> 12 & 63)]
                output[out + 2] = alphabet[Int(chunk >> 6 & 63)]
                output[out + 3] = alphabet[Int(chunk & 63)]
                out += 4
                index += 3
            }
            return outputCount
        }
    }

    /// Decodes exactly `output.count` bytes (a multiple of 3) from `text`; false on any other length or character.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard output.count % 3 == 0, text.count == output.count / 3 * 4 else { return false }
        var out = 0
        var index = 0
        var invalid: UInt8 = 0
        while index < text.count {
            let a = reverse[Int(text[index])], b = reverse[Int(text[index + 1])]
            let c = reverse[Int(text[index + 2])], d = reverse[Int(text[index + 3])]
            invalid |= (a | b | c | d) & 0x80
            let chunk = UInt32(a & 63) << 18 | UInt32(b & 63) << 12 | UInt32(c & 63) << 6 | UInt32(d & 63)
            output[out] = UInt8(truncatingIfNeeded: chunk >> 16)
            output[out + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
            output[out + 2] = UInt8(truncatingIfNeeded: chunk)
            out += 3
            index += 4
        }
        return invalid == 0
    }
}
