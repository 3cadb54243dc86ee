import NIOCore
import WXAuthBenchCore
import WXAuthProtocol

/// GET (or GETEX) of random preloaded keys over RESP2. Redis answers in order, so replies carry no id.
struct RedisDriver: LoadDriver {
    let keys: KeySet
    let idleSeconds: String
    var random: SplitMix64
    private var checkedFirst = false
    private(set) var notes: [String] = []
    let expectedValueBytes: Int

    init(keys: KeySet, idleSeconds: Int, expectedValueBytes: Int, seed: UInt64) {
        self.keys = keys
        self.idleSeconds = String(idleSeconds)
        self.expectedValueBytes = expectedValueBytes
        self.random = SplitMix64(seed: seed)
    }

    var greetingReplies: Int { 0 }

    mutating func writeRequest(_ operation: BenchOperation, id: UInt32, into buffer: inout ByteBuffer) -> BenchOperation {
        let key = keys[random.below(keys.count)]
        if operation == .getex {
            RESP.writeArrayHeader(4, into: &buffer)
            RESP.writeBulk("GETEX".utf8, into: &buffer)
            RESP.writeBulk(key, into: &buffer)
            RESP.writeBulk("EX".utf8, into: &buffer)
            RESP.writeBulk(idleSeconds.utf8, into: &buffer)
            return .getex
        }
        buffer.writeStaticString("*2\r\n$3\r\nGET\r\n")
        RESP.writeBulk(key, into: &buffer)
        return .get
    }

    mutating func readReply(from buffer: inout ByteBuffer) throws -> ParsedReply? {
        guard let reply = try RESP.readReply(from: &buffer) else { return nil }
        switch reply {
        case .bulk(let length?, _):
            if !checkedFirst {
                checkedFirst = true
                if length != expectedValueBytes {
                    notes.append("values are \(length) bytes, expected \(expectedValueBytes): preload with the same --value-size")
                }
            }
            return ParsedReply(requestID: nil, status: "OK")
        case .bulk(nil, _):
            return ParsedReply(requestID: nil, status: "NIL")
        case .error:
            return ParsedReply(requestID: nil, status: "ERR")
        default:
            return ParsedReply(requestID: nil, status: "UNEXPECTED")
        }
    }

    mutating func complete(_ reply: ParsedReply, operation: BenchOperation, id: UInt32) {}
}

/// Frames sent to the in-process echo server come back byte for byte: the round trip of the machine itself.
struct EchoDriver: LoadDriver {
    let token: [UInt8] = Array(repeating: UInt8(ascii: "A"), count: 44)

    var greetingReplies: Int { 0 }
    var notes: [String] { [] }

    mutating func writeRequest(_ operation: BenchOperation, id: UInt32, into buffer: inout ByteBuffer) -> BenchOperation {
        FrameEncoder.writeRequestLike(id: id, token: token, into: &buffer)
        return .echo
    }

    mutating func readReply(from buffer: inout ByteBuffer) throws -> ParsedReply? {
        guard let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 1 << 20) else { return nil }
        return ParsedReply(requestID: frame.requestID, status: "OK")
    }

    mutating func complete(_ reply: ParsedReply, operation: BenchOperation, id: UInt32) {}
}

extension FrameEncoder {
    /// A VALIDATE-shaped frame (what the echo server sends back).
    static func writeRequestLike(id: UInt32, token: [UInt8], into buffer: inout ByteBuffer) {
        writeFrame(kind: Opcode.validate.rawValue, requestID: id, into: &buffer) { body in
            body.writeInteger(UInt16(token.count))
            body.writeBytes(token)
        }
    }
}
