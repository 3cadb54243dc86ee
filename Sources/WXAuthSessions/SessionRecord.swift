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

/// What the service keeps per session, as a plain value of fixed size (no String, no reference): the openid
/// inline (`InlineOpenID`), the unionid and any openid too long for the inline storage in the shard's side table
/// (`SessionStrings`). `mac` covers every field, the side-table strings included, plus the token id the record is
/// stored under, so a record altered in memory or moved to another token fails verification. The MAC input is
/// byte for byte the one of format version 1 (docs/PERSISTENCE.md), so persisted records verify unchanged.
struct SessionRecord: Sendable {
    var sessionKey: SessionKey
    var createdAt: Int64
    var lastSeenAt: Int64
    var absoluteExpiresAt: Int64
    var mac: Tag128
    // The small fields last, in this order, pack the record into 89 bytes.
    var openid: InlineOpenID
    var keyID: UInt8
    var appIndex: UInt16
    var hasUnionid: Bool

    private static let domain: [UInt8] = Array("wxauth-record-v1".utf8)

    /// The side-table strings of a new record: only what does not fit inline. Empty unionids count as none.
    static func strings(openid: String, unionid: String?) -> SessionStrings {
        SessionStrings(
            longOpenid: openid.utf8.count > InlineOpenID.capacity ? openid : nil,
            unionid: unionid.flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    /// How far `lastSeenAt` must fall behind before VALIDATE moves it (and re-seals): the larger of 1 s and
    /// idle/64 (28 s at the default 30 min). So a session's reported idle deadline may be up to that much earlier
    /// than "last use + idle timeout"; in exchange most VALIDATEs write nothing.
    static func lastSeenGranularity(idleTimeoutMilliseconds: Int64) -> Int64 {
        max(1000, idleTimeoutMilliseconds / 64)
    }

    func expiresAt(idleTimeoutMilliseconds: Int64) -> Int64 {
        min(lastSeenAt + idleTimeoutMilliseconds, absoluteExpiresAt)
    }

    /// The openid's UTF-8 bytes: inline, or from `strings` for a long one.
    func withOpenIDUTF8<R>(strings: SessionStrings, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard openid.isOverflow else { return try openid.withUTF8(body) }
        var long = strings.longOpenid ?? ""
        return try long.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    func openidString(strings: SessionStrings) -> String {
        openid.inlineString ?? strings.longOpenid ?? ""
    }

    func hasOpenID(_ other: String, strings: SessionStrings) -> Bool {
        var other = other
        return other.withUTF8 { otherBytes in
            withOpenIDUTF8(strings: strings) { $0.elementsEqual(UnsafeRawBufferPointer(otherBytes)) }
        }
    }

    func unionid(strings: SessionStrings) -> String? {
        hasUnionid ? (strings.unionid ?? "") : nil
    }

    func computeMAC(id: TokenID, appID: String, strings: SessionStrings, key: HMACKey) throws(CryptoError) -> Tag128 {
        let unionid = unionid(strings: strings) ?? ""
        let openidCount = openid.isOverflow ? (strings.longOpenid?.utf8.count ?? 0) : openid.withUTF8 { $0.count }
        let capacity = Self.domain.count + 16 + 1 + MACInput.fieldSize(appID) + 4 + openidCount + 1
            + MACInput.fieldSize(unionid) + 16 + 3 * 8
        return try MACInput.tag(capacity: capacity, key: key) { input in
            input.append(Self.domain)
            input.append(id)
            input.append(keyID)
            input.appendField(appID)
            withOpenIDUTF8(strings: strings) { input.appendField(utf8: $0) }
            input.append(UInt8(hasUnionid ? 1 : 0))
            input.appendField(unionid)
            input.append(sessionKey.first)
            input.append(sessionKey.second)
            input.append(createdAt)
            input.append(lastSeenAt)
            input.append(absoluteExpiresAt)
        }
    }

    /// Recomputes `mac` under `key` (whose id becomes the record's `keyID`).
    mutating func seal(id: TokenID, appID: String, strings: SessionStrings, keyID: UInt8, key: HMACKey) throws(CryptoError) {
        self.keyID = keyID
        self.mac = try computeMAC(id: id, appID: appID, strings: strings, key: key)
    }

    /// Constant-time check of `mac`; false when the key is gone or the record was altered.
    func verify(id: TokenID, appID: String, strings: SessionStrings, keyring: ServerKeyring) -> Bool {
        guard let key = keyring.key(id: keyID),
              let expected = try? computeMAC(id: id, appID: appID, strings: strings, key: key)
        else { return false }
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
