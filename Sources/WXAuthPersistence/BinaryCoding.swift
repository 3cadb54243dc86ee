/// Appends big-endian integers and length-prefixed fields (the formats in docs/PERSISTENCE.md).
struct BinaryWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// The in-memory bytes of a value whose memory order is its byte order (token ids, tags, session keys).
    mutating func write<T>(memoryOf value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    /// `u16` length then UTF-8.
    mutating func write(string: String) throws(FormatError) {
        let utf8 = string.utf8
        guard utf8.count <= Int(UInt16.max) else { throw FormatError("string field longer than 65535 bytes") }
        write(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what `BinaryWriter` wrote; every read is bounds-checked and throws `FormatError` past the end.
struct BinaryReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw FormatError("truncated at byte \(offset)") }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size])) }
        offset += size
        return T(bigEndian: value)
    }

    mutating func read<T>(memoryOf _: T.Type, zero: T) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw FormatError("truncated at byte \(offset)") }
        var value = zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size])) }
        offset += size
        return value
    }

    mutating func readSlice(_ count: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw FormatError("truncated at byte \(offset)") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// `readString()`, but returns `previous` when the bytes are the same (and keeps the new string otherwise).
    mutating func readString(reusing previous: inout String?) throws(FormatError) -> String {
        let start = offset
        let length = Int(try read(UInt16.self))
        let slice = try readSlice(length)
        if let previous, previous.utf8.elementsEqual(slice) { return previous }
        offset = start
        let string = try readString()
        previous = string
        return string
    }

    mutating func readString() throws(FormatError) -> String {
        let length = Int(try read(UInt16.self))
        let slice = try readSlice(length)
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw FormatError("invalid UTF-8 at byte \(offset - length)")
        }
        return string
    }
}

/// A file that does not parse. Only raised after the file's MAC verified, so it means a bug or a foreign file.
struct FormatError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
