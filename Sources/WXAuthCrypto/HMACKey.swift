import CLibCrypto

/// An HMAC-SHA256 key prepared once: OpenSSL's algorithm fetch and key schedule happen in `init`; every MAC after
/// that duplicates the keyed context, so the hot path does no fetch and no re-keying. Thread-safe: the prepared
/// context is never mutated after `init`.
public final class HMACKey: Sendable {
    public static let tagSize = 32

    // Only read (duplicated) after init, which OpenSSL allows from many threads at once.
    private nonisolated(unsafe) let context: OpaquePointer

    public init(key: [UInt8]) throws(CryptoError) {
        let prepared = key.withUnsafeBufferPointer { buffer in
            // HMAC accepts an empty key; give OpenSSL a valid pointer even then.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { fallback in
                wxauth_hmac_sha256_keyed_new(buffer.baseAddress ?? UnsafePointer(fallback.baseAddress), buffer.count)
            }
        }
        guard let prepared else { throw CryptoError(operation: "EVP_MAC_init(HMAC-SHA256)") }
        self.context = prepared
    }

    deinit {
        EVP_MAC_CTX_free(context)
    }

    /// Writes the 32-byte MAC of `data` into `output` (which must hold at least 32 bytes).
    public func authenticate(_ data: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        precondition(output.count >= Self.tagSize, "HMAC-SHA256 output needs 32 bytes")
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { fallback in
            wxauth_hmac_sha256_oneshot(
                context,
                data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(fallback.baseAddress),
                data.count,
                output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        guard ok == 1 else { throw CryptoError(operation: "EVP_MAC_final(HMAC-SHA256)") }
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
