import NIOCore
import Testing
import WXAuthProtocol

@Suite("protocol/vectors/vectors.json")
struct VectorTests {
    let vectors: VectorFile

    init() throws {
        vectors = try VectorFile.load()
    }

    @Test("the file is version 1 and its opcode and status tables match the Swift names and values")
    func tables() {
        #expect(vectors.protocolVersion == Int(WireFormat.version))
        #expect(vectors.opcodes.count == Opcode.requestOpcodes.count + 1)
        for (name, value) in vectors.opcodes {
            #expect(Opcode(name: name)?.rawValue == value, "opcode \(name)")
            #expect(Opcode(rawValue: value).name == name)
        }
        #expect(vectors.statuses.count == Status.all.count)
        for (name, value) in vectors.statuses {
            #expect(Status(name: name)?.rawValue == value, "status \(name)")
            #expect(Status(rawValue: value).name == name)
        }
        #expect(vectors.decryptFailureReasons.count == DecryptFailureReason.all.count)
        for (name, value) in vectors.decryptFailureReasons {
            #expect(DecryptFailureReason(name: name)?.rawValue == value, "reason \(name)")
        }
    }

    @Test("the vectors cover every request opcode and every status")
    func coverage() throws {
        let requestOps = Set(try vectors.requests.map { try $0.decoded.opcode })
        #expect(requestOps == Set(Opcode.requestOpcodes))
        let statuses = Set(vectors.responses.compactMap { $0.decoded.status.flatMap(Status.init(name:)) })
        #expect(statuses == Set(Status.all))
        #expect(Set(vectors.invalid.map(\.expect))
            == ["frame_too_short", "frame_too_large", "malformed", "unknown_opcode", "unsupported_version"])
    }

    @Test("every request vector decodes to its meaning and re-encodes to the exact bytes")
    func requests() throws {
        #expect(!vectors.requests.isEmpty)
        for vector in vectors.requests {
            let expected = try vector.decoded.request()
            let frame = try #require(try decodeSingleFrame(buffer(hex: vector.hex)), "\(vector.name): one whole frame")
            #expect(frame.version == WireFormat.version, "\(vector.name)")
            #expect(frame.requestID == vector.decoded.requestID, "\(vector.name)")
            #expect(frame.kind == expected.opcode.rawValue, "\(vector.name)")
            #expect(try frame.decodeRequest() == expected, "\(vector.name)")
            #expect(hexString(encode(expected, requestID: vector.decoded.requestID)) == vector.hex, "\(vector.name)")
        }
    }

    @Test("every response vector decodes (given its op) to its meaning and re-encodes to the exact bytes")
    func responses() throws {
        #expect(!vectors.responses.isEmpty)
        for vector in vectors.responses {
            let expected = try vector.decoded.response()
            let opcode = try vector.decoded.opcode
            let frame = try #require(try decodeSingleFrame(buffer(hex: vector.hex)), "\(vector.name): one whole frame")
            #expect(frame.requestID == vector.decoded.requestID, "\(vector.name)")
            #expect(frame.kind == expected.status.rawValue, "\(vector.name)")
            let decoded = try frame.decodeResponse(to: opcode)
            #expect(decoded == expected, "\(vector.name)")
            #expect(decoded.status.isRetryable == expected.status.isRetryable)
            #expect(hexString(encode(expected, requestID: vector.decoded.requestID)) == vector.hex, "\(vector.name)")
        }
    }

    @Test("every invalid vector produces the named error")
    func invalid() throws {
        #expect(!vectors.invalid.isEmpty)
        for vector in vectors.invalid {
            var bytes = buffer(hex: vector.hex)
            let length = bytes.getInteger(at: 0, as: UInt32.self)!
            switch vector.expect {
            case "frame_too_short":
                #expect(throws: FrameDecodingError.tooShort(length: length), "\(vector.name)") {
                    try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: WireFormat.defaultMaxFrameSize)
                }
            case "frame_too_large":
                #expect(throws: FrameDecodingError.tooLarge(length: length, limit: UInt32(WireFormat.defaultMaxFrameSize)),
                        "\(vector.name)") {
                    try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: WireFormat.defaultMaxFrameSize)
                }
            case "malformed", "unknown_opcode", "unsupported_version":
                // The framing is intact: a whole frame comes out and only its interpretation fails.
                let frame = try #require(try decodeSingleFrame(bytes), "\(vector.name): one whole frame")
                let error = try #require(throws: RequestDecodingError.self, "\(vector.name)") { try frame.decodeRequest() }
                switch vector.expect {
                case "malformed":
                    guard case .malformed = error else {
                        Issue.record("\(vector.name): expected malformed, got \(error)")
                        continue
                    }
                    #expect(error.response.status == .malformedRequest)
                case "unknown_opcode":
                    #expect(error == .unknownOpcode(frame.kind), "\(vector.name)")
                    #expect(error.response.status == .unknownOpcode)
                default:
                    #expect(error == .unsupportedVersion(frame.version), "\(vector.name)")
                    #expect(error.response.status == .unsupportedVersion)
                    #expect(error.response.supportedVersion == WireFormat.version)
                }
            default:
                Issue.record("\(vector.name): unknown expectation \(vector.expect)")
            }
        }
    }

    @Test("the error responses the codec builds for bad input are the ones in the response vectors")
    func errorResponsesMatchVectors() throws {
        let byName = Dictionary(uniqueKeysWithValues: vectors.responses.map { ($0.name, $0) })
        let cases: [(String, ServerError)] = [
            ("unsupported_version", RequestDecodingError.unsupportedVersion(9).response),
            ("unknown_opcode", RequestDecodingError.unknownOpcode(0x7f).response),
            ("frame_too_large", FrameDecodingError.tooLarge(length: .max, limit: 65_536).response),
            ("frame_too_short", FrameDecodingError.tooShort(length: 5).response),
            ("malformed_request_id_zero", RequestDecodingError.reservedRequestID.response),
        ]
        for (name, error) in cases {
            let vector = try #require(byName[name])
            #expect(hexString(encode(.error(error), requestID: vector.decoded.requestID)) == vector.hex, "\(name)")
        }
    }

    @Test("a status this version does not know decodes to its code and message, whatever follows the message")
    func unknownStatuses() throws {
        #expect(vectors.unknownStatuses.count >= 2)
        for vector in vectors.unknownStatuses {
            let frame = try #require(try decodeSingleFrame(buffer(hex: vector.hex)), "\(vector.name)")
            #expect(!Status.all.contains(Status(rawValue: frame.kind)), "\(vector.name)")
            guard case .error(let error) = try frame.decodeResponse(to: .validate) else {
                Issue.record("\(vector.name): expected an error")
                continue
            }
            #expect(frame.requestID == vector.decoded.request_id, "\(vector.name)")
            #expect(error.status.rawValue == vector.decoded.status_code, "\(vector.name)")
            #expect(error.message == vector.decoded.message, "\(vector.name)")
            #expect(!error.isRetryable, "\(vector.name)")
        }
    }
}
