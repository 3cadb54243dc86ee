import Foundation
import Testing
import WXAuthCrypto
@testable import WXAuthSessions

@Suite("Session tokens")
struct TokenTests {
    @Test("100,000 issued tokens are unique and each is exactly 44 characters of [A-Za-z0-9_-]")
    func uniqueAndWellFormed() throws {
        let fixture = try Fixture(shardCount: 256, maxEntries: 200_000)
        let count = 100_000
        var seen = Set<String>(minimumCapacity: count)
        var malformed = 0
        for index in 0..<count {
            let token = try fixture.login("user\(index % 1000)").token
            if !TokenBytes.isWellFormed(token) { malformed += 1 }
            seen.insert(token)
        }
        #expect(malformed == 0)
        #expect(seen.count == count, "\(count - seen.count) duplicate token(s)")
        #expect(fixture.store.entryCount == count)
    }

    @Test("a token is key_id | random(16) | HMAC-SHA256(key, \"wxauth-token-v1\" || key_id || random)[0..<16]")
    func layoutMatchesProtocol() throws {
        let fixture = try Fixture()
        let key = try HMACKey(key: Fixture.secret1)
        var randomParts = Set<[UInt8]>()
        for _ in 0..<100 {
            let token = try fixture.login().token
            let bytes = try #require(TokenBytes.decode(token))
            #expect(bytes.count == 33)
            #expect(bytes[0] == 1, "key id of the primary key")
            let random = Array(bytes[1..<17])
            randomParts.insert(random)
            let mac = try key.authenticationCode(for: Array("wxauth-token-v1".utf8) + [bytes[0]] + random)
            #expect(Array(bytes[17..<33]) == Array(mac.prefix(16)))
            #expect(TokenBytes.encode(bytes) == token, "canonical encoding")
        }
        #expect(randomParts.count == 100)
    }

    /// Forged, mistyped and foreign tokens: each must be refused by shape, key id or tag, before the map.
    static func forgeries(of genuine: String) throws -> [(String, String)] {
        var cases: [(String, String)] = [
            ("empty", ""),
            ("43 characters", String(genuine.dropLast())),
            ("45 characters", genuine + "A"),
            ("128 characters", String(repeating: "A", count: 128)),
            ("padded", genuine + "="),
            ("whitespace around", " " + genuine),
        ]
        let index = genuine.index(genuine.startIndex, offsetBy: 20)
        for bad in ["+", "/", "=", ".", " ", "\u{0}", "~"] {
            var mistyped = genuine
            mistyped.replaceSubrange(index...index, with: bad)
            cases.append(("bad alphabet \(bad.debugDescription)", mistyped))
        }
        // 43 characters but 44 UTF-8 bytes: the parser must not be fooled by byte length alone.
        var twoByte = genuine
        twoByte.replaceSubrange(index..<genuine.index(index, offsetBy: 2), with: "é")
        cases.append(("non-ASCII character", twoByte))

        let bytes = try #require(TokenBytes.decode(genuine))
        // Every bit of the tag, and a few of the random part (which the tag covers).
        for bit in 0..<128 {
            var flipped = bytes
            flipped[17 + bit / 8] ^= UInt8(1) << (bit % 8)
            cases.append(("tag bit \(bit) flipped", TokenBytes.encode(flipped)))
        }
        for bit in stride(from: 0, to: 128, by: 9) {
            var flipped = bytes
            flipped[1 + bit / 8] ^= UInt8(1) << (bit % 8)
            cases.append(("random bit \(bit) flipped", TokenBytes.encode(flipped)))
        }
        var otherKeyID = bytes
        otherKeyID[0] = 2
        cases.append(("key id changed to 2", TokenBytes.encode(otherKeyID)))

        // A correctly tagged token under key id 9 (same secret as key 1): the store has no key 9.
        let foreignKeyring = try ServerKeyring(keys: [.init(id: 9, secret: Fixture.secret1)], primary: 9)
        let foreign = try SessionToken.generate(keyring: foreignKeyring, random: OpenSSLRandom()).encoded(keyring: foreignKeyring)
        cases.append(("unknown key id 9", foreign))
        // Key id 1 but another secret.
        let otherSecret = try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret2)], primary: 1)
        cases.append(("key id 1 under another secret",
                      try SessionToken.generate(keyring: otherSecret, random: OpenSSLRandom()).encoded(keyring: otherSecret)))
        // Random well-formed 44-character tokens.
        for round in 0..<500 {
            var random = try OpenSSLRandom().bytes(count: 33)
            random[0] = 1  // even with the right key id
            cases.append(("random well-formed #\(round)", TokenBytes.encode(random)))
        }
        return cases
    }

    @Test("forged and mistyped tokens are rejected before any map lookup, and counted")
    func forgedTokensRejected() throws {
        let fixture = try Fixture()
        let store = fixture.store
        let genuine = try fixture.login().token
        let forgeries = try Self.forgeries(of: genuine)
        #expect(forgeries.count > 600)

        let lookupsBefore = store.statistics.mapLookups
        let rejectedBefore = store.statistics.rejectedTokens
        for (name, token) in forgeries {
            #expect(throws: SessionError.invalidToken, "validate: \(name)") { try store.validate(token) }
            #expect(throws: SessionError.invalidToken, "refresh: \(name)") { try store.refresh(token) }
            #expect(throws: SessionError.invalidToken, "revoke: \(name)") { try store.revoke(token) }
        }
        #expect(store.statistics.mapLookups == lookupsBefore, "no forged token reached the session map")
        #expect(store.statistics.rejectedTokens == rejectedBefore + 3 * forgeries.count)
        #expect(store.entryCount == 1)

        // The genuine token is untouched, and it does reach the map.
        #expect(fixture.validates(genuine))
        #expect(store.statistics.mapLookups == lookupsBefore + 1)
        #expect(store.statistics.rejectedTokens == rejectedBefore + 3 * forgeries.count)
    }

    @Test("a well-formed token that the store never issued is invalid after one lookup, and not counted as forged")
    func wellTaggedButUnknown() throws {
        let fixture = try Fixture()
        let unknown = try SessionToken.generate(keyring: fixture.store.keyring, random: OpenSSLRandom())
            .encoded(keyring: fixture.store.keyring)
        #expect(throws: SessionError.invalidToken) { try fixture.store.validate(unknown) }
        #expect(fixture.store.statistics.mapLookups == 1)
        #expect(fixture.store.statistics.rejectedTokens == 0)
    }

    @Test("parse accepts exactly what encoded produced, for every configured key id")
    func parseRoundTrip() throws {
        let keyring = try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret1), .init(id: 200, secret: Fixture.secret2)],
                                        primary: 200)
        for keyID: UInt8 in [1, 200] {
            let token = SessionToken(keyID: keyID, id: TokenID(high: 0x0102_0304_0506_0708, low: 0xA1B2_C3D4_E5F6_0718))
            let text = try token.encoded(keyring: keyring)
            #expect(TokenBytes.isWellFormed(text))
            #expect(SessionToken.parse(text, keyring: keyring) == token)
            #expect(TokenBytes.decode(text)?.first == keyID)
        }
        #expect(throws: CryptoError.self) {
            try SessionToken(keyID: 3, id: TokenID(high: 1, low: 2)).encoded(keyring: keyring)
        }
    }
}
