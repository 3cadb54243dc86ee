import NIOCore

/// Just enough RESP2 (the Redis serialization protocol) for a load generator: commands out as arrays of bulk
/// strings, replies in as a token that says what came back without building strings for bulk payloads.
/// Hand-written: no Redis client package is available from this project's package mirror, and a benchmark wants
/// the same thin framing cost on both sides anyway.
public enum RESP {
    public enum Reply: Hashable, Sendable {
        case simple(String)
        case error(String)
        case integer(Int64)
        /// A bulk string: its length, or nil for the null bulk string ($-1). The payload is skipped unless asked for.
        case bulk(length: Int?, payload: ByteBuffer?)
        /// An array: its element count (nil for a null array); elements follow as separate replies.
        case arrayHeader(count: Int?)
    }

    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Writes `*N\r\n` then each argument as `$len\r\nbytes\r\n`.
    public static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        writeDecimal(arguments.count, into: &buffer)
        for argument in arguments {
            writeBulk(argument.utf8, into: &buffer)
        }
    }

    /// Writes one bulk string argument.
    @inlinable
    public static func writeBulk(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("$")
        writeDecimal(bytes.count, into: &buffer)
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// `*count\r\n`: the header of a command whose arguments are then written with `writeBulk`.
    @inlinable
    public static func writeArrayHeader(_ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        writeDecimal(count, into: &buffer)
    }

    @inlinable
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(value))
        } else {
            buffer.writeString(String(value))
        }
        buffer.writeStaticString("\r\n")
    }

    /// Reads one reply token; nil (and nothing consumed) when the buffer does not hold all of it yet.
    /// `keepPayload` returns bulk payloads as slices (for INFO); otherwise they are skipped.
    public static func readReply(from buffer: inout ByteBuffer, keepPayload: Bool = false) throws(DecodingError) -> Reply? {
        guard let line = lineEnd(in: buffer, from: buffer.readerIndex) else {
            if buffer.readableBytes > 64 * 1024 { throw DecodingError("reply line longer than 64 KiB") }
            return nil
        }
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        let contentStart = buffer.readerIndex + 1
        let contentLength = line - contentStart
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let text = buffer.getString(at: contentStart, length: contentLength) ?? ""
            buffer.moveReaderIndex(to: line + 2)
            return type == UInt8(ascii: "+") ? .simple(text) : .error(text)
        case UInt8(ascii: ":"):
            let value = try integer(in: buffer, at: contentStart, length: contentLength)
            buffer.moveReaderIndex(to: line + 2)
            return .integer(value)
        case UInt8(ascii: "$"):
            let length = try integer(in: buffer, at: contentStart, length: contentLength)
            if length < 0 {
                buffer.moveReaderIndex(to: line + 2)
                return .bulk(length: nil, payload: nil)
            }
            guard length <= 512 * 1024 * 1024 else { throw DecodingError("bulk length \(length) out of range") }
            let payloadStart = line + 2
            let end = payloadStart + Int(length) + 2
            guard buffer.writerIndex >= end else { return nil }
            let payload = keepPayload ? buffer.getSlice(at: payloadStart, length: Int(length)) : nil
            buffer.moveReaderIndex(to: end)
            return .bulk(length: Int(length), payload: payload)
        case UInt8(ascii: "*"):
            let count = try integer(in: buffer, at: contentStart, length: contentLength)
            buffer.moveReaderIndex(to: line + 2)
            return .arrayHeader(count: count < 0 ? nil : Int(count))
        default:
            throw DecodingError("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// Index of the `\r` of the first CRLF at or after `start`.
    static func lineEnd(in buffer: ByteBuffer, from start: Int) -> Int? {
        let view = buffer.readableBytesView
        var index = view.startIndex + (start - buffer.readerIndex)
        while index + 1 < view.endIndex {
            if view[index] == UInt8(ascii: "\r") && view[index + 1] == UInt8(ascii: "\n") {
                return buffer.readerIndex + (index - view.startIndex)
            }
            index += 1
        }
        return nil
    }

    static func integer(in buffer: ByteBuffer, at start: Int, length: Int) throws(DecodingError) -> Int64 {
        guard length > 0, length <= 20, let bytes = buffer.getBytes(at: start, length: length) else {
            throw DecodingError("malformed integer")
        }
        var negative = false
        var value: Int64 = 0
        for (offset, byte) in bytes.enumerated() {
            if offset == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw DecodingError("malformed integer") }
            let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { throw DecodingError("integer out of range") }
            value = sum
        }
        return negative ? -value : value
    }

    /// A field of an `INFO` reply (`name:value` lines), e.g. `used_memory`.
    public static func infoField(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), line[..<colon] == name else { continue }
            return String(line[line.index(after: colon)...])
        }
        return nil
    }
}
