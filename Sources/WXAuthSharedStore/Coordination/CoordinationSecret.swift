import WXAuthCrypto

/// The one secret every node of a deployment shares for coordination through Redis, and the two keys derived from
/// it: one names Redis keys (keyed hashes, so a key name reveals no code, token or app), one seals the values
/// stored under them (AES-256-GCM). Deriving both from one secret keeps configuration to one value while never
/// using the same key for two algorithms.
public struct CoordinationSecret: Sendable {
    /// HMAC-SHA256 key for key names.
    let naming: HMACKey
    /// 32-byte AES-256-GCM key for stored values.
    let sealingKey: [UInt8]

    /// - Parameter secret: at least 32 random bytes, the same on every node (e.g. from the environment).
    public init(_ secret: [UInt8]) throws(CryptoError) {
        guard secret.count >= 32 else { throw CryptoError(operation: "coordination secret shorter than 32 bytes") }
        let root = try HMACKey(key: secret)
        naming = try HMACKey(key: try root.authenticationCode(for: Array("wxauth.coordination.key-names.v1".utf8)))
        sealingKey = try root.authenticationCode(for: Array("wxauth.coordination.sealing.v1".utf8))
    }
}
