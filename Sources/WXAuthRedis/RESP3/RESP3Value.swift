import NIOCore

/// One complete RESP3 value as it came off the wire. String payloads stay `ByteBuffer` slices of the read buffer:
/// nothing is copied or validated as UTF-8 unless asked for (`string`).
public enum RESP3Value: Hashable, Sendable {
    /// `+text\r\n`
    case simpleString(ByteBuffer)
    /// `$len\r\nbytes\r\n`
    case blobString(ByteBuffer)
    /// `=len\r\nfmt:bytes\r\n`: a three-character format (`txt`, `mkd`) then the text.
    case verbatimString(format: String, text: ByteBuffer)
    /// `-CODE message\r\n`
    case simpleError(ByteBuffer)
    /// `!len\r\nCODE message\r\n`
    case blobError(ByteBuffer)
    /// `:n\r\n`
    case integer(Int64)
    /// `,d\r\n`, including `inf`, `-inf` and `nan`.
    case double(Double)
    /// `(digits\r\n`: kept as its decimal text, sign included.
    case bigNumber(String)
    /// `#t\r\n` / `#f\r\n`
    case boolean(Bool)
    /// `_\r\n`, and RESP2's `$-1\r\n` and `*-1\r\n`.
    case null
    /// `*n\r\n` then n values.
    case array([RESP3Value])
    /// `%n\r\n` then n key/value pairs, in wire order.
    case map([Pair])
    /// `~n\r\n` then n values.
    case set([RESP3Value])
    /// `|n\r\n` pairs that annotate the value that follows them.
    indirect case attributed(attributes: [Pair], value: RESP3Value)
    /// `>n\r\n` then n values: out-of-band data (invalidations, pub/sub), never the reply to a command.
    case push([RESP3Value])

    public struct Pair: Hashable, Sendable {
        public var key: RESP3Value
        public var value: RESP3Value
        public init(key: RESP3Value, value: RESP3Value) {
            self.key = key
            self.value = value
        }
    }
}

extension RESP3Value {
    /// The text of a simple, blob or verbatim string, a big number, or an error; nil for other types.
    public var string: String? {
        switch self {
        case .simpleString(let bytes), .blobString(let bytes), .simpleError(let bytes), .blobError(let bytes):
            return String(buffer: bytes)
        case .verbatimString(_, let text):
            return String(buffer: text)
        case .bigNumber(let digits):
            return digits
        case .attributed(_, let value):
            return value.string
        default:
            return nil
        }
    }

    /// An integer, or a string holding one.
    public var integer: Int64? {
        switch self {
        case .integer(let value): return value
        case .attributed(_, let value): return value.integer
        default: return string.flatMap { Int64($0) }
        }
    }

    /// The elements of an array, set or push; nil for other types.
    public var elements: [RESP3Value]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        case .attributed(_, let value): return value.elements
        default: return nil
        }
    }

    /// The value under a string key of a map (RESP3) or of a flat key/value array (RESP2 style).
    public subscript(key: String) -> RESP3Value? {
        switch self {
        case .map(let pairs):
            return pairs.first { $0.key.string == key }?.value
        case .array(let values):
            var index = 0
            while index + 1 < values.count {
                if values[index].string == key { return values[index + 1] }
                index += 2
            }
            return nil
        case .attributed(_, let value):
            return value[key]
        default:
            return nil
        }
    }

    /// True for `simpleError` and `blobError`.
    public var isError: Bool {
        switch self {
        case .simpleError, .blobError: return true
        default: return false
        }
    }
}
