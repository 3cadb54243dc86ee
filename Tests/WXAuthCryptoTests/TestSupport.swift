/// Hex helpers for the crypto tests.
func hexBytes(_ hex: String) -> [UInt8] {
    precondition(hex.count % 2 == 0, "odd hex length")
    var result: [UInt8] = []
    result.reserveCapacity(hex.count / 2)
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func asciiBytes(_ text: String) -> [UInt8] { Array(text.utf8) }
