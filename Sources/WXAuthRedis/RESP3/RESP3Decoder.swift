import NIOCore

/// Streaming RESP3 decoder: `decode(from:)` either consumes exactly one complete value or consumes nothing and
/// answers nil ("need more bytes"), so it can be called on every read with whatever has arrived. Pure: no I/O, no
/// state between calls. Bounded: nesting depth, blob length, aggregate count and line length are limited, and a
/// count announced by the peer is never trusted for an allocation.
public struct RESP3Decoder: Sendable {
    public struct Limits: Hashable, Sendable {
        /// Aggregates (arrays, maps, sets, attributes, pushes) nested deeper than this are rejected.
        public var maximumDepth: Int
        /// Blob strings, blob errors and verbatim strings longer than this are rejected (Redis's own limit: 512 MiB).
        public var maximumBlobLength: Int
        /// Aggregates announcing more elements than this are rejected.
        public var maximumAggregateCount: Int
        /// Line-terminated values (simple strings, numbers, headers) longer than this are rejected.
        public var maximumLineLength: Int

        public init(maximumDepth: Int = 64, maximumBlobLength: Int = 512 * 1024 * 1024,
                    maximumAggregateCount: Int = 1 << 24, maximumLineLength: Int = 64 * 1024) {
            self.maximumDepth = maximumDepth
            self.maximumBlobLength = maximumBlobLength
            self.maximumAggregateCount = maximumAggregateCount
            self.maximumLineLength = maximumLineLength
        }
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// One value from the front of `buffer`, or nil (and `buffer` untouched) when it is not all there yet.
    public func decode(from buffer: inout ByteBuffer) throws(RESP3DecodingError) -> RESP3Value? {
        let limits = limits
        let source = buffer
        let outcome: Result<(RESP3Value, Int)?, RESP3DecodingError> = source.withUnsafeReadableBytes { bytes in
            var parser = RESP3Parser(bytes: bytes, source: source, limits: limits)
            do throws(RESP3DecodingError) {
                guard let value = try parser.parseValue(depth: 0) else { return .success(nil) }
                return .success((value, parser.index))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(nil):
            return nil
        case .success(let (value, consumed)?):
            buffer.moveReaderIndex(forwardBy: consumed)
            return value
        case .failure(let error):
            throw error
        }
    }
}

/// One pass over the readable bytes; `index` is the offset of the next unread byte.
struct RESP3Parser {
    let bytes: UnsafeRawBufferPointer
    let source: ByteBuffer
    let limits: RESP3Decoder.Limits
    var index = 0

    init(bytes: UnsafeRawBufferPointer, source: ByteBuffer, limits: RESP3Decoder.Limits) {
        self.bytes = bytes
        self.source = source
        self.limits = limits
    }

    mutating func parseValue(depth: Int) throws(RESP3DecodingError) -> RESP3Value? {
        guard index < bytes.count else { return nil }
        let start = index
        let marker = bytes[index]
        switch marker {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let line = try readLine() else { return nil }
            let slice = source.getSlice(at: source.readerIndex + line.lowerBound, length: line.count)!
            return marker == UInt8(ascii: "+") ? .simpleString(slice) : .simpleError(slice)
        case UInt8(ascii: ":"):
            guard let line = try readLine() else { return nil }
            guard let value = parseInteger(line) else { throw RESP3DecodingError(.invalidInteger, offset: start) }
            return .integer(value)
        case UInt8(ascii: ","):
            guard let line = try readLine() else { return nil }
            guard let value = parseDouble(line) else { throw RESP3DecodingError(.invalidDouble, offset: start) }
            return .double(value)
        case UInt8(ascii: "("):
            guard let line = try readLine() else { return nil }
            guard let digits = parseBigNumber(line) else { throw RESP3DecodingError(.invalidBigNumber, offset: start) }
            return .bigNumber(digits)
        case UInt8(ascii: "#"):
            guard let line = try readLine() else { return nil }
            guard line.count == 1 else { throw RESP3DecodingError(.invalidBoolean, offset: start) }
            switch bytes[line.lowerBound] {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw RESP3DecodingError(.invalidBoolean, offset: start)
            }
        case UInt8(ascii: "_"):
            guard let line = try readLine() else { return nil }
            guard line.isEmpty else { throw RESP3DecodingError(.invalidNull, offset: start) }
            return .null
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            return try parseBlob(marker: marker, start: start)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            return try parseAggregate(marker: marker, start: start, depth: depth)
        default:
            throw RESP3DecodingError(.unknownType, offset: start)
        }
    }

    /// Skips the marker, answers the range of the line's content and moves past its CRLF; nil if no CRLF yet.
    private mutating func readLine() throws(RESP3DecodingError) -> Range<Int>? {
        let contentStart = index + 1
        var cursor = contentStart
        let end = bytes.count
        while cursor + 1 < end {
            if bytes[cursor] == UInt8(ascii: "\r") {
                guard bytes[cursor + 1] == UInt8(ascii: "\n") else {
                    throw RESP3DecodingError(.missingTerminator, offset: cursor)
                }
                guard cursor - contentStart <= limits.maximumLineLength else {
                    throw RESP3DecodingError(.lineTooLong, offset: index)
                }
                index = cursor + 2
                return contentStart..<cursor
            }
            cursor += 1
        }
        if end - contentStart > limits.maximumLineLength {
            throw RESP3DecodingError(.lineTooLong, offset: index)
        }
        return nil
    }

