import NIOCore
import WXAuthBenchCore
import WXAuthProtocol

/// Speaks the wxauth wire protocol with the project's own codec (`FrameEncoder`, `FrameDecoder`, `Response`).
/// Each connection owns a disjoint share of the tokens, so its REFRESHes never revoke a token another connection
/// is about to VALIDATE; a token with a REFRESH in flight is not picked until the new token is back.
struct WXAuthDriver: LoadDriver {
    var tokens: KeySet
    var codes: [String]
    let appID: String
    var random: SplitMix64
    /// Token slots with a REFRESH in flight, by request id.
    private var refreshing: [UInt32: Int] = [:]
    private var busySlots: Set<Int> = []
    private var checkedFirstValidate = false
    private(set) var notes: [String] = []
    private var codesExhausted = false

    init(tokens: KeySet, codes: [String], appID: String, seed: UInt64) {
        self.tokens = tokens
        self.codes = codes
        self.appID = appID
        self.random = SplitMix64(seed: seed)
    }

    var greetingReplies: Int { 1 }

    mutating func writeRequest(_ operation: BenchOperation, id: UInt32, into buffer: inout ByteBuffer) -> BenchOperation {
        switch operation {
        case .login:
            guard let code = codes.popLast() else {
                if !codesExhausted {
                    codesExhausted = true
                    notes.append("a connection ran out of login codes; later LOGINs were sent as VALIDATE (raise --codes)")
                }
                return writeRequest(.validate, id: id, into: &buffer)
            }
            FrameEncoder.writeRequest(.login(appID: appID, code: code), requestID: id, into: &buffer)
            return .login
        case .refresh:
            let slot = freeSlot()
            busySlots.insert(slot)
            refreshing[id] = slot
            writeTokenRequest(.refresh, slot: slot, id: id, into: &buffer)
            return .refresh
        default:
            writeTokenRequest(.validate, slot: freeSlot(), id: id, into: &buffer)
            return .validate
        }
    }

    /// VALIDATE and REFRESH bodies are one wire `str`; the token bytes go in without building a String.
    private func writeTokenRequest(_ opcode: Opcode, slot: Int, id: UInt32, into buffer: inout ByteBuffer) {
        let token = tokens[slot]
        FrameEncoder.writeFrame(kind: opcode.rawValue, requestID: id, into: &buffer) { body in
            body.writeInteger(UInt16(token.count))
            body.writeBytes(token)
        }
    }

    private mutating func freeSlot() -> Int {
        var slot = random.below(tokens.count)
        var tries = 0
        while busySlots.contains(slot) && tries < 64 {
            slot = random.below(tokens.count)
            tries += 1
        }
        return slot
    }

    mutating func readReply(from buffer: inout ByteBuffer) throws -> ParsedReply? {
        guard let frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 1 << 20) else { return nil }
        let status = Status(rawValue: frame.kind)
        if frame.requestID == WireFormat.serverRequestID && status != .ok {
            throw LoadError.server("the server closed the stream: \(status.name)")
        }
        return ParsedReply(requestID: frame.requestID, status: status == .ok ? "OK" : status.name, frame: frame)
    }

    mutating func complete(_ reply: ParsedReply, operation: BenchOperation, id: UInt32) {
        let slot = operation == .refresh ? refreshing.removeValue(forKey: id) : nil
        if let slot { busySlots.remove(slot) }
        guard reply.status == "OK", let frame = reply.frame else { return }
        switch operation {
        case .refresh:
            if case .refreshed(let token, _)? = try? frame.decodeResponse(to: .refresh), let slot,
               token.utf8.count == tokens.keyLength {
                tokens.replace(at: slot, with: token.utf8)
            }
        case .login:
            if case .loggedIn(let token, _)? = try? frame.decodeResponse(to: .login), token.utf8.count == tokens.keyLength {
                tokens.append(token.utf8)
            }
        case .validate where !checkedFirstValidate:
            // Decode one whole answer per connection: proves the replies are what they claim to be without
            // paying for a full decode on every one.
            checkedFirstValidate = true
            if case .validated? = try? frame.decodeResponse(to: .validate) {} else {
                notes.append("a VALIDATE answered OK did not decode as a session")
            }
        default:
            break
        }
    }
}

enum LoadError: Error, CustomStringConvertible {
    case server(String)
    case setup(String)

    var description: String {
        switch self {
        case .server(let message), .setup(let message): message
        }
    }
}
