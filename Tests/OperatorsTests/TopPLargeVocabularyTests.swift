import Testing
@testable import Operators

/// Top-p on rows larger than its partial-sort threshold must remove exactly what the whole-row
/// walk (the form the transformers fixtures check on small rows) removes.
@Suite struct TopPLargeVocabularyTests {
    /// transformers' walk over the whole row sorted ascending.
    static func reference(_ logits: [Float], p: Float, minTokensToKeep: Int) throws -> [Float] {
        var out = logits
        let probabilities = try Distribution.softmax(logits)
        let ascending = logits.indices.filter { logits[$0] > -.infinity }.sorted { (logits[$0], $1) < (logits[$1], $0) }
        var cumulative = 0.0
        for (rank, i) in ascending.enumerated() where rank < ascending.count - minTokensToKeep {
            cumulative += Double(probabilities[i])
            guard cumulative <= 1 - Double(p) else { break }
            out[i] = -.infinity
        }
        return out
    }

    @Test(arguments: [Float(0.5), 0.95, 0.999])
    func partialSortRemovesWhatTheWholeWalkRemoves(p: Float) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(p * 1000))
        // Nuclei of a few tokens, of thousands (the partial sort grows), and of nearly all (it gives up).
        for (width, spread, masked, ties) in [(5_000, Float(8), false, false), (12_000, 3, true, true), (3_000, 0.5, true, false)] {
            for minKeep in [1, 400] {
                var row = (0 ..< width).map { _ in Float(Double(rng.next() % 1_000_000) / 1_000_000) * spread }
                if ties { row = row.map { ($0 * 4).rounded() / 4 } }
                if masked { for i in stride(from: 0, to: width, by: 3) { row[i] = -.infinity } }
                var got = row
                try TopPProcessor(p: p, minTokensToKeep: minKeep).process(&got, context: LogitsContext(tokens: [], promptCount: 0))
                let expected = try Self.reference(row, p: p, minTokensToKeep: minKeep)
                #expect(got == expected, "width \(width) spread \(spread) masked \(masked) ties \(ties) min_keep \(minKeep)")
            }
        }
    }
}
