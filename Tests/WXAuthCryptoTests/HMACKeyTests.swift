import Testing
import WXAuthCrypto

/// One RFC 4231 section 4 test case. `expected` is the full HMAC-SHA256 output, except for case 5 where the RFC only
/// gives the first 128 bits.
struct RFC4231Case: Sendable, CustomTestStringConvertible {
    var number: Int
    var key: [UInt8]
    var data: [UInt8]
    var expectedHex: String
    var truncatedTo128Bits: Bool = false

    var testDescription: String { "RFC 4231 test case \(number)" }
}

let rfc4231Cases: [RFC4231Case] = [
    RFC4231Case(
        number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: asciiBytes("Hi There"),
        expectedHex: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    ),
    RFC4231Case(
        number: 2, key: asciiBytes("Jefe"), data: asciiBytes("what do ya want for nothing?"),
        expectedHex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    ),
    RFC4231Case(
        number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
        expectedHex: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
    ),
    RFC4231Case(
        number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
        expectedHex: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
    ),
    RFC4231Case(
        number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: asciiBytes("Test With Truncation"),
        expectedHex: "a3b6167473100ee06e0c796c2955552b", truncatedTo128Bits: true
    ),
    RFC4231Case(
        number: 6, key: [UInt8](repeating: 0xaa, count: 131),
        data: asciiBytes("Test Using Larger Than Block-Size Key - Hash Key First"),
        expectedHex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    ),
    RFC4231Case(
        number: 7, key: [UInt8](repeating: 0xaa, count: 131),
        data: asciiBytes(
            "This is a test using a larger than block-size key and a larger than block-size data. "
                + "The key needs to be hashed before being used by the HMAC algorithm."
        ),
        expectedHex: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
    ),
]

@Suite("HMAC-SHA256 (HMACKey)")
struct HMACKeyTests {
    @Test("RFC 4231 test vectors", arguments: rfc4231Cases)
    func rfc4231(_ testCase: RFC4231Case) throws {
        let key = try HMACKey(key: testCase.key)
        let mac = try key.authenticationCode(for: testCase.data)
        #expect(mac.count == HMACKey.tagSize)
        if testCase.truncatedTo128Bits {
            #expect(hexString(mac.prefix(16)) == testCase.expectedHex)
        } else {
            #expect(hexString(mac) == testCase.expectedHex)
        }
    }

    @Test("all seven RFC 4231 cases are covered")
    func allCasesPresent() {
        #expect(rfc4231Cases.map(\.number) == Array(1...7))
    }

    @Test("tag128 is the first 16 bytes of the MAC, in memory order", arguments: rfc4231Cases)
    func tag128IsTruncatedMAC(_ testCase: RFC4231Case) throws {
        let key = try HMACKey(key: testCase.key)
        var tag = try testCase.data.withUnsafeBytes { try key.tag128($0) }
        let tagBytes = withUnsafeBytes(of: &tag) { Array($0) }
        #expect(hexString(tagBytes) == String(testCase.expectedHex.prefix(32)))
    }

    @Test("authenticate(into:) writes the same 32 bytes as authenticationCode(for:)")
    func authenticateIntoBuffer() throws {
        let testCase = rfc4231Cases[0]
        let key = try HMACKey(key: testCase.key)
        var output = [UInt8](repeating: 0xEE, count: 40)
        try testCase.data.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { try key.authenticate(input, into: $0) }
        }
        #expect(hexString(output.prefix(32)) == testCase.expectedHex)
        #expect(output.suffix(8) == [UInt8](repeating: 0xEE, count: 8), "nothing written past 32 bytes")
    }

    @Test("empty key and empty message match an independent HMAC-SHA256")
    func emptyKeyAndMessage() throws {
        // HMAC-SHA256(key = "", message = "") (Python hmac.new(b"", b"", sha256)).
        let key = try HMACKey(key: [])
        #expect(hexString(try key.authenticationCode(for: [UInt8]()))
            == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test("the keyed context is not consumed: the same MAC twice, different data gives a different MAC")
    func repeatedUse() throws {
        let key = try HMACKey(key: rfc4231Cases[1].key)
        let data = rfc4231Cases[1].data
        let first = try key.authenticationCode(for: data)
        let second = try key.authenticationCode(for: data)
        #expect(first == second)
        #expect(hexString(first) == rfc4231Cases[1].expectedHex)
        #expect(try key.authenticationCode(for: data + [0]) != first)
    }

    @Test("one HMACKey shared by many concurrent tasks gives the serial answers")
    func concurrentUse() async throws {
        let key = try HMACKey(key: [UInt8](repeating: 0x5a, count: 32))
        let messages: [[UInt8]] = (0..<64).map { index in (0..<(index * 7 % 200)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
        let expected = try messages.map { try key.authenticationCode(for: $0) }
        let taskCount = 16
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<taskCount {
                group.addTask {
                    var mismatches = 0
                    for round in 0..<200 {
                        let index = (task * 13 + round) % messages.count
                        if try key.authenticationCode(for: messages[index]) != expected[index] { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        // And the shared key still agrees with the RFC on an independent key afterwards.
        let rfc = try HMACKey(key: rfc4231Cases[0].key)
        #expect(hexString(try rfc.authenticationCode(for: rfc4231Cases[0].data)) == rfc4231Cases[0].expectedHex)
    }

    @Test("Tag128.matches: equal tags match, any flipped bit does not")
    func tag128Matches() {
        let tag = Tag128(first: 0x0123_4567_89ab_cdef, second: 0xfedc_ba98_7654_3210)
        #expect(tag.matches(Tag128(first: tag.first, second: tag.second)))
        for bit in 0..<64 {
            #expect(!tag.matches(Tag128(first: tag.first ^ (1 << bit), second: tag.second)))
            #expect(!tag.matches(Tag128(first: tag.first, second: tag.second ^ (1 << bit))))
        }
    }
}
