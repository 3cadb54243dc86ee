import NIOCore
import WXAuthRedis

/// Any byte stream, decoded value after value with small limits. Nothing may crash, hang or over-allocate; a value
/// decoded from the whole input must decode identically when its bytes arrive in two pieces, and every prefix of it
/// must ask for more without consuming anything.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP3Decoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let decoder = RESP3Decoder(limits: .init(maximumDepth: 8, maximumBlobLength: 4096, maximumAggregateCount: 1024,
                                             maximumLineLength: 256))
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    while buffer.readableBytes > 0 {
        let before = buffer
        let value: RESP3Value?
        do {
            value = try decoder.decode(from: &buffer)
        } catch {
            precondition(buffer.readerIndex == before.readerIndex, "an error consumed input")
            break
        }
        guard let value else {
            precondition(buffer.readerIndex == before.readerIndex, "need-more consumed input")
            break
        }
        let consumed = before.readableBytes - buffer.readableBytes
        precondition(consumed > 0)
        let cut = consumed / 2
        var first = before.getSlice(at: before.readerIndex, length: cut)!
        precondition((try? decoder.decode(from: &first)) == .some(nil), "a prefix decoded")
        precondition(first.readableBytes == cut)
        first.writeImmutableBuffer(before.getSlice(at: before.readerIndex + cut, length: consumed - cut)!)
        let again = try? decoder.decode(from: &first)
        precondition(again != nil && first.readableBytes == 0, "split decode did not complete")
        // NaN is the one value not equal to itself.
        if !containsNaN(value) {
            precondition(again == value, "split decode differs")
        }
    }
    return 0
}

private func containsNaN(_ value: RESP3Value) -> Bool {
    switch value {
    case .double(let number): return number.isNaN
    case .array(let values), .set(let values), .push(let values): return values.contains(where: containsNaN)
    case .map(let pairs): return pairs.contains { containsNaN($0.key) || containsNaN($0.value) }
    case .attributed(let pairs, let inner): return containsNaN(inner) || pairs.contains { containsNaN($0.key) || containsNaN($0.value) }
    default: return false
    }
}
