import Foundation
import NIOCore
import Testing
import WXAuthProtocol

/// Inputs the fuzzers (scripts/fuzz.sh) once crashed on, replayed through the same checks: decoding must not crash
/// and whatever decodes must re-encode byte for byte. Each file is `opcode | status | body`.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
    }

    @Test func thereAreRegressionInputs() {
        #expect(!Self.inputs.isEmpty)
    }

    @Test(arguments: FuzzRegressionTests.inputs)
    func decodedMessagesRoundTrip(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
        try #require(bytes.count >= 2)
        let opcode = Opcode(rawValue: bytes[0])
        let status = Status(rawValue: bytes[1])
        let body = ByteBuffer(bytes: bytes.dropFirst(2))
        var responseBody = body
        if let response = try? Response.decode(status: status, opcode: opcode, body: &responseBody) {
            var encoded = ByteBuffer()
            response.encodeBody(into: &encoded)
            #expect(encoded == body)
        }
        var requestBody = body
        if let request = try? Request.decode(opcode: opcode, body: &requestBody) {
            var encoded = ByteBuffer()
            request.encodeBody(into: &encoded)
            #expect(encoded == body)
        }
    }

    @Test func helloKeepsUnknownFlagBits() throws {
        var body = ByteBuffer()
        Hello(flags: 0x41, nonce: Array(repeating: 9, count: 32), maxFrame: 4096).encode(into: &body)
        let original = body
        guard case .hello(let hello) = try Response.decode(status: .ok, opcode: .hello, body: &body) else {
            throw WireDecodingError("not a hello")
        }
        #expect(hello.authenticationRequired)
        #expect(hello.flags == 0x41)
        var encoded = ByteBuffer()
        hello.encode(into: &encoded)
        #expect(encoded == original)
    }
}
