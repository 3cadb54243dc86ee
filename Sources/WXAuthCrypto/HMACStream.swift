import CLibCrypto

/// HMAC-SHA256 over data that arrives in pieces (a whole snapshot file), without holding it all in memory.
/// Not thread-safe: one owner feeds it and finishes it once.
public final class HMACSHA256Stream {
    private let context: OpaquePointer
    private var finished = false

    public init(key: [UInt8]) throws(CryptoError) {
        let keyed = key.withUnsafeBufferPointer { buffer in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { fallback in
                wxauth_hmac_sha256_keyed_new(buffer.baseAddress ?? UnsafePointer(fallback.baseAddress), buffer.count)
            }
        }
        guard let keyed else { throw CryptoError(operation: "EVP_MAC_init(HMAC-SHA256)") }
        self.context = keyed
    }

    deinit {
        EVP_MAC_CTX_free(context)
    }

    public func update(_ data: UnsafeRawBufferPointer) throws(CryptoError) {
        precondition(!finished, "HMACSHA256Stream used after finalize")
        guard let base = data.baseAddress, data.count > 0 else { return }
        guard EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), data.count) == 1 else {
            throw CryptoError(operation: "EVP_MAC_update(HMAC-SHA256)")
        }
    }

    public func update<D: ContiguousBytes>(_ data: D) throws(CryptoError) {
        let outcome = data.withUnsafeBytes { raw in Result { () throws(CryptoError) in try update(raw) } }
        try outcome.get()
    }

    /// The 32-byte MAC of everything fed so far. Call once.
    public func finalize() throws(CryptoError) -> [UInt8] {
        precondition(!finished, "HMACSHA256Stream finalized twice")
        finished = true
        var out = [UInt8](repeating: 0, count: 32)
        let ok = out.withUnsafeMutableBufferPointer { wxauth_hmac_sha256_stream_final(context, $0.baseAddress!) }
        guard ok == 1 else { throw CryptoError(operation: "EVP_MAC_final(HMAC-SHA256)") }
        return out
    }
}
