import WXAuthCrypto

/// The server's HMAC keys, each with a one-byte id; one is primary. New tokens and records are made under the
/// primary key; tokens and records made under any other configured key stay valid until that key is removed.
public final class ServerKeyring: Sendable {
    public struct KeyMaterial: Sendable {
        public var id: UInt8
        public var secret: [UInt8]
        public init(id: UInt8, secret: [UInt8]) {
            self.id = id
            self.secret = secret
        }
    }

    public let primaryKeyID: UInt8
    private let keys: [HMACKey?]  // indexed by key id; 256 slots

    /// Keys must be at least 32 bytes and have distinct ids; `primary` must be one of them.
    public init(keys material: [KeyMaterial], primary: UInt8) throws(KeyringError) {
        var slots = [HMACKey?](repeating: nil, count: 256)
        for key in material {
            guard key.secret.count >= 32 else { throw .keyTooShort(id: key.id) }
            guard slots[Int(key.id)] == nil else { throw .duplicateKeyID(key.id) }
            do {
                slots[Int(key.id)] = try HMACKey(key: key.secret)
            } catch {
                throw .crypto(error)
            }
        }
        guard slots[Int(primary)] != nil else { throw .unknownPrimary(primary) }
        self.keys = slots
        self.primaryKeyID = primary
    }

    /// A keyring with one fresh random key (for `--dev` and tests).
    public static func ephemeral(random: any RandomSource = OpenSSLRandom()) throws(KeyringError) -> ServerKeyring {
        let secret: [UInt8]
        do {
            secret = try random.bytes(count: 32)
        } catch {
            throw .crypto(error)
        }
        return try ServerKeyring(keys: [KeyMaterial(id: 1, secret: secret)], primary: 1)
    }

    public var primary: HMACKey { keys[Int(primaryKeyID)]! }

    public func key(id: UInt8) -> HMACKey? { keys[Int(id)] }

    public var keyIDs: [UInt8] { (0...255).compactMap { keys[$0] == nil ? nil : UInt8($0) } }
}

public enum KeyringError: Error, Hashable, Sendable, CustomStringConvertible {
    case keyTooShort(id: UInt8)
    case duplicateKeyID(UInt8)
    case unknownPrimary(UInt8)
    case crypto(CryptoError)

    public var description: String {
        switch self {
        case .keyTooShort(let id): "server key \(id) is shorter than 32 bytes"
        case .duplicateKeyID(let id): "server key id \(id) is configured twice"
        case .unknownPrimary(let id): "primary key id \(id) is not among the configured keys"
        case .crypto(let error): "\(error)"
        }
    }
}
