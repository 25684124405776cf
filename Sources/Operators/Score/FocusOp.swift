import Foundation
import Graph

/// `score.focus`: Dynamic Focus Decoding (Luo et al. 2025, "Odysseus Navigates the Sirens' Song:
/// Dynamic Focus Decoding for Factual and Diverse Open-Ended Text Generation"), as the authors'
/// code defines it. In one pass the LM head also reads the residual stream after each candidate
/// layer (`ExitProbe.unnormalizedLogits`); the step's knowledge awareness KA is the mean over those
/// layers of KL(p_final ‖ p_layer), both restricted to the final distribution's plausible tokens
/// (probability above `relative_top` × its maximum), and the step's temperature is
/// `base_temperature · 0.5^(KA / sigma)`: focused where the deep layers changed their mind
/// (knowledge), relaxed where they did not. The output is the final logits divided by it, for a
/// `sample` node to draw from.
public struct FocusOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score.focus", family: .score,
        doc: "Dynamic Focus Decoding (Luo et al. 2025): one pass also reads the LM head after each candidate layer; the mean KL from the final distribution to theirs over its plausible tokens (p > relative_top · max p) sets the step's temperature, base_temperature · 0.5^(KA / sigma); outputs the final logits divided by it, for a sampling `sample` node.",
        parameters: [model.spec, focusLayers.spec, relativeTop.spec, baseTemperature.spec, sigma.spec],
        output: OutputSpec(.scores, doc: "The final layer's logits divided by the step's temperature, at the root."))

    static let model = OpParameter<String>("model", .modelRef, doc: "The model.")
    static let focusLayers = OpParameter<[Int]?>("focus_layers", range: .atLeast(0),
                                                 doc: "Candidate layers (hidden-state indices: j is the output of j layers); every layer from the first (from 1 when the embeddings are tied to the LM head) when left out, as the reference code does. Those at or past the model's depth are dropped.")
    static let relativeTop = OpParameter<Double>("relative_top", default: 0.1, range: .openClosed(0, 1),
                                                 doc: "Tokens with final probability above relative_top × its maximum are the ones compared (0.1 in the reference code).")
    static let baseTemperature = OpParameter<Double>("base_temperature", default: 1.1, range: .greaterThan(0),
                                                     doc: "The temperature where the layers agree (KA = 0); 1.1 in the reference demo.")
    static let sigma = OpParameter<Double>("sigma", default: 4.0, range: .greaterThan(0),
                                           doc: "KA at which the temperature halves (the reference demo's focus_sigma, 4).")

    let layers: [Int]?
    let relativeTop: Double
    let baseTemperature: Double
    let sigma: Double

    /// The logit masked tokens get before the log-softmax (the reference code's value): far enough
    /// below any real logit that they carry no probability.
    static let maskedLogit = -1e9

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: never for a checked node.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        layers = try node[Self.focusLayers]
        relativeTop = try node[Self.relativeTop]
        baseTemperature = try node[Self.baseTemperature]
        sigma = try node[Self.sigma]
    }

    /// The candidate layers of an `n`-layer model.
    func candidates(layers n: Int, tied: Bool) -> [Int] {
        if let layers { return layers.filter { $0 < n } }
        return Array((tied && n > 1 ? 1 : 0)..<n)
    }

    /// `log_softmax` of a row with the tokens outside `mask` at `maskedLogit`, in Double.
    static func maskedLogSoftmax(_ row: [Float], mask: [Bool]) -> [Double] {
        Distribution.logSoftmaxDouble(zip(row, mask).map { $1 ? Double($0) : maskedLogit })
    }

    /// KA: the mean over layers of KL(p_final ‖ p_layer) on the final distribution's plausible tokens.
    /// - Parameters:
    ///   - final: the final layer's logits.
    ///   - premature: each candidate layer's logits.
    /// - Returns: the knowledge awareness.
    func focusWeight(final: [Float], premature: [[Float]]) -> Double {
        let top = Double(final.max() ?? 0)
        // p > relative_top · max p  ⇔  logit − max > ln relative_top.
        let mask = final.map { Double($0) - top > Foundation.log(relativeTop) }
        let finalLog = Self.maskedLogSoftmax(final, mask: mask)
        let total = premature.reduce(0.0) { sum, layer in
            let layerLog = Self.maskedLogSoftmax(layer, mask: mask)
            var kl = 0.0
            for x in finalLog.indices where mask[x] { kl += Foundation.exp(finalLog[x]) * (finalLog[x] - layerLog[x]) }
            return sum + kl
        }
        return total / Double(max(premature.count, 1))
    }

    /// The step's temperature for a knowledge awareness.
    func temperature(focusWeight: Double) -> Double { baseTemperature * Foundation.pow(0.5, focusWeight / sigma) }

    /// Scores the root and divides it by the step's temperature.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root.
    /// - Throws: `OperatorError` for a model without layers or no candidate layer; the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        let depths = try LayerReadings.depths(of: scorer, parameter: Self.focusLayers.name, candidates)
        let read = try LayerReadings(scorer, context: input.history.tokens, depths: depths, model: Self.model.name)
        let t = temperature(focusWeight: focusWeight(final: read.final, premature: read.layers))
        return .scores(tree: TokenTree(), logits: [read.final.map { Float(Double($0) / t) }])
    }
}