    private mutating func parseBlob(marker: UInt8, start: Int) throws(RESP3DecodingError) -> RESP3Value? {
        guard let line = try readLine() else { return nil }
        if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "?") {
            throw RESP3DecodingError(.unsupportedStreamedType, offset: start)
        }
        guard let length = parseInteger(line) else { throw RESP3DecodingError(.invalidLength, offset: start) }
        if length == -1 && marker == UInt8(ascii: "$") {
            return .null
        }
        guard length >= 0 else { throw RESP3DecodingError(.invalidLength, offset: start) }
        guard length <= limits.maximumBlobLength else { throw RESP3DecodingError(.blobTooLarge, offset: start) }
        let payloadStart = index
        let payloadLength = Int(length)
        guard bytes.count - payloadStart >= payloadLength + 2 else {
            index = start
            return nil
        }
        let terminator = payloadStart + payloadLength
        guard bytes[terminator] == UInt8(ascii: "\r"), bytes[terminator + 1] == UInt8(ascii: "\n") else {
            throw RESP3DecodingError(.missingTerminator, offset: terminator)
        }
        index = terminator + 2
        let readerIndex = source.readerIndex
        switch marker {
        case UInt8(ascii: "$"):
            return .blobString(source.getSlice(at: readerIndex + payloadStart, length: payloadLength)!)
        case UInt8(ascii: "!"):
            return .blobError(source.getSlice(at: readerIndex + payloadStart, length: payloadLength)!)
        default:
            guard payloadLength >= 4, bytes[payloadStart + 3] == UInt8(ascii: ":") else {
                throw RESP3DecodingError(.invalidVerbatimString, offset: start)
            }
            let format = source.getString(at: readerIndex + payloadStart, length: 3) ?? ""
            let text = source.getSlice(at: readerIndex + payloadStart + 4, length: payloadLength - 4)!
            return .verbatimString(format: format, text: text)
        }
    }

    private mutating func parseAggregate(marker: UInt8, start: Int, depth: Int) throws(RESP3DecodingError) -> RESP3Value? {
        guard let line = try readLine() else { return nil }
        if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "?") {
            throw RESP3DecodingError(.unsupportedStreamedType, offset: start)
        }
        guard let announced = parseInteger(line) else { throw RESP3DecodingError(.invalidLength, offset: start) }
        if announced == -1 && marker == UInt8(ascii: "*") {
            return .null
        }
        guard announced >= 0 else { throw RESP3DecodingError(.invalidLength, offset: start) }
        guard announced <= limits.maximumAggregateCount else {
            throw RESP3DecodingError(.aggregateTooLarge, offset: start)
        }
        guard depth < limits.maximumDepth else { throw RESP3DecodingError(.depthLimitExceeded, offset: start) }
        let count = Int(announced)
        // Every element takes at least three bytes: never reserve more than the bytes could hold.
        let plausible = min(count, (bytes.count - index) / 3 + 1)
        if marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|") {
            var pairs: [RESP3Value.Pair] = []
            pairs.reserveCapacity(plausible / 2 + 1)
            for _ in 0..<count {
                guard let key = try parseValue(depth: depth + 1), let value = try parseValue(depth: depth + 1) else {
                    index = start
                    return nil
                }
                pairs.append(RESP3Value.Pair(key: key, value: value))
            }
            if marker == UInt8(ascii: "%") { return .map(pairs) }
            guard let annotated = try parseValue(depth: depth) else {
                index = start
                return nil
            }
            return .attributed(attributes: pairs, value: annotated)
        }
        var values: [RESP3Value] = []
        values.reserveCapacity(plausible)
        for _ in 0..<count {
            guard let value = try parseValue(depth: depth + 1) else {
                index = start
                return nil
            }
            values.append(value)
        }
        switch marker {
        case UInt8(ascii: "*"): return .array(values)
        case UInt8(ascii: "~"): return .set(values)
        default: return .push(values)
        }
    }

    private func parseInteger(_ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 20 else { return nil }
        var cursor = range.lowerBound
        var negative = false
        if bytes[cursor] == UInt8(ascii: "-") || bytes[cursor] == UInt8(ascii: "+") {
            negative = bytes[cursor] == UInt8(ascii: "-")
            cursor += 1
            guard cursor < range.upperBound else { return nil }
        }
        var value: Int64 = 0
        while cursor < range.upperBound {
            let byte = bytes[cursor]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            cursor += 1
        }
        return value
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func parseDouble(_ range: Range<Int>) -> Double? {
        let text = text(range)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default: break
        }
        // Decimal notation only: Double(String) would also take hex floats and "infinity".
        guard !text.isEmpty, text.utf8.allSatisfy({ byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
        }) else { return nil }
        return Double(text)
    }

    private func parseBigNumber(_ range: Range<Int>) -> String? {
        var digits = range
        if !digits.isEmpty, bytes[digits.lowerBound] == UInt8(ascii: "-") || bytes[digits.lowerBound] == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") }) else {
            return nil
        }
        return text(range)
    }
}
