import CLibCrypto

/// AES-256-GCM through OpenSSL's EVP interface, keyed once. Each message needs a 12-byte nonce that is never reused
/// under the same key; callers derive a fresh key per file and count nonces (see docs/PERSISTENCE.md).
///
/// Not thread-safe (OpenSSL cipher contexts carry per-message state): one owner at a time.
public final class AES256GCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    private let sealing: OpaquePointer
    private let opening: OpaquePointer

    public init(key: [UInt8]) throws(CryptoError) {
        guard key.count == Self.keySize else { throw CryptoError(operation: "AES-256-GCM key length") }
        let contexts = key.withUnsafeBufferPointer { buffer in
            (wxauth_aes256gcm_new(buffer.baseAddress, 1), wxauth_aes256gcm_new(buffer.baseAddress, 0))
        }
        guard let sealing = contexts.0, let opening = contexts.1 else {
            if let context = contexts.0 { EVP_CIPHER_CTX_free(context) }
            if let context = contexts.1 { EVP_CIPHER_CTX_free(context) }
            throw CryptoError(operation: "EVP_CipherInit_ex(AES-256-GCM)")
        }
        self.sealing = sealing
        self.opening = opening
    }

    deinit {
        EVP_CIPHER_CTX_free(sealing)
        EVP_CIPHER_CTX_free(opening)
    }

    /// Encrypts `plaintext`; returns the ciphertext (same length) followed by the 16-byte tag.
    public func seal(_ plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer)
        throws(CryptoError) -> [UInt8]
    {
        precondition(nonce.count == Self.nonceSize, "AES-GCM nonce must be 12 bytes")
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.tagSize)
        let ok = output.withUnsafeMutableBufferPointer { out -> Int32 in
            let tag = out.baseAddress! + plaintext.count
            return wxauth_aes256gcm_seal(
                sealing, Self.bytes(nonce), Self.bytes(aad), aad.count, Self.bytes(plaintext), plaintext.count,
                out.baseAddress!, tag
            )
        }
        guard ok == 1 else { throw CryptoError(operation: "EVP_EncryptFinal_ex(AES-256-GCM)") }
        return output
    }

    /// Checks the tag at the end of `sealed` and returns the plaintext; throws when the tag does not match (the
    /// ciphertext, nonce, AAD or key differs from sealing time). No plaintext is returned on failure.
    public func open(_ sealed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer)
        throws(CryptoError) -> [UInt8]
    {
        precondition(nonce.count == Self.nonceSize, "AES-GCM nonce must be 12 bytes")
        guard sealed.count >= Self.tagSize else { throw CryptoError(operation: "AES-256-GCM open (too short)") }
        let length = sealed.count - Self.tagSize
        var output = [UInt8](repeating: 0, count: max(length, 1))
        let ok = output.withUnsafeMutableBufferPointer { out -> Int32 in
            wxauth_aes256gcm_open(
                opening, Self.bytes(nonce), Self.bytes(aad), aad.count, Self.bytes(sealed), length,
                Self.bytes(sealed) + length, out.baseAddress!
            )
        }
        guard ok == 1 else {
            output.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
            throw CryptoError(operation: "AES-256-GCM open (authentication failed)")
        }
        output.removeLast(output.count - length)
        return output
    }

    public func seal<P: ContiguousBytes, N: ContiguousBytes, A: ContiguousBytes>(_ plaintext: P, nonce: N, aad: A)
        throws(CryptoError) -> [UInt8]
    {
        let outcome = plaintext.withUnsafeBytes { p in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { a in Result { () throws(CryptoError) in try seal(p, nonce: n, aad: a) } }
            }
        }
        return try outcome.get()
    }

    public func open<S: ContiguousBytes, N: ContiguousBytes, A: ContiguousBytes>(_ sealed: S, nonce: N, aad: A)
        throws(CryptoError) -> [UInt8]
    {
        let outcome = sealed.withUnsafeBytes { s in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { a in Result { () throws(CryptoError) in try open(s, nonce: n, aad: a) } }
            }
        }
        return try outcome.get()
    }

    nonisolated(unsafe) private static let empty: UnsafePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    /// A valid pointer even for an empty buffer (OpenSSL wants non-NULL).
    private static func bytes(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
        buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty
    }
}
