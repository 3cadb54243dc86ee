import Synchronization
import WXAuthCrypto

/// Seals values stored in Redis, which lies outside wxauthd's trust boundary: AES-256-GCM with a fresh random
/// 12-byte nonce per value and the Redis key name as associated data, so a value copied under another key does
/// not open. Layout: version byte (1), nonce (12), ciphertext, tag (16). Pure codec, no I/O.
final class CoordinationSealer: Sendable {
    static let version: UInt8 = 1
    static let overhead = 1 + AES256GCM.nonceSize + AES256GCM.tagSize

    // AES256GCM keeps per-message state in its OpenSSL contexts: one user at a time.
    private let cipher: Mutex<AES256GCM>
    private let random: any RandomSource

    init(secret: CoordinationSecret, random: any RandomSource = OpenSSLRandom()) throws(CryptoError) {
        cipher = Mutex(try AES256GCM(key: secret.sealingKey))
        self.random = random
    }

    func seal(_ plaintext: [UInt8], keyName: String) throws(CryptoError) -> [UInt8] {
        let nonce = try random.bytes(count: AES256GCM.nonceSize)
        let aad = Array(keyName.utf8)
        let sealed = try cipher.withLock { cipher throws(CryptoError) in try cipher.seal(plaintext, nonce: nonce, aad: aad) }
        return [Self.version] + nonce + sealed
    }

    /// The plaintext, or nil when `stored` is not a value this secret sealed under `keyName` (tampered, truncated,
    /// another version, another key).
    func open(_ stored: [UInt8], keyName: String) -> [UInt8]? {
        guard stored.count >= Self.overhead, stored[0] == Self.version else { return nil }
        let nonce = Array(stored[1..<(1 + AES256GCM.nonceSize)])
        let sealed = Array(stored[(1 + AES256GCM.nonceSize)...])
        let aad = Array(keyName.utf8)
        return try? cipher.withLock { cipher throws(CryptoError) in try cipher.open(sealed, nonce: nonce, aad: aad) }
    }
}
