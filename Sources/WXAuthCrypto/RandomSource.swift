import CLibCrypto

/// Where unpredictable bytes come from. Production uses `OpenSSLRandom`; tests inject failing sources to prove
/// that a broken generator issues nothing.
public protocol RandomSource: Sendable {
    /// Fills `buffer` completely or throws. Never returns partially filled bytes as success.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError)
}

extension RandomSource {
    public func bytes(count: Int) throws(CryptoError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        let outcome = result.withUnsafeMutableBytes { buffer in Result { () throws(CryptoError) in try fill(buffer) } }
        try outcome.get()
        return result
    }
}

/// OpenSSL's CSPRNG (`RAND_bytes`). Fails closed: anything but a return value of 1 throws.
public struct OpenSSLRandom: RandomSource {
    public init() {}

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard buffer.count <= Int(Int32.max),
              RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1
        else {
            // Never leave half-random bytes behind for a careless caller.
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            throw CryptoError(operation: "RAND_bytes")
        }
    }
}
