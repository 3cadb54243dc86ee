import NIOCore
import Testing
import WXAuthProtocol

@Suite("RequestMessage: the server's per-opcode payloads")
struct RequestMessageTests {
    @Test("every request vector decodes to the message of its meaning, and the message re-encodes to the same body")
    func vectors() throws {
        let vectors = try VectorFile.load()
        for vector in vectors.requests {
            let expected = try vector.decoded.request()
            let frame = try #require(try decodeSingleFrame(buffer(hex: vector.hex)), "\(vector.name)")
            let message = try frame.decodeRequestMessage()
            #expect(message == expected.message, "\(vector.name)")
            #expect(message.opcode == expected.opcode, "\(vector.name)")
            #expect(Request(message) == expected, "\(vector.name)")
            var body = ByteBuffer()
            message.encodeBody(into: &body)
            #expect(body == frame.body, "\(vector.name)")
        }
    }

    @Test("VALIDATE's token is a slice of the frame's bytes, not a copy")
    func validateTokenIsASlice() throws {
        let token = String(repeating: "A", count: 44)
        var bytes = encode(.validate(token: token), requestID: 7)
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        guard case .validate(let validate) = try frame.decodeRequestMessage() else {
            Issue.record("not a VALIDATE")
            return
        }
        #expect(validate.token.readableBytes == 44)
        #expect(validate.tokenString == token)
        let sameStorage = frame.body.withUnsafeReadableBytes { body in
            validate.token.withUnsafeReadableBytes { token in body.baseAddress! + 2 == token.baseAddress! }
        }
        #expect(sameStorage)
    }

    @Test("VALIDATE refuses what every str field refuses: bad lengths, invalid UTF-8, trailing bytes")
    func validateRefusals() {
        let bodies: [[UInt8]] = [
            [0x00, 0x00],  // empty token
            [0x00, 0x81] + Array(repeating: 0x41, count: 129),  // over 128 bytes
            [0x00, 0x03, 0x41, 0x41],  // runs past the end
            [0x00, 0x02, 0xC3, 0x28],  // invalid UTF-8
            [0x00, 0x01, 0x41, 0x00],  // a trailing byte
        ]
        for body in bodies {
            var buffer = ByteBuffer(bytes: body)
            #expect(throws: RequestDecodingError.self) { try RequestMessage.decode(opcode: .validate, body: &buffer) }
        }
        var accented = ByteBuffer(bytes: [0x00, 0x02, 0xC3, 0xA9])
        #expect((try? RequestMessage.decode(opcode: .validate, body: &accented)) == .validate(.init(token: "é")))
    }
}
