/// Builds `application/x-www-form-urlencoded`-safe query strings.
///
/// Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, so `+`, `/`, `=`, `&`,
/// spaces and non-ASCII characters in a `js_code` reach WeChat exactly as the mini program produced them.
enum QueryEncoding {
    /// `name=value` pairs joined with `&`, names and values percent-encoded.
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { "\(self.percentEncode($0.name))=\(self.percentEncode($0.value))" }.joined(separator: "&")
    }

    /// Percent-encodes every UTF-8 byte that is not RFC 3986 unreserved (upper-case hex digits).
    static func percentEncode(_ value: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if self.isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(self.hexDigit(byte >> 4))
                bytes.append(self.hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
