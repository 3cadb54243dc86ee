import Testing
import WXAuthCrypto

/// AES-256-GCM against the vectors of McGrew and Viega, "The Galois/Counter Mode of Operation" (test cases 13, 14
/// and 16, the AES-256 ones), which NIST's GCM validation uses too.
@Suite("AES-256-GCM (OpenSSL)")
struct AESGCMTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test func testCase13EmptyPlaintext() throws {
        let gcm = try AES256GCM(key: [UInt8](repeating: 0, count: 32))
        let sealed = try gcm.seal([UInt8](), nonce: [UInt8](repeating: 0, count: 12), aad: [UInt8]())
        #expect(sealed == Self.hex("530f8afbc74536b9a963b4f1c4cb738b"))
    }

    @Test func testCase14OneBlock() throws {
        let gcm = try AES256GCM(key: [UInt8](repeating: 0, count: 32))
        let sealed = try gcm.seal([UInt8](repeating: 0, count: 16), nonce: [UInt8](repeating: 0, count: 12), aad: [UInt8]())
        #expect(sealed == Self.hex("cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919"))
        #expect(try gcm.open(sealed, nonce: [UInt8](repeating: 0, count: 12), aad: [UInt8]()) == [UInt8](repeating: 0, count: 16))
    }

    static let key16 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    static let iv16 = hex("cafebabefacedbaddecaf888")
    static let plain16 = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    static let aad16 = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    static let sealed16 = hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b")

    @Test func testCase16WithAAD() throws {
        let gcm = try AES256GCM(key: Self.key16)
        #expect(try gcm.seal(Self.plain16, nonce: Self.iv16, aad: Self.aad16) == Self.sealed16)
        #expect(try gcm.open(Self.sealed16, nonce: Self.iv16, aad: Self.aad16) == Self.plain16)
        // The context is reusable: a second message under the same key gives the same answer.
        #expect(try gcm.seal(Self.plain16, nonce: Self.iv16, aad: Self.aad16) == Self.sealed16)
    }

    @Test func anyChangeFailsToOpen() throws {
        let gcm = try AES256GCM(key: Self.key16)
        for index in Self.sealed16.indices {
            var altered = Self.sealed16
            altered[index] ^= 0x01
            #expect(throws: CryptoError.self) { try gcm.open(altered, nonce: Self.iv16, aad: Self.aad16) }
        }
        var aad = Self.aad16
        aad[0] ^= 0x80
        #expect(throws: CryptoError.self) { try gcm.open(Self.sealed16, nonce: Self.iv16, aad: aad) }
        var nonce = Self.iv16
        nonce[11] ^= 1
        #expect(throws: CryptoError.self) { try gcm.open(Self.sealed16, nonce: nonce, aad: Self.aad16) }
        #expect(throws: CryptoError.self) { try AES256GCM(key: [UInt8](repeating: 0, count: 16)) }
    }

    @Test func streamingHMACMatchesOneShot() throws {
        let key = [UInt8](repeating: 0x0b, count: 20)
        // RFC 4231 test case 1.
        let stream = try HMACSHA256Stream(key: key)
        try stream.update(Array("Hi ".utf8))
        try stream.update(Array("There".utf8))
        #expect(try stream.finalize() == Self.hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"))
    }
}
