import Testing
@testable import NGramStore

@Suite struct RecordCodingTests {
    static func sample() -> ContinuationSummary {
        var s = ContinuationSummary()
        s.record(run(7, 8, 9), countersPerDepth: 8)
        s.record(run(7, 8), countersPerDepth: 8)
        s.record(run(Int32.max, -1, 0), countersPerDepth: 8)
        s.normalize()
        return s
    }

    @Test(arguments: [1, 2])
    func valueRoundTripsAndEveryTruncationIsRejected(version: Int) {
        let summary = Self.sample()
        let bytes = RecordCoding.encodeValue(summary, version: version)
        bytes.withUnsafeBytes { #expect(RecordCoding.decodeValue($0, version: version) == summary) }
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            prefix.withUnsafeBytes { #expect(RecordCoding.decodeValue($0, version: version) == nil, "prefix of \(cut) bytes decoded") }
        }
        var longer = bytes
        longer.append(0)
        longer.withUnsafeBytes { #expect(RecordCoding.decodeValue($0, version: version) == nil) }
    }

    @Test(arguments: [1, 2])
    func randomBytesNeverCrashTheDecoder(version: Int) {
        var stream = TokenStream(seed: 3)
        var decoded = 0
        for length in 0..<400 {
            let bytes = (0..<(length % 40)).map { _ in UInt8(truncatingIfNeeded: stream.next(vocabulary: 256)) }
            bytes.withUnsafeBytes {
                if RecordCoding.decodeValue($0, version: version) != nil { decoded += 1 }
                _ = RecordCoding.decodeKey($0, version: version)
            }
        }
        // Mostly garbage; the point is that every call returned.
        #expect(decoded < 400)
    }

    @Test(arguments: [1, 2])
    func keyOrderIsContextOrder(version: Int) {
        var stream = TokenStream(seed: 11)
        var runs: [TokenRun] = []
        for i in 0..<200 {
            // Small and large ids, so the sign bit of Int32 is exercised.
            // Ids at every boundary of version 2's variable-length code.
            let edges: [Int32] = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000, 0x0FFF_FFFF, 0x1000_0000, Int32.max, -5, -1]
            let length = 1 + i % 4
            runs.append(TokenRun((0..<length).map { _ in
                stream.next(vocabulary: 3) == 0 ? edges[Int(stream.next(vocabulary: edges.count))] : stream.next(vocabulary: 4)
            }))
        }
        func key(_ r: TokenRun) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: RecordCoding.maxKeySize)
            let n = buffer.withUnsafeMutableBytes { RecordCoding.encodeKey(r, into: $0, version: version) }
            return Array(buffer[..<n])
        }
        for a in runs.prefix(60) {
            for b in runs.prefix(60) {
                #expect((a < b) == key(a).lexicographicallyPrecedes(key(b)), "\(a) vs \(b)")
            }
            key(a).withUnsafeBytes { #expect(RecordCoding.decodeKey($0, version: version) == a) }
        }
        // The key of [1 2] differs from [2 1]: order-sensitive, unlike an XOR hash.
        #expect(key(run(1, 2)) != key(run(2, 1)))
    }
}
