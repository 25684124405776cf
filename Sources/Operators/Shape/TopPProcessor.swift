import Foundation

/// Nucleus filtering (Holtzman et al. 2020) with transformers' `TopPLogitsWarper` boundary rule:
/// walking tokens from least to most probable, a token is removed while the cumulative probability
/// up to and including it is ≤ 1 − p. The kept set is the smallest top set whose mass is ≥ p.
public struct TopPProcessor: LogitsProcessor {
    /// The nucleus mass, in (0, 1].
    public let p: Float
    /// The most probable tokens always kept.
    public let minTokensToKeep: Int
    /// `top_p`.
    public var name: String { "top_p" }

    /// Creates the processor.
    /// - Parameters:
    ///   - p: the mass to keep, in (0, 1].
    ///   - minTokensToKeep: tokens kept whatever their mass, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values outside those ranges.
    public init(p: Float, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("top_p", p, in: Float.leastNonzeroMagnitude...1, "in (0, 1]")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.p = p
        self.minTokensToKeep = minTokensToKeep
    }

    /// Removes the low-probability tail outside the nucleus.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard let probabilities = try? Distribution.softmax(logits) else { return }
        let live = logits.reduce(0) { $0 + ($1 > -.infinity ? 1 : 0) }
        let threshold = 1 - Double(p)
        // The walk removes a token only when the tokens above it hold at least p, so once the
        // best k hold p everything below them goes: sort only those k (a nucleus is usually a few
        // hundred of 49 152 tokens; sorting the whole row cost more than the forward pass).
        var k = max(256, minTokensToKeep)
        while k < live - minTokensToKeep {
            let top = Distribution.topIndices(logits, k)
            var inTop = [Bool](repeating: false, count: logits.count)
            for i in top { inTop[i] = true }
            var below = 0.0
            for i in logits.indices where !inTop[i] && logits[i] > -.infinity { below += Double(probabilities[i]) }
            // Walked from the bottom, the tokens below the best k never lift the sum above 1 − p.
            if below <= threshold {
                for i in logits.indices where !inTop[i] { logits[i] = -.infinity }
                walk(&logits, ascending: top.reversed(), probabilities: probabilities, from: below, threshold: threshold)
                return
            }
            k *= 4
        }
        // Ascending by probability over the tokens still alive (after top-k, only k of them); equal
        // logits fall back to index order so the result is deterministic.
        let ascending = logits.indices.filter { logits[$0] > -.infinity }.sorted { (logits[$0], $1) < (logits[$1], $0) }
        walk(&logits, ascending: ascending, probabilities: probabilities, from: 0, threshold: threshold)
    }

    /// transformers' walk from the least probable token: each is removed while the cumulative
    /// probability up to and including it stays ≤ 1 − p, sparing the last `minTokensToKeep`.
    private func walk(_ logits: inout [Float], ascending: some Collection<Int>, probabilities: [Float], from start: Double, threshold: Double) {
        var cumulative = start
        for (rank, i) in ascending.enumerated() where rank < ascending.count - minTokensToKeep {
            cumulative += Double(probabilities[i])
            guard cumulative <= threshold else { break }
            logits[i] = -.infinity
        }
    }
}
