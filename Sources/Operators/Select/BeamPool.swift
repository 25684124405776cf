import Foundation

/// transformers' `BeamHypotheses`: the finished hypotheses of a scorer-based beam search (group
/// and constrained beam search), with its admission and stopping rules. Kept in the order they
/// joined, as transformers keeps them, because the order decides ties.
struct BeamPool: Sendable {
    /// Most hypotheses kept.
    let capacity: Int
    /// Exponent of the generated length dividing the summed log-probability.
    let lengthPenalty: Double
    /// The stopping rule.
    let earlyStopping: BeamSearch.EarlyStopping
    /// The budget, for `never`'s best attainable score.
    let maxNewTokens: Int
    /// The hypotheses, in the order they joined.
    private(set) var hypotheses: [BeamSearch.Hypothesis] = []
    /// The worst score in a full pool (transformers' `worst_score`, 10⁹ while empty).
    private(set) var worstScore: Float = 1e9

    /// `BeamHypotheses.add`: scores the hypothesis, admits it while the pool has room or when it
    /// beats the worst, and drops the worst (the earliest among equals) beyond the capacity.
    /// - Parameters:
    ///   - tokens: the generated tokens.
    ///   - logProbability: their summed (shaped) log-probability.
    ///   - generatedLength: the length the score is normalised by.
    mutating func add(_ tokens: [Int32], logProbability: Float, generatedLength: Int) {
        let score = logProbability / Float(pow(Double(generatedLength), lengthPenalty))
        guard hypotheses.count < capacity || score > worstScore else { return }
        hypotheses.append(BeamSearch.Hypothesis(tokens: tokens, score: score, logProbability: logProbability))
        if hypotheses.count > capacity {
            let order = hypotheses.indices.sorted { (hypotheses[$0].score, $0) < (hypotheses[$1].score, $1) }
            worstScore = hypotheses[order[1]].score
            hypotheses.remove(at: order[0])
        } else {
            worstScore = min(score, worstScore)
        }
    }

    /// `BeamHypotheses.is_done`: whether nothing still running can enter a full pool.
    /// - Parameters:
    ///   - bestScore: the best candidate's summed log-probability this step.
    ///   - length: the generated length after this step.
    func isDone(bestScore: Float, length: Int) -> Bool {
        guard hypotheses.count >= capacity else { return false }
        let denominator: Int
        switch earlyStopping {
        case .whenFull: return true
        case .heuristic: denominator = length
        case .never: denominator = lengthPenalty > 0 ? maxNewTokens : length
        }
        return worstScore >= bestScore / Float(pow(Double(denominator), lengthPenalty))
    }

    /// Hypotheses of several pools, best first; on equal scores the later one first, as
    /// transformers' `finalize` pops them from a stable ascending sort.
    static func ranked(_ hypotheses: [BeamSearch.Hypothesis]) -> [BeamSearch.Hypothesis] {
        hypotheses.enumerated().sorted { ($0.element.score, $0.offset) > ($1.element.score, $1.offset) }.map(\.element)
    }
}
