/// Lower-case hexadecimal text of bytes (signatures, Redis key names, lock ids).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The big-endian bytes of `value`, so the text has exactly twice its size in digits.
    public static func encode<T: FixedWidthInteger>(bigEndian value: T) -> String {
        withUnsafeBytes(of: value.bigEndian) { encode($0) }
    }
}
