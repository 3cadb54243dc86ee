import Testing
import WXAuthCrypto

/// 128 bits as a hashable value, for duplicate detection without an array per value.
private struct Value128: Hashable {
    var high: UInt64
    var low: UInt64
}

/// A source that always fails, and one that fails after a number of successful fills.
private struct AlwaysFailingRandom: RandomSource {
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        throw CryptoError(operation: "RAND_bytes (test)")
    }
}

@Suite("OpenSSLRandom")
struct RandomSourceTests {
    @Test("1,000,000 16-byte values from RAND_bytes have no duplicates")
    func noDuplicatesInAMillion() throws {
        let random = OpenSSLRandom()
        let count = 1_000_000
        var seen = Set<Value128>(minimumCapacity: count)
        var zeroes = 0
        for _ in 0..<count {
            var value = Value128(high: 0, low: 0)
            try withUnsafeMutableBytes(of: &value) { try random.fill($0) }
            if value.high == 0 && value.low == 0 { zeroes += 1 }
            seen.insert(value)
        }
        #expect(seen.count == count, "\(count - seen.count) duplicate(s)")
        #expect(zeroes == 0)
    }

    @Test("bytes(count:) fills the whole buffer (each byte position takes many values)")
    func fillsEveryByte() throws {
        let random = OpenSSLRandom()
        // Over 256 draws, each of 64 positions would stay at its initial 0 with probability 2^-2048 if filled.
        var distinct = [Set<UInt8>](repeating: [], count: 64)
        for _ in 0..<256 {
            let bytes = try random.bytes(count: 64)
            #expect(bytes.count == 64)
            for (position, byte) in bytes.enumerated() { distinct[position].insert(byte) }
        }
        for (position, values) in distinct.enumerated() {
            #expect(values.count > 100, "position \(position) took only \(values.count) values")
        }
    }

    @Test("an empty request succeeds and returns nothing")
    func emptyRequest() throws {
        #expect(try OpenSSLRandom().bytes(count: 0).isEmpty)
    }

    @Test("a failing source makes bytes(count:) throw, never return")
    func failingSourceThrows() {
        #expect(throws: CryptoError.self) { try AlwaysFailingRandom().bytes(count: 16) }
    }
}
