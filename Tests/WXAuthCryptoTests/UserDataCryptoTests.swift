import Foundation
import Testing
import WXAuthCrypto

@Suite("AES-128-CBC, SHA-1 and WeChat user data")
struct UserDataCryptoTests {
    // NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt / F.2.2 CBC-AES128.Decrypt.
    static let nistKey = hexBytes("2b7e151628aed2a6abf7158809cf4f3c")
    static let nistIV = hexBytes("000102030405060708090a0b0c0d0e0f")
    static let nistPlaintext = hexBytes(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
            + "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    static let nistCiphertext = hexBytes(
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
            + "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7")

    @Test func nistCBCEncryptAndDecrypt() throws {
        #expect(try AES128CBC.encrypt(Self.nistPlaintext, key: Self.nistKey, iv: Self.nistIV, padded: false) == Self.nistCiphertext)
        #expect(try AES128CBC.decrypt(Self.nistCiphertext, key: Self.nistKey, iv: Self.nistIV, padded: false) == Self.nistPlaintext)
    }

    @Test func sha1KnownAnswers() throws {
        // FIPS 180 examples.
        #expect(hexString(try SHA1.hash(asciiBytes("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hexString(try SHA1.hash(asciiBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hexString(try SHA1.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func pkcs7IsAddedAndCheckedStrictly() throws {
        for length in [0, 1, 15, 16, 17, 31, 32] {
            let plaintext = [UInt8](repeating: 0x41, count: length)
            let sealed = try AES128CBC.encrypt(plaintext, key: Self.nistKey, iv: Self.nistIV)
            #expect(sealed.count == (length / 16 + 1) * 16)
            #expect(try AES128CBC.decrypt(sealed, key: Self.nistKey, iv: Self.nistIV) == plaintext)
        }
        // A block whose last byte is 0x02 but whose second-to-last is not: lenient unpadding would accept it.
        var block = [UInt8](repeating: 0x41, count: 16)
        block[15] = 0x02
        let bad = try AES128CBC.encrypt(block, key: Self.nistKey, iv: Self.nistIV, padded: false)
        #expect(throws: AES128CBC.DecryptionError.badPadding) { try AES128CBC.decrypt(bad, key: Self.nistKey, iv: Self.nistIV) }
        block[15] = 0x00
        let zero = try AES128CBC.encrypt(block, key: Self.nistKey, iv: Self.nistIV, padded: false)
        #expect(throws: AES128CBC.DecryptionError.badPadding) { try AES128CBC.decrypt(zero, key: Self.nistKey, iv: Self.nistIV) }
        block[15] = 0x11
        let big = try AES128CBC.encrypt(block, key: Self.nistKey, iv: Self.nistIV, padded: false)
        #expect(throws: AES128CBC.DecryptionError.badPadding) { try AES128CBC.decrypt(big, key: Self.nistKey, iv: Self.nistIV) }
        #expect(throws: AES128CBC.DecryptionError.ciphertextLength(15)) {
            try AES128CBC.decrypt([UInt8](repeating: 0, count: 15), key: Self.nistKey, iv: Self.nistIV)
        }
    }

    static let key: [UInt8] = Array(0..<16)
    static let iv: [UInt8] = Array(100..<116)
    static let appID = "wx4f4bc4dec97d474b"

    static func payload(appID: String = appID, timestamp: Int64 = 1_764_160_000) throws -> (data: String, iv: String) {
        let json = #"{"nickName":"Band","watermark":{"appid":"\#(appID)","timestamp":\#(timestamp)}}"#
        return (try WeChatUserData.encrypt(Array(json.utf8), sessionKey: key, iv: iv), Data(iv).base64EncodedString())
    }

    @Test func userDataRoundTripsAndChecksTheWatermark() throws {
        let (data, iv) = try Self.payload()
        let now: Int64 = 1_764_160_010_000
        let decrypted = try WeChatUserData.decrypt(
            encryptedData: data, iv: iv, sessionKey: Self.key, expectedAppID: Self.appID, nowMilliseconds: now)
        #expect(decrypted.json.contains("\"nickName\":\"Band\""))
        #expect(decrypted.watermarkAppID == Self.appID && decrypted.watermarkTimestamp == 1_764_160_000)
        // A `+` that became a space on the way is tolerated.
        let spaced = data.replacingOccurrences(of: "+", with: " ")
        #expect(try WeChatUserData.decrypt(encryptedData: spaced, iv: iv.replacingOccurrences(of: "+", with: " "),
                                           sessionKey: Self.key, expectedAppID: Self.appID, nowMilliseconds: now) == decrypted)
        func reason(_ body: () throws(UserDataError) -> WeChatUserData.Decrypted) -> UserDataError.Reason? {
            do { _ = try body(); return nil } catch { return error.reason }
        }
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: data, iv: iv, sessionKey: Self.key, expectedAppID: "wxother", nowMilliseconds: now)
        } == .appIDMismatch)
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: data, iv: iv, sessionKey: Self.key, expectedAppID: Self.appID,
                                       maxAgeMilliseconds: 5_000, nowMilliseconds: now)
        } == .staleWatermark)
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: "!!!", iv: iv, sessionKey: Self.key, expectedAppID: nil, nowMilliseconds: now)
        } == .badBase64)
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: data, iv: "AAAA", sessionKey: Self.key, expectedAppID: nil, nowMilliseconds: now)
        } == .badIVLength)
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: data, iv: iv, sessionKeyBase64: "AAAA", nowMilliseconds: now)
        } == .badKeyLength)
        var otherKey = Self.key
        otherKey[0] ^= 1
        #expect(reason { () throws(UserDataError) in
            try WeChatUserData.decrypt(encryptedData: data, iv: iv, sessionKey: otherKey, expectedAppID: nil, nowMilliseconds: now)
        } == .badPaddingOrKey)
    }

    @Test func signatures() throws {
        let raw = #"{"nickName":"Band","gender":1}"#
        let keyText = Data(Self.key).base64EncodedString()
        let expected = hexString(try SHA1.hash(asciiBytes(raw + keyText)))
        #expect(try WeChatUserData.signature(rawData: raw, sessionKey: Self.key) == expected)
        #expect(try WeChatUserData.signatureMatches(rawData: raw, signature: expected, sessionKey: Self.key))
        #expect(try !WeChatUserData.signatureMatches(rawData: raw, signature: expected.uppercased(), sessionKey: Self.key))
        #expect(try !WeChatUserData.signatureMatches(rawData: raw, signature: String(expected.dropLast()), sessionKey: Self.key))
        // checksession: HMAC-SHA256 keyed with the session_key over the empty string.
        #expect(try WeChatUserData.sessionKeySignature(sessionKey: Self.key)
            == hexString(try HMACKey(key: Self.key).authenticationCode(for: [UInt8]())))
    }
}
