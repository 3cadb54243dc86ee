import WXAuthCrypto

/// The 16 raw bytes of a WeChat session_key (WeChat sends them base64-encoded).
public struct SessionKey: Sendable, Hashable {
    public var first: UInt64
    public var second: UInt64

    public init(first: UInt64, second: UInt64) {
        self.first = first
        self.second = second
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var key = SessionKey(first: 0, second: 0)
        withUnsafeMutableBytes(of: &key) { $0.copyBytes(from: bytes) }
        self = key
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
}

/// What the service keeps per session. `mac` covers every other field plus the token id the record is stored
/// under, so a record altered in memory or moved to another token fails verification.
struct SessionRecord: Sendable {
    var appIndex: UInt16
    var keyID: UInt8
    var openid: String
    var unionid: String?
    var sessionKey: SessionKey
    var createdAt: Int64
    var lastSeenAt: Int64
    var absoluteExpiresAt: Int64
    var mac: Tag128

    private static let domain: [UInt8] = Array("wxauth-record-v1".utf8)

    func expiresAt(idleTimeoutMilliseconds: Int64) -> Int64 {
        min(lastSeenAt + idleTimeoutMilliseconds, absoluteExpiresAt)
    }

    func computeMAC(id: TokenID, appID: String, key: HMACKey) throws(CryptoError) -> Tag128 {
        let capacity = Self.domain.count + 16 + 1 + MACInput.fieldSize(appID) + MACInput.fieldSize(openid) + 1
            + MACInput.fieldSize(unionid ?? "") + 16 + 3 * 8
        return try MACInput.tag(capacity: capacity, key: key) { input in
            input.append(Self.domain)
            input.append(id)
            input.append(keyID)
            input.appendField(appID)
            input.appendField(openid)
            input.append(UInt8(unionid == nil ? 0 : 1))
            input.appendField(unionid ?? "")
            input.append(sessionKey.first)
            input.append(sessionKey.second)
            input.append(createdAt)
            input.append(lastSeenAt)
            input.append(absoluteExpiresAt)
        }
    }

    /// Recomputes `mac` under `key` (whose id becomes the record's `keyID`).
    mutating func seal(id: TokenID, appID: String, keyID: UInt8, key: HMACKey) throws(CryptoError) {
        self.keyID = keyID
        self.mac = try computeMAC(id: id, appID: appID, key: key)
    }

    /// Constant-time check of `mac`; false when the key is gone or the record was altered.
    func verify(id: TokenID, appID: String, keyring: ServerKeyring) -> Bool {
        guard let key = keyring.key(id: keyID), let expected = try? computeMAC(id: id, appID: appID, key: key) else {
            return false
        }
        return expected.matches(mac)
    }
}

/// A slot in the session map: a live session, or what is remembered about a token that no longer works.
enum SessionEntry: Sendable {
    case live(SessionRecord)
    /// Replaced by REFRESH. A retry inside the grace window gets `successor` again; reuse after it revokes.
    case rotated(successor: SessionToken, graceUntil: Int64, forgetAt: Int64)
    /// Revoked; answers TOKEN_REVOKED until the session would have ended anyway.
    case revoked(forgetAt: Int64)
}
