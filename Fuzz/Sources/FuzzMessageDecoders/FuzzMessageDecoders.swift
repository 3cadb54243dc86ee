import NIOCore
import WXAuthProtocol

/// Every body decoder directly: the first byte picks an opcode, the second a status, the rest is the body.
/// Decoded messages must round-trip byte for byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessageDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let opcode = Opcode(rawValue: data[0])
    let status = Status(rawValue: data[1])
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 2, count: size - 2))

    var requestBody = body
    if let request = try? Request.decode(opcode: opcode, body: &requestBody) {
        var encoded = ByteBuffer()
        request.encodeBody(into: &encoded)
        precondition(encoded == body, "request did not round-trip")
    }
    var responseBody = body
    if let response = try? Response.decode(status: status, opcode: opcode, body: &responseBody) {
        var encoded = ByteBuffer()
        response.encodeBody(into: &encoded)
        precondition(encoded == body || status != .ok && !Status.all.contains(status), "response did not round-trip")
    }
    return 0
}
