import Foundation
import Graph

/// `score.dola`: DoLa (Chuang et al. 2024, "DoLa: Decoding by Contrasting Layers Improves
/// Factuality in Large Language Models"), as transformers 4.x's `dola_layers` defines it. One pass
/// of the model also reads the LM head over the residual stream at candidate premature depths
/// (`ExitProbe.unnormalizedLogits`, what transformers reads from `hidden_states[j]`); the premature
/// layer whose distribution is furthest from the final one by Jensen–Shannon divergence is the
/// amateur, and the output is `log p_final − log p_premature` on the final distribution's plausible
/// set (probability ≥ `relative_top` × its maximum), −∞ elsewhere.
public struct DoLaOp: HypothesisOperator {
    /// Which half of the stack the candidate premature layers come from.
    enum Bucket: String, ParameterEnumeration {
        /// Even layers of the first half (after the embeddings when they are tied to the LM head).
        case low
        /// Even layers of the second half.
        case high
    }

    /// The declaration.
    public static let spec = OpSpec(
        "score.dola", family: .score,
        doc: "DoLa (Chuang et al. 2024; transformers' dola_layers): in one pass, the LM head also reads the residual stream at candidate premature layers; the one whose distribution diverges most from the final layer's (Jensen–Shannon) is contrasted: log p_final − log p_premature on tokens with p_final ≥ relative_top · max p_final, −∞ elsewhere. Pair with a sample node's repetition_penalty (1.2 in the paper and transformers).",
        parameters: [model.spec, premature.spec, prematureLayers.spec, relativeTop.spec],
        output: OutputSpec(.scores, doc: "The contrasted log-probabilities at the root."))

    static let model = OpParameter<String>("model", .modelRef, doc: "The model, contrasted with its own earlier layers.")
    static let premature = OpParameter<Bucket>("premature", default: .high,
                                               doc: "Candidate premature layers as transformers picks them: `high`, the even layers of the second half (of the last 20 past 40 layers); `low`, the even layers of the first half, from layer 2 when the embeddings are tied to the LM head (their early exit would be the identity).")
    static let prematureLayers = OpParameter<[Int]?>("premature_layers", range: .atLeast(0),
                                                     doc: "Explicit candidate layers (hidden-state indices: 0 the embeddings, j the output of j layers), replacing `premature`; those at or past the model's depth are dropped, as transformers does.")
    static let relativeTop = OpParameter<Double>("relative_top", default: 0.1, range: .openClosed(0, 1),
                                                 doc: "The plausibility cut: tokens below relative_top × the final layer's top probability get −∞ (0.1, the paper's and transformers' value).")

    let bucket: Bucket
    let explicit: [Int]?
    let relativeTop: Double

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: never for a checked node.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        bucket = try node[Self.premature]
        explicit = try node[Self.prematureLayers]
        relativeTop = try node[Self.relativeTop]
    }

    /// The candidate premature layers of an `n`-layer model, as transformers 4.46 chooses them.
    /// - Parameters:
    ///   - n: the model's layer count.
    ///   - tied: whether its embeddings are its LM head.
    /// - Returns: ascending hidden-state indices below `n`.
    func candidates(layers n: Int, tied: Bool) -> [Int] {
        if let explicit { return explicit.filter { $0 < n } }
        let start = !tied ? 0 : n > 2 ? 2 : n == 2 ? 1 : 0
        switch bucket {
        case .low:
            if start == n / 2 { return [start] }
            return Array(stride(from: start, to: n <= 40 ? n / 2 : 20, by: 2))
        case .high:
            return Array(stride(from: n <= 40 ? n / 2 : n - 20, to: n, by: 2))
        }
    }

    /// `log_softmax` in Double.
    static func logSoftmax(_ row: [Float]) -> [Double] { Distribution.logSoftmaxDouble(row.map(Double.init)) }

    /// The Jensen–Shannon divergence of two distributions given as log-probabilities, averaged
    /// over the vocabulary as transformers' `kl_div(…).mean(-1)` does (the argmax is the same).
    static func jensenShannon(_ a: [Double], _ b: [Double]) -> Double {
        var total = 0.0
        for (x, y) in zip(a, b) {
            let m = 0.5 * (Foundation.exp(x) + Foundation.exp(y))
            guard m > 0 else { continue }
            let logM = Foundation.log(m)
            total += 0.5 * (m * (logM - x) + m * (logM - y))
        }
        return total / Double(max(a.count, 1))
    }

    /// DoLa's contrast of a final row with the premature rows.
    /// - Parameters:
    ///   - final: the final layer's logits.
    ///   - premature: each candidate's logits, in candidate order.
    /// - Returns: the contrasted row and the chosen candidate's index.
    func contrast(final: [Float], premature: [[Float]]) -> (row: [Float], chosen: Int) {
        let finalLog = Self.logSoftmax(final)
        var chosen = 0
        if premature.count > 1 {
            let divergences = premature.map { Self.jensenShannon(finalLog, Self.logSoftmax($0)) }
            chosen = divergences.indices.max { divergences[$0] < divergences[$1] || (divergences[$0] == divergences[$1] && $0 > $1) }!
        }
        let baseLog = Self.logSoftmax(premature[chosen])
        // transformers' relative-top filter: below max + ln(relative_top) the final score is −∞
        // (and the base's a small constant, which −∞ absorbs).
        let threshold = (finalLog.max() ?? 0) + Foundation.log(relativeTop)
        let row = finalLog.indices.map { x -> Float in finalLog[x] < threshold ? -.infinity : Float(finalLog[x] - baseLog[x]) }
        return (row, chosen)
    }

    /// Scores the root and contrasts it with the most divergent premature layer.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root.
    /// - Throws: `OperatorError` for a model without layers or no candidate layer; the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        let depths = try LayerReadings.depths(of: scorer, parameter: Self.prematureLayers.name, candidates)
        let read = try LayerReadings(scorer, context: input.history.tokens, depths: depths, model: Self.model.name)
        let (row, _) = contrast(final: read.final, premature: read.layers)
        return .scores(tree: TokenTree(), logits: [row])
    }
}
