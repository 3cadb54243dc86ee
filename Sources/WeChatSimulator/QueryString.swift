/// Parses the query part of a request target (`a=1&b=x%2By`), the way a form-decoding server does:
/// `%XX` escapes are decoded and `+` means a space. So a client that forgets to encode `+` in a code is caught.
enum QueryString {
    /// The parameters, first occurrence winning; `nil` for a malformed escape or invalid UTF-8.
    static func parse(_ query: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = self.decode(parts[0]) else { return nil }
            guard let value = parts.count > 1 ? self.decode(parts[1]) : "" else { return nil }
            if result[name] == nil {
                result[name] = value
            }
        }
        return result
    }

    /// Decodes `%XX` escapes and `+`; `nil` when an escape is malformed or the bytes are not UTF-8.
    static func decode(_ component: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(component.utf8.count)
        var iterator = component.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(self.hexValue), let low = iterator.next().flatMap(self.hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
