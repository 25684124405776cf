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

    @Test func valueRoundTripsAndEveryTruncationIsRejected() {
        let summary = Self.sample()
        let bytes = RecordCoding.encodeValue(summary)
        bytes.withUnsafeBytes { #expect(RecordCoding.decodeValue($0) == summary) }
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            prefix.withUnsafeBytes { #expect(RecordCoding.decodeValue($0) == nil, "prefix of \(cut) bytes decoded") }
        }
        var longer = bytes
        longer.append(0)
        longer.withUnsafeBytes { #expect(RecordCoding.decodeValue($0) == nil) }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var stream = TokenStream(seed: 3)
        var decoded = 0
        for length in 0..<400 {
            let bytes = (0..<(length % 40)).map { _ in UInt8(truncatingIfNeeded: stream.next(vocabulary: 256)) }
            bytes.withUnsafeBytes { if RecordCoding.decodeValue($0) != nil { decoded += 1 } }
        }
        // Mostly garbage; the point is that every call returned.
        #expect(decoded < 400)
    }

    @Test func keyOrderIsContextOrder() {
        var stream = TokenStream(seed: 11)
        var runs: [TokenRun] = []
        for i in 0..<200 {
            // Small and large ids, so the sign bit of Int32 is exercised.
            let length = 1 + i % 4
            runs.append(TokenRun((0..<length).map { _ in stream.next(vocabulary: 3) == 0 ? -5 : stream.next(vocabulary: 4) }))
        }
        func key(_ r: TokenRun) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: RecordCoding.maxKeySize)
            let n = buffer.withUnsafeMutableBytes { RecordCoding.encodeKey(r, into: $0) }
            return Array(buffer[..<n])
        }
        for a in runs.prefix(60) {
            for b in runs.prefix(60) {
                #expect((a < b) == key(a).lexicographicallyPrecedes(key(b)), "\(a) vs \(b)")
            }
            key(a).withUnsafeBytes { #expect(RecordCoding.decodeKey($0) == a) }
        }
        // The key of [1 2] differs from [2 1]: order-sensitive, unlike an XOR hash.
        #expect(key(run(1, 2)) != key(run(2, 1)))
    }
}
