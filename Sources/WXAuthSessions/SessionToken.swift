import WXAuthCrypto

/// The 128 random bits that name a session in the map. The shard comes from these bits too.
public struct TokenID: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// A parsed, authenticated token: `key_id | random(16) | tag(16)`, 44 characters of unpadded base64url.
public struct SessionToken: Hashable, Sendable {
    public static let encodedLength = 44
    static let rawLength = 33
    private static let domain: [UInt8] = Array("wxauth-token-v1".utf8)

    public var keyID: UInt8
    public var id: TokenID

    public init(keyID: UInt8, id: TokenID) {
        self.keyID = keyID
        self.id = id
    }

    /// A new token id from `random`, under the keyring's primary key. Throws if the generator fails.
    public static func generate(keyring: ServerKeyring, random: any RandomSource) throws(CryptoError) -> SessionToken {
        var words: (UInt64, UInt64) = (0, 0)
        let outcome = withUnsafeMutableBytes(of: &words) { buffer in
            Result { () throws(CryptoError) in try random.fill(buffer) }
        }
        try outcome.get()
        return SessionToken(keyID: keyring.primaryKeyID, id: TokenID(high: words.0, low: words.1))
    }

    /// The string handed to clients.
    public func encoded(keyring: ServerKeyring) throws(CryptoError) -> String {
        guard let key = keyring.key(id: keyID) else { throw CryptoError(operation: "token key lookup") }
        var raw: (UInt8, TokenID, Tag128) = (keyID, id, try Self.tag(keyID: keyID, id: id, key: key))
        // Lay the 33 bytes out explicitly (the tuple has padding).
        return withUnsafeTemporaryAllocation(byteCount: Self.rawLength, alignment: 1) { buffer in
            buffer[0] = raw.0
            withUnsafeBytes(of: &raw.1) { buffer.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: 16) }
            withUnsafeBytes(of: &raw.2) { buffer.baseAddress!.advanced(by: 17).copyMemory(from: $0.baseAddress!, byteCount: 16) }
            return Base64URL.encode(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Parses and authenticates `text`. Returns nil for a wrong length or alphabet, an unknown key id or a wrong tag:
    /// all of that is decided here, before any session map is touched.
    public static func parse(_ text: String, keyring: ServerKeyring) -> SessionToken? {
        var text = text
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0), keyring: keyring) }
    }

    /// `parse(_:keyring:)` for the token's ASCII bytes as they sit in a frame (no String is made).
    public static func parse(utf8: UnsafeRawBufferPointer, keyring: ServerKeyring) -> SessionToken? {
        withUnsafeTemporaryAllocation(byteCount: rawLength, alignment: 8) { raw -> SessionToken? in
            guard Base64URL.decode(utf8.assumingMemoryBound(to: UInt8.self), into: raw) else { return nil }
            let keyID = raw[0]
            guard let key = keyring.key(id: keyID) else { return nil }
            var id = TokenID(high: 0, low: 0)
            var presented = Tag128(first: 0, second: 0)
            withUnsafeMutableBytes(of: &id) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[1..<17])) }
            withUnsafeMutableBytes(of: &presented) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[17..<33])) }
            guard let expected = try? tag(keyID: keyID, id: id, key: key), expected.matches(presented) else { return nil }
            return SessionToken(keyID: keyID, id: id)
        }
    }

    static func tag(keyID: UInt8, id: TokenID, key: HMACKey) throws(CryptoError) -> Tag128 {
        try MACInput.tag(capacity: domain.count + 1 + 16, key: key) { input in
            input.append(domain)
            input.append(keyID)
            input.append(id)
        }
    }
}
