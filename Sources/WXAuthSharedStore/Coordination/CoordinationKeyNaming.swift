import WXAuthCrypto

/// Redis key names for coordination: a prefix from `SharedStoreKeys`, then a hash tag holding a keyed hash
/// (HMAC-SHA256, first 16 bytes, hex) of the namespace (e.g. the app id) and the item (e.g. a code's key). The
/// whole hash is the tag, so items spread over every slot of the cluster instead of piling onto one app's slot,
/// and a key touched together with a companion (`name(...) + ":fetching"`) shares its slot.
struct CoordinationKeyNaming: Sendable {
    private let key: HMACKey

    init(secret: CoordinationSecret) {
        key = secret.naming
    }

    /// `prefix{32 hex digits}`
    func name(prefix: String, namespace: String, item: String = "") -> String {
        // The namespace's length first, so ("ab", "c") and ("a", "bc") never name the same key.
        let count = UInt32(truncatingIfNeeded: namespace.utf8.count)
        var message: [UInt8] = [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        message.append(contentsOf: namespace.utf8)
        message.append(contentsOf: item.utf8)
        // HMAC over a byte array fails only if OpenSSL itself is broken; then no key name is safe to use.
        guard let code = try? key.authenticationCode(for: message) else {
            fatalError("HMAC-SHA256 failed while naming a coordination key")
        }
        return prefix + "{" + Hex.encode(code.prefix(16)) + "}"
    }
}
