import WXAuthCrypto

/// A session as the shared store keeps it in Redis, outside wxauthd's trust boundary: every field is covered by an
/// HMAC under a server key (a value altered in Redis, or moved to another key, fails verification) and the
/// session_key is encrypted (AES-256-GCM). Only revocation is written without a MAC: a value that says "revoked"
/// can only take access away, never grant it.
///
/// Value layout (docs/SHARED_STORE.md):
///   live:    "L" | absolute_expires_at (13 ASCII digits, ms) | expires_at (13 digits) | binary | tag(16)
///   revoked: "R" | absolute_expires_at (13 digits)
/// The ASCII prefix is what the Lua scripts read (REVOKE_USER keeps a revoked value until the absolute deadline).
/// binary = format(1) key_id(1) generation(4) grace_until(8) created_at(8) last_seen_at(8) absolute_expires_at(8)
///          app_id(str16) openid(str16) has_unionid(1) unionid(str16) sealed_session_key(44)
/// tag = first 16 bytes of HMAC-SHA256(server key[key_id], "wxauth-shared-record-v1" || key name || all before it).
/// sealed_session_key = nonce(12) | AES-256-GCM(session_key) | gcm tag(16), key = HMAC(server key[key_id],
/// "wxauth-shared-session-key-v1"), AAD = key name.
public struct SharedSessionRecord: Sendable, Hashable {
    public var keyID: UInt8
    /// The generation of the session's current token; REFRESH makes the next.
    public var generation: UInt32
    /// Until then a REFRESH retry with generation - 1 gets the current token again (the grace window).
    public var graceUntil: Int64
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var absoluteExpiresAt: Int64
    public var appID: String
    public var openid: String
    public var unionid: String?
    var sealedSessionKey: [UInt8]

    static let format: UInt8 = 1
    private static let macDomain = Array("wxauth-shared-record-v1".utf8)
    private static let keyDomain = Array("wxauth-shared-session-key-v1".utf8)

    /// A new session's first record (generation 1), its session_key sealed under the primary key.
    public init(
        session: SharedSessionID, appID: String, openid: String, unionid: String?, sessionKey: SessionKey,
        createdAt: Int64, absoluteExpiresAt: Int64, keyring: ServerKeyring, random: any RandomSource
    ) throws(CryptoError) {
        keyID = keyring.primaryKeyID
        generation = 1
        graceUntil = 0
        self.createdAt = createdAt
        lastSeenAt = createdAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.appID = appID
        self.openid = openid
        self.unionid = unionid.flatMap { $0.isEmpty ? nil : $0 }
        sealedSessionKey = []
        try replaceSessionKey(sessionKey, session: session, keyring: keyring, random: random)
    }

    public func expiresAt(idleTimeoutMilliseconds: Int64) -> Int64 {
        min(lastSeenAt + idleTimeoutMilliseconds, absoluteExpiresAt)
    }

    public func snapshot(appIndex: UInt16, idleTimeoutMilliseconds: Int64) -> SessionSnapshot {
        SessionSnapshot(
            appIndex: appIndex, appID: appID, openid: openid, unionid: unionid, createdAt: createdAt,
            expiresAt: expiresAt(idleTimeoutMilliseconds: idleTimeoutMilliseconds), absoluteExpiresAt: absoluteExpiresAt
        )
    }

    // MARK: session_key

    /// Opens the sealed session_key. Throws when the key is gone or the ciphertext was altered.
    public func sessionKey(session: SharedSessionID, keyring: ServerKeyring) throws(CryptoError) -> SessionKey {
        guard sealedSessionKey.count == 44 else { throw CryptoError(operation: "shared session_key length") }
        let cipher = try Self.cipher(keyID: keyID, keyring: keyring)
        let plain = try cipher.open(sealedSessionKey[12...], nonce: sealedSessionKey[0..<12], aad: Array(session.keyName.utf8))
        guard let key = SessionKey(bytes: plain) else { throw CryptoError(operation: "shared session_key length") }
        return key
    }

    /// Seals `key` as the session's session_key (RESET_SESSION_KEY), under the primary key with a fresh nonce.
    public mutating func replaceSessionKey(
        _ key: SessionKey, session: SharedSessionID, keyring: ServerKeyring, random: any RandomSource
    ) throws(CryptoError) {
        if keyID != keyring.primaryKeyID {
            keyID = keyring.primaryKeyID
        }
        let nonce = try random.bytes(count: 12)
        let cipher = try Self.cipher(keyID: keyID, keyring: keyring)
        sealedSessionKey = nonce + (try cipher.seal(key.bytes, nonce: nonce, aad: Array(session.keyName.utf8)))
    }

    private static func cipher(keyID: UInt8, keyring: ServerKeyring) throws(CryptoError) -> AES256GCM {
        guard let serverKey = keyring.key(id: keyID) else { throw CryptoError(operation: "shared record key lookup") }
        var secret = try serverKey.authenticationCode(for: keyDomain)
        defer { for index in secret.indices { secret[index] = 0 } }
        return try AES256GCM(key: secret)
    }

    // MARK: Encoding

