import NIOCore

/// Cuts a byte stream into frames; it only frames (bodies are interpreted elsewhere).
///
/// It decides on a frame from its 4-byte length prefix alone: a length over `maxFrameSize` or under the header size
/// throws `FrameDecodingError` before a single body byte is waited for, so a hostile prefix costs no memory.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Frame

    public let maxFrameSize: Int

    public init(maxFrameSize: Int = WireFormat.defaultMaxFrameSize) {
        precondition(maxFrameSize >= WireFormat.headerSize)
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        try Self.decodeFrame(from: &buffer, maxFrameSize: maxFrameSize)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        try decode(buffer: &buffer)
    }

    /// The stateless core, shared by the channel decoder, clients and fuzz targets.
    public static func decodeFrame(from buffer: inout ByteBuffer, maxFrameSize: Int) throws(FrameDecodingError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) >= WireFormat.headerSize else { throw .tooShort(length: length) }
        guard Int(length) <= maxFrameSize else { throw .tooLarge(length: length, limit: UInt32(maxFrameSize)) }
        guard buffer.readableBytes >= WireFormat.lengthPrefixSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: WireFormat.lengthPrefixSize)
        let version: UInt8 = buffer.readInteger()!
        let kind: UInt8 = buffer.readInteger()!
        let requestID: UInt32 = buffer.readInteger()!
        let body = buffer.readSlice(length: Int(length) - WireFormat.headerSize)!
        return Frame(version: version, kind: kind, requestID: requestID, body: body)
    }
}

/// Framing failures. The stream cannot be trusted after one, so the connection is answered once and closed.
public enum FrameDecodingError: Error, Hashable, Sendable {
    case tooLarge(length: UInt32, limit: UInt32)
    case tooShort(length: UInt32)

    public var response: ServerError {
        switch self {
        case .tooLarge(let length, let limit):
            ServerError(.frameTooLarge, "frame of \(length) bytes exceeds the limit", maxFrame: limit)
        case .tooShort(let length):
            ServerError(.malformedRequest, "frame length \(length) is shorter than the 6-byte header")
        }
    }
}
