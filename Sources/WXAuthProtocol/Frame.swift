import NIOCore

/// One frame without its length prefix: the header fields and the body bytes, not yet interpreted.
public struct Frame: Hashable, Sendable {
    public var version: UInt8
    /// The opcode in a request, the status in a response.
    public var kind: UInt8
    public var requestID: UInt32
    public var body: ByteBuffer

    public init(version: UInt8 = WireFormat.version, kind: UInt8, requestID: UInt32, body: ByteBuffer) {
        self.version = version
        self.kind = kind
        self.requestID = requestID
        self.body = body
    }
}

/// Writes whole frames into one buffer: a length placeholder, the header, the body, then the length filled in.
public enum FrameEncoder {
    public static func writeFrame(
        kind: UInt8, requestID: UInt32, into buffer: inout ByteBuffer, version: UInt8 = WireFormat.version,
        body: (inout ByteBuffer) -> Void
    ) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(version)
        buffer.writeInteger(kind)
        buffer.writeInteger(requestID)
        body(&buffer)
        let length = buffer.writerIndex - start - WireFormat.lengthPrefixSize
        buffer.setInteger(UInt32(length), at: start)
    }

    public static func writeRequest(_ request: Request, requestID: UInt32, into buffer: inout ByteBuffer) {
        writeFrame(kind: request.opcode.rawValue, requestID: requestID, into: &buffer) { request.encodeBody(into: &$0) }
    }

    public static func writeResponse(_ response: Response, requestID: UInt32, into buffer: inout ByteBuffer) {
        writeFrame(kind: response.status.rawValue, requestID: requestID, into: &buffer) { response.encodeBody(into: &$0) }
    }
}
