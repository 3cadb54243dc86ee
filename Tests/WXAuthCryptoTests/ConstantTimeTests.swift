import Testing
import WXAuthCrypto

@Suite("constantTimeEquals")
struct ConstantTimeTests {
    let reference: [UInt8] = (0..<48).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    @Test("equal sequences are equal (arrays, slices, raw buffers)")
    func equal() {
        #expect(constantTimeEquals(reference, Array(reference)))
        #expect(constantTimeEquals(reference[4..<20], Array(reference[4..<20])))
        reference.withUnsafeBytes { raw in
            #expect(constantTimeEquals(raw, reference))
        }
    }

    @Test("empty sequences are equal")
    func empty() {
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
        #expect(constantTimeEquals(UnsafeRawBufferPointer(start: nil, count: 0), [UInt8]()))
    }

    @Test("a one-byte difference at every position is unequal, whatever the bit")
    func oneByteDifferenceEverywhere() {
        for position in reference.indices {
            for bit in 0..<8 {
                var other = reference
                other[position] ^= UInt8(1) << bit
                #expect(!constantTimeEquals(reference, other), "position \(position) bit \(bit)")
                #expect(!constantTimeEquals(other, reference), "position \(position) bit \(bit) (swapped)")
            }
        }
    }

    @Test("different lengths are unequal, including a prefix and the empty sequence")
    func differentLengths() {
        #expect(!constantTimeEquals(reference, Array(reference.dropLast())))
        #expect(!constantTimeEquals(Array(reference.dropLast()), reference))
        #expect(!constantTimeEquals(reference, reference + [0]))
        #expect(!constantTimeEquals(reference, [UInt8]()))
        #expect(!constantTimeEquals([UInt8](), [0]))
        // A zero-extended copy must not compare equal just because the extra bytes are zero.
        #expect(!constantTimeEquals([0, 0], [0, 0, 0]))
    }
}
