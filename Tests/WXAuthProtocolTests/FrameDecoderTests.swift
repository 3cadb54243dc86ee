import NIOCore
import NIOTestUtils
import Testing
import WXAuthProtocol

@Suite("FrameDecoder")
struct FrameDecoderTests {
    /// Several frames of different shapes: empty body, short body, long body, odd ids and versions (framing does not
    /// interpret the version or kind).
    static let frames: [Frame] = [
        Frame(kind: Opcode.ping.rawValue, requestID: 1, body: ByteBuffer()),
        Frame(kind: Opcode.validate.rawValue, requestID: 7, body: ByteBuffer(bytes: [0x00, 0x02, 0x41, 0x42])),
        Frame(kind: Opcode.login.rawValue, requestID: .max, body: ByteBuffer(bytes: (0..<1000).map { UInt8(truncatingIfNeeded: $0) })),
        Frame(version: 9, kind: 0x7f, requestID: 0, body: ByteBuffer(bytes: [1, 2, 3])),
    ]

    static func bytes(of frame: Frame) -> ByteBuffer {
        var out = ByteBuffer()
        FrameEncoder.writeFrame(kind: frame.kind, requestID: frame.requestID, into: &out, version: frame.version) { body in
            var copy = frame.body
            body.writeBuffer(&copy)
        }
        return out
    }

    @Test("ByteToMessageDecoderVerifier: single frames, several frames per write, drip-fed")
    func verifier() throws {
        var pairs: [(ByteBuffer, [Frame])] = Self.frames.map { (Self.bytes(of: $0), [$0]) }
        // One write carrying several frames.
        var several = ByteBuffer()
        for frame in Self.frames {
            var encoded = Self.bytes(of: frame)
            several.writeBuffer(&encoded)
        }
        pairs.append((several, Self.frames))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test("the length prefix counts the header and body: writeFrame produces 4 + 6 + body bytes")
    func lengthPrefix() {
        for frame in Self.frames {
            let encoded = Self.bytes(of: frame)
            #expect(encoded.readableBytes == 4 + 6 + frame.body.readableBytes)
            #expect(encoded.getInteger(at: 0, as: UInt32.self) == UInt32(6 + frame.body.readableBytes))
        }
    }

    @Test("a 0xFFFFFFFF length throws as soon as its 4 bytes are present, before any body byte")
    func hugeLengthThrowsEarly() throws {
        var buffer = ByteBuffer()
        for byte in [UInt8](repeating: 0xFF, count: 3) {
            buffer.writeInteger(byte)
            var copy = buffer
            #expect(try FrameDecoder.decodeFrame(from: &copy, maxFrameSize: WireFormat.defaultMaxFrameSize) == nil)
        }
        buffer.writeInteger(UInt8(0xFF))
        #expect(throws: FrameDecodingError.tooLarge(length: .max, limit: UInt32(WireFormat.defaultMaxFrameSize))) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: WireFormat.defaultMaxFrameSize)
        }
    }

    @Test("lengths 0 through 5 are too short and throw with only the prefix present", arguments: 0..<6)
    func shortLengths(length: Int) {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(length))
        #expect(throws: FrameDecodingError.tooShort(length: UInt32(length))) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: WireFormat.defaultMaxFrameSize)
        }
        #expect(FrameDecodingError.tooShort(length: UInt32(length)).response.status == .malformedRequest)
    }

    @Test("the limit is inclusive: length == maxFrameSize waits for its body, maxFrameSize + 1 throws")
    func limitBoundary() throws {
        let limit = 100
        var atLimit = ByteBuffer()
        atLimit.writeInteger(UInt32(limit))
        atLimit.writeBytes([1, 0x01, 0, 0, 0, 1])
        #expect(try FrameDecoder.decodeFrame(from: &atLimit, maxFrameSize: limit) == nil)
        #expect(atLimit.readerIndex == 0, "nothing consumed while waiting")
        atLimit.writeBytes([UInt8](repeating: 7, count: limit - 6))
        let frame = try #require(try FrameDecoder.decodeFrame(from: &atLimit, maxFrameSize: limit))
        #expect(frame.body.readableBytes == limit - 6)
        #expect(atLimit.readableBytes == 0)

        var overLimit = ByteBuffer()
        overLimit.writeInteger(UInt32(limit + 1))
        #expect(throws: FrameDecodingError.tooLarge(length: UInt32(limit + 1), limit: UInt32(limit))) {
            try FrameDecoder.decodeFrame(from: &overLimit, maxFrameSize: limit)
        }
        let response = FrameDecodingError.tooLarge(length: UInt32(limit + 1), limit: UInt32(limit)).response
        #expect(response.status == .frameTooLarge)
        #expect(response.maxFrame == UInt32(limit))
    }

    @Test("feeding the vectors' frames byte by byte yields the same frames as feeding them at once")
    func byteByByte() throws {
        let vectors = try VectorFile.load()
        var stream = ByteBuffer()
        for vector in vectors.requests + vectors.responses {
            stream.writeBytes(hexBytes(vector.hex))
        }
        let expectedCount = vectors.requests.count + vectors.responses.count

        var whole = stream
        var atOnce: [Frame] = []
        while let frame = try FrameDecoder.decodeFrame(from: &whole, maxFrameSize: WireFormat.defaultMaxFrameSize) {
            atOnce.append(frame)
        }
        #expect(whole.readableBytes == 0)
        #expect(atOnce.count == expectedCount)

        var pending = ByteBuffer()
        var dripped: [Frame] = []
        for byte in stream.readableBytesView {
            pending.writeInteger(byte)
            while let frame = try FrameDecoder.decodeFrame(from: &pending, maxFrameSize: WireFormat.defaultMaxFrameSize) {
                dripped.append(frame)
            }
        }
        #expect(pending.readableBytes == 0)
        #expect(dripped == atOnce)

        // The same through the decoder instance a ByteToMessageHandler drives.
        var decoder = FrameDecoder()
        var channelBuffer = ByteBuffer()
        var viaDecoder: [Frame] = []
        for byte in stream.readableBytesView {
            channelBuffer.writeInteger(byte)
            while let frame = try decoder.decode(buffer: &channelBuffer) { viaDecoder.append(frame) }
        }
        #expect(viaDecoder == atOnce)
    }

    @Test("a partial frame stays unconsumed until complete")
    func partialFrame() throws {
        let encoded = Self.bytes(of: Self.frames[1])
        for cut in 0..<encoded.readableBytes {
            var partial = encoded.getSlice(at: 0, length: cut)!
            #expect(try FrameDecoder.decodeFrame(from: &partial, maxFrameSize: 65_536) == nil, "cut at \(cut)")
            #expect(partial.readableBytes == cut, "cut at \(cut): nothing consumed")
        }
    }
}
