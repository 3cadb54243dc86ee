import CLibCrypto

/// An HMAC-SHA256 key prepared once: the inner and outer SHA-256 states (key XOR ipad, key XOR opad) are computed
/// in `init`; every MAC copies them and hashes only the message, so the hot path does no algorithm fetch, no
/// re-keying and no allocation. Thread-safe: the prepared states are never written after `init`.
public final class HMACKey: Sendable {
    public static let tagSize = 32

    // Written once in init, then only read; zeroed and freed in deinit.
    private nonisolated(unsafe) let prepared: UnsafeMutablePointer<wxauth_hmac_sha256_key>

    public init(key: [UInt8]) throws(CryptoError) {
        let prepared = UnsafeMutablePointer<wxauth_hmac_sha256_key>.allocate(capacity: 1)
        let ok = key.withUnsafeBufferPointer { buffer in
            wxauth_hmac_sha256_prepare(prepared, buffer.baseAddress, buffer.count)
        }
        guard ok == 1 else {
            prepared.deallocate()
            throw CryptoError(operation: "SHA256 (HMAC key preparation)")
        }
        self.prepared = prepared
    }

    deinit {
        OPENSSL_cleanse(prepared, MemoryLayout<wxauth_hmac_sha256_key>.size)
        prepared.deallocate()
    }

    /// Writes the 32-byte MAC of `data` into `output` (which must hold at least 32 bytes).
    public func authenticate(_ data: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        precondition(output.count >= Self.tagSize, "HMAC-SHA256 output needs 32 bytes")
        let ok = wxauth_hmac_sha256(
            prepared, data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
            output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        )
        guard ok == 1 else { throw CryptoError(operation: "SHA256 (HMAC)") }
    }

    /// The full 32-byte MAC of `data`.
    public func authenticationCode<D: ContiguousBytes>(for data: D) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.tagSize)
        let outcome = data.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in Result { () throws(CryptoError) in try authenticate(input, into: output) } }
        }
        try outcome.get()
        return out
    }

    /// The first 16 bytes of the MAC as two words: compact enough to keep one per stored record.
    public func tag128(_ data: UnsafeRawBufferPointer) throws(CryptoError) -> Tag128 {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let outcome = withUnsafeMutableBytes(of: &words) { output in
            Result { () throws(CryptoError) in try authenticate(data, into: output) }
        }
        try outcome.get()
        return Tag128(first: words.0, second: words.1)
    }
}

/// A 128-bit truncated HMAC-SHA256 tag, stored in memory byte order. Compare with `constantTimeEquals`, never `==`.
public struct Tag128: Sendable {
    public var first: UInt64
    public var second: UInt64

    public init(first: UInt64, second: UInt64) {
        self.first = first
        self.second = second
    }

    /// Constant-time comparison (CRYPTO_memcmp over the 16 bytes).
    public func matches(_ other: Tag128) -> Bool {
        var a = self
        var b = other
        return withUnsafeBytes(of: &a) { l in withUnsafeBytes(of: &b) { r in constantTimeEquals(l, r) } }
    }
}
