import Testing
import Support
@testable import Constraints

/// `ByteSet` against `Set<UInt8>` on seeded random sets: membership in every word (the branch-free
/// word selection), insertion, removal, iteration order and count.
@Suite struct ByteSetTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func agreesWithASetOfBytes(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var set = ByteSet()
        var reference = Set<UInt8>()
        for _ in 0..<300 {
            let b = UInt8(truncatingIfNeeded: rng.next())
            if rng.next() % 3 == 0 {
                set.remove(b)
                reference.remove(b)
            } else {
                set.insert(b)
                reference.insert(b)
            }
        }
        for b in 0...255 { #expect(set.contains(UInt8(b)) == reference.contains(UInt8(b)), "byte \(b)") }
        #expect(set.members == reference.sorted())
        #expect(set.count == reference.count)
        var visited: [UInt8] = []
        set.forEach { visited.append($0) }
        #expect(visited == reference.sorted())
    }

    @Test func plainBytesArePrintableASCIIWithoutQuoteOrBackslash() {
        let plain = TokenTrieSlice.plainBytes
        for b in 0...255 {
            let expected = (0x20...0x7E).contains(b) && b != 0x22 && b != 0x5C
            #expect(plain.contains(UInt8(b)) == expected, "byte \(b)")
        }
    }
}
