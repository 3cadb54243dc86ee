import CLibCrypto

/// AES-128-CBC through OpenSSL's EVP interface, as WeChat uses it for user data (`encryptedData`).
/// PKCS#7 padding is added and checked here, strictly: the last byte n must be 1...16 and the last n bytes must
/// all equal n, or the data is refused (OpenSSL's own padding is switched off).
public enum AES128CBC {
    public static let keySize = 16
    public static let blockSize = 16

    /// Why a decryption was refused.
    public enum DecryptionError: Error, Hashable, Sendable {
        case keyLength(Int)
        case ivLength(Int)
        /// Empty, or not a whole number of blocks.
        case ciphertextLength(Int)
        /// The padding is not PKCS#7 (a wrong key or iv, or altered data).
        case badPadding
        case crypto(CryptoError)
    }

    /// Encrypts with PKCS#7 padding (`padded`) or over whole blocks without padding (known-answer tests).
    public static func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8], padded: Bool = true) throws(CryptoError) -> [UInt8] {
        guard key.count == keySize, iv.count == blockSize else { throw CryptoError(operation: "AES-128-CBC key/iv length") }
        var input = plaintext
        if padded {
            let pad = blockSize - plaintext.count % blockSize
            input += [UInt8](repeating: UInt8(pad), count: pad)
        } else if plaintext.count % blockSize != 0 {
            throw CryptoError(operation: "AES-128-CBC unpadded length")
        }
        return try blocks(input, key: key, iv: iv, encrypt: true)
    }

    /// Decrypts and removes the PKCS#7 padding (`padded`), or returns whole blocks as they are.
    public static func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8], padded: Bool = true) throws(DecryptionError) -> [UInt8] {
        guard key.count == keySize else { throw .keyLength(key.count) }
        guard iv.count == blockSize else { throw .ivLength(iv.count) }
        guard !ciphertext.isEmpty, ciphertext.count % blockSize == 0 else { throw .ciphertextLength(ciphertext.count) }
        var output: [UInt8]
        do {
            output = try blocks(ciphertext, key: key, iv: iv, encrypt: false)
        } catch {
            throw .crypto(error)
        }
        guard padded else { return output }
        // Strict PKCS#7, checked without an early exit over the last block.
        let pad = Int(output[output.count - 1])
        var bad: UInt8 = (pad >= 1 && pad <= blockSize) ? 0 : 1
        let last = output.count - blockSize
        for index in 0..<blockSize {
            let inPad = index >= blockSize - min(max(pad, 1), blockSize)
            if inPad { bad |= output[last + index] ^ UInt8(truncatingIfNeeded: pad) }
        }
        guard bad == 0 else {
            for index in output.indices { output[index] = 0 }
            throw .badPadding
        }
        output.removeLast(pad)
        return output
    }

    private static func blocks(_ input: [UInt8], key: [UInt8], iv: [UInt8], encrypt: Bool) throws(CryptoError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(input.count, 1))
        let ok = key.withUnsafeBufferPointer { k in
            iv.withUnsafeBufferPointer { v in
                input.withUnsafeBufferPointer { i in
                    output.withUnsafeMutableBufferPointer { o in
                        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { fallback in
                            wxauth_aes128cbc_blocks(
                                k.baseAddress, v.baseAddress, encrypt ? 1 : 0,
                                i.baseAddress ?? UnsafePointer(fallback.baseAddress!), i.count, o.baseAddress
                            )
                        }
                    }
                }
            }
        }
        guard ok == 1 else { throw CryptoError(operation: encrypt ? "EVP_EncryptUpdate(AES-128-CBC)" : "EVP_DecryptUpdate(AES-128-CBC)") }
        output.removeLast(output.count - input.count)
        return output
    }
}

/// SHA-1, only because WeChat defines the rawData signature with it (`sha1(rawData + session_key)`).
public enum SHA1 {
    public static let digestSize = 20

    public static func hash<D: ContiguousBytes>(_ data: D) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digestSize)
        let ok = data.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { fallback in
                    wxauth_sha1(
                        input.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(fallback.baseAddress!),
                        input.count, output.baseAddress
                    )
                }
            }
        }
        guard ok == 1 else { throw CryptoError(operation: "EVP_Digest(SHA-1)") }
        return out
    }
}