    /// The value to store under `session.keyName`, with `expiresAt` computed for the app's idle timeout.
    public func encoded(session: SharedSessionID, idleTimeoutMilliseconds: Int64, keyring: ServerKeyring) throws(CryptoError) -> [UInt8] {
        guard let key = keyring.key(id: keyID) else { throw CryptoError(operation: "shared record key lookup") }
        var writer = ByteWriter()
        writer.write(UInt8(ascii: "L"))
        writer.write(Array(SharedSessionValue.digits(absoluteExpiresAt).utf8))
        writer.write(Array(SharedSessionValue.digits(expiresAt(idleTimeoutMilliseconds: idleTimeoutMilliseconds)).utf8))
        writer.write(Self.format)
        writer.write(keyID)
        writer.write(generation)
        writer.write(graceUntil)
        writer.write(createdAt)
        writer.write(lastSeenAt)
        writer.write(absoluteExpiresAt)
        writer.writeField(appID)
        writer.writeField(openid)
        writer.write(UInt8(unionid == nil ? 0 : 1))
        writer.writeField(unionid ?? "")
        writer.write(sealedSessionKey)
        let tag = try key.authenticationCode(for: Self.macDomain + Array(session.keyName.utf8) + writer.bytes)
        writer.write(tag[0..<16])
        return writer.bytes
    }

    /// Decodes and verifies a live value; nil when it is malformed, under an unknown key, or fails its MAC.
    static func decodeLive(_ value: [UInt8], session: SharedSessionID, keyring: ServerKeyring) -> SharedSessionRecord? {
        guard value.count > 27 + 16, value[0] == UInt8(ascii: "L") else { return nil }
        let body = value[0..<(value.count - 16)]
        var reader = ByteReader(body)
        reader.skip(27)
        guard reader.read(UInt8.self) == format else { return nil }
        let keyID = reader.read(UInt8.self)
        guard let key = keyring.key(id: keyID),
              let expected = try? key.authenticationCode(for: macDomain + Array(session.keyName.utf8) + body),
              constantTimeEquals(expected[0..<16], value[(value.count - 16)...])
        else { return nil }
        let generation = reader.read(UInt32.self)
        let graceUntil = reader.read(Int64.self)
        let createdAt = reader.read(Int64.self)
        let lastSeenAt = reader.read(Int64.self)
        let absoluteExpiresAt = reader.read(Int64.self)
        guard let appID = reader.readField(), let openid = reader.readField() else { return nil }
        let hasUnionid = reader.read(UInt8.self) == 1
        guard let unionid = reader.readField() else { return nil }
        let sealed = reader.readBytes(44)
        guard !reader.overran, reader.remaining == 0,
              SharedSessionValue.number(value[1..<14]) == absoluteExpiresAt
        else { return nil }
        return SharedSessionRecord(
            keyID: keyID, generation: generation, graceUntil: graceUntil, createdAt: createdAt, lastSeenAt: lastSeenAt,
            absoluteExpiresAt: absoluteExpiresAt, appID: appID, openid: openid, unionid: hasUnionid ? unionid : nil,
            sealedSessionKey: sealed
        )
    }

    private init(
        keyID: UInt8, generation: UInt32, graceUntil: Int64, createdAt: Int64, lastSeenAt: Int64, absoluteExpiresAt: Int64,
        appID: String, openid: String, unionid: String?, sealedSessionKey: [UInt8]
    ) {
        self.keyID = keyID
        self.generation = generation
        self.graceUntil = graceUntil
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.appID = appID
        self.openid = openid
        self.unionid = unionid
        self.sealedSessionKey = sealedSessionKey
    }
}

/// What a session's key holds: a verified live record, or a revocation.
public enum SharedSessionValue: Sendable, Hashable {
    case live(SharedSessionRecord)
    case revoked(absoluteExpiresAt: Int64)

    /// Decodes a value read from Redis; nil for anything malformed or failing its MAC (counted as an integrity
    /// failure by the caller and treated as no session).
    public static func decode(_ value: [UInt8], session: SharedSessionID, keyring: ServerKeyring) -> SharedSessionValue? {
        switch value.first {
        case UInt8(ascii: "L"):
            return SharedSessionRecord.decodeLive(value, session: session, keyring: keyring).map { .live($0) }
        case UInt8(ascii: "R"):
            guard value.count == 14, let deadline = number(value[1..<14]) else { return nil }
            return .revoked(absoluteExpiresAt: deadline)
        default:
            return nil
        }
    }

    /// The revoked value for a session whose absolute deadline is `absoluteExpiresAt`.
    public static func revokedValue(absoluteExpiresAt: Int64) -> [UInt8] {
        Array(("R" + digits(absoluteExpiresAt)).utf8)
    }

    static func digits(_ milliseconds: Int64) -> String {
        let text = String(max(0, min(milliseconds, 9_999_999_999_999)))
        return String(repeating: "0", count: 13 - text.count) + text
    }

    static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

extension SharedSessionRecord {
    /// How far `lastSeenAt` must fall behind before VALIDATE slides it: the in-memory store's rule
    /// (`max(1 s, idle / 64)`), so both stores report the same idle deadlines; in the shared store each slide is one
    /// compare-and-set and one invalidation of every node's cached copy.
    public static func slideGranularity(idleTimeoutMilliseconds: Int64) -> Int64 {
        SessionRecord.lastSeenGranularity(idleTimeoutMilliseconds: idleTimeoutMilliseconds)
    }
}
