import NIOCore
import WXAuthBenchCore
import WXAuthProtocol
import WXAuthRedis

/// GET (or GETEX) of random preloaded keys, encoded and decoded with WXAuthRedis's codec over the raw load
/// connection (`--redis-path codec`, and open-loop runs). Redis answers in order, so replies carry no id.
struct RedisDriver: LoadDriver {
    let keys: KeySet
    let idleSeconds: String
    var random: SplitMix64
    private let decoder = RESP3Decoder()
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
            RedisCommandEncoder.writeHeader(count: 4, into: &buffer)
            RedisCommandEncoder.writeArgument("GETEX".utf8, into: &buffer)
            RedisCommandEncoder.writeArgument(key, into: &buffer)
            RedisCommandEncoder.writeArgument("EX".utf8, into: &buffer)
            RedisCommandEncoder.writeArgument(idleSeconds.utf8, into: &buffer)
            return .getex
        }
        RedisCommandEncoder.writeHeader(count: 2, into: &buffer)
        RedisCommandEncoder.writeArgument("GET".utf8, into: &buffer)
        RedisCommandEncoder.writeArgument(key, into: &buffer)
        return .get
    }

    mutating func readReply(from buffer: inout ByteBuffer) throws -> ParsedReply? {
        guard let reply = try decoder.decode(from: &buffer) else { return nil }
        return ParsedReply(requestID: nil, status: status(of: reply))
    }

    /// OK (a value), NIL, ERR or UNEXPECTED; notes once if values are not the expected size.
    mutating func status(of reply: RESP3Value) -> String {
        switch reply {
        case .blobString(let value):
            if !checkedFirst {
                checkedFirst = true
                if value.readableBytes != expectedValueBytes {
                    notes.append("values are \(value.readableBytes) bytes, expected \(expectedValueBytes): preload with the same --value-size")
                }
            }
            return "OK"
        case .null:
            return "NIL"
        case .simpleError, .blobError:
            return "ERR"
        default:
            return "UNEXPECTED"
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
