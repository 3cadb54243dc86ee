import NIOCore
import WXAuthProtocol

/// Any byte stream: frame it with a small limit, then interpret every frame as a request and as a response to
/// every opcode. Nothing may crash, hang or leak; every frame must consume exactly its length.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    while true {
        let before = buffer.readableBytes
        let frame: Frame?
        do {
            frame = try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        } catch {
            _ = error.response  // every framing error has an answer
            break
        }
        guard let frame else { break }
        precondition(before - buffer.readableBytes == WireFormat.lengthPrefixSize + WireFormat.headerSize + frame.body.readableBytes)
        if let request = try? frame.decodeRequest() {
            // A decoded request must re-encode to the same bytes.
            var encoded = ByteBuffer()
            FrameEncoder.writeRequest(request, requestID: frame.requestID, into: &encoded)
            precondition(encoded.readableBytes == WireFormat.lengthPrefixSize + WireFormat.headerSize + frame.body.readableBytes)
        }
        for opcode in Opcode.requestOpcodes + [.hello] {
            _ = try? frame.decodeResponse(to: opcode)
        }
    }
    return 0
}
