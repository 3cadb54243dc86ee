import NIOCore

/// The fixed parts of the wire format.
public enum WireFormat {
    public static let version: UInt8 = 1
    /// version (1) + kind (1) + request id (4)
    public static let headerSize = 6
    /// Bytes of the length prefix.
    public static let lengthPrefixSize = 4
    public static let defaultMaxFrameSize = 65_536
    /// Request id reserved for frames the server sends on its own.
    public static let serverRequestID: UInt32 = 0
}

/// Why a body could not be read. The message names the field and never echoes its content.
public struct WireDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ByteBuffer {
    /// Writes a `str`: u16 length then UTF-8 bytes. Callers keep strings within the protocol's field limits.
    @inlinable
    public mutating func writeWireString(_ string: String) {
        let count = string.utf8.count
        precondition(count <= Int(UInt16.max), "wire strings are at most 65535 bytes")
        writeInteger(UInt16(count))
        writeString(string)
    }

    /// Writes `bytes`: u16 length then the bytes.
    public mutating func writeWireBytes(_ bytes: some Collection<UInt8>) {
        precondition(bytes.count <= Int(UInt16.max), "wire byte fields are at most 65535 bytes")
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }

    /// Reads a `str` of `allowed` UTF-8 bytes; rejects short bodies, out-of-range lengths and invalid UTF-8.
    public mutating func readWireString(_ field: String, allowed: ClosedRange<Int>) throws(WireDecodingError) -> String {
        let bytes = try readWireStringBytes(field, allowed: allowed)
        return String(decoding: bytes.readableBytesView, as: UTF8.self)
    }

    /// Reads a `str` of `allowed` bytes as a slice of this buffer (no copy), checked like `readWireString`: short
    /// bodies, out-of-range lengths and invalid UTF-8 are refused. ASCII, what tokens are, is checked without
    /// decoding.
    public mutating func readWireStringBytes(
        _ field: String, allowed: ClosedRange<Int>
    ) throws(WireDecodingError) -> ByteBuffer {
        let length = try readWireLength(field, allowed: allowed)
        guard let slice = readSlice(length: length) else {
            throw WireDecodingError("\(field): string runs past the end of the body")
        }
        let isValid = slice.withUnsafeReadableBytes { bytes in
            bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
        }
        guard isValid else { throw WireDecodingError("\(field): not valid UTF-8") }
        return slice
    }

    /// Reads `bytes` whose length must be within `allowed`.
    public mutating func readWireBytes(_ field: String, allowed: ClosedRange<Int>) throws(WireDecodingError) -> [UInt8] {
        let length = try readWireLength(field, allowed: allowed)
        guard let bytes = readBytes(length: length) else {
            throw WireDecodingError("\(field): bytes run past the end of the body")
        }
        return bytes
    }

    public mutating func readWireInteger<T: FixedWidthInteger>(_ field: String, as: T.Type = T.self) throws(WireDecodingError) -> T {
        guard let value = readInteger(as: T.self) else {
            throw WireDecodingError("\(field): body ends before this field")
        }
        return value
    }

    /// Throws unless every byte was consumed.
    public func requireFullyConsumed() throws(WireDecodingError) {
        if readableBytes != 0 {
            throw WireDecodingError("\(readableBytes) unexpected trailing byte(s)")
        }
    }

    private mutating func readWireLength(_ field: String, allowed: ClosedRange<Int>) throws(WireDecodingError) -> Int {
        guard let length = readInteger(as: UInt16.self) else {
            throw WireDecodingError("\(field): body ends before this field")
        }
        guard allowed.contains(Int(length)) else {
            throw WireDecodingError("\(field): length \(length) outside \(allowed.lowerBound)...\(allowed.upperBound)")
        }
        return Int(length)
    }
}
