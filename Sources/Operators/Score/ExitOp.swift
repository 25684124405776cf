import Foundation
import Graph
import ModelRuntime

/// `score.exit`: CALM's token-level early exit (Schuster et al. 2022, "Confident Adaptive Language
/// Modeling"), training-free. The model runs layer by layer; at each candidate depth a confidence
/// measure decides whether this token stops there, and the layers it skips get keys and values
/// from its exit state (CALM's state propagation, `EarlyExit`). Lossy by design: the compiler
/// labels graphs that use it so, and `decograph bench graphs` reports their agreement with the
/// full model and the perplexity the full model gives their output.
public struct ExitOp: HypothesisOperator {
    /// CALM's two measures that need no trained classifier.
    enum Measure: String, ParameterEnumeration {
        /// Top-1 minus top-2 probability of the exit's own softmax (one LM-head product per probe).
        case softmaxMargin = "softmax_margin"
        /// Cosine similarity of the hidden state with the previous candidate's (no LM head).
        case saturation
    }

    /// The declaration.
    public static let spec = OpSpec(
        "score.exit", family: .score,
        doc: "CALM's early exit (Schuster et al. 2022), training-free: each token runs the model's layers until, at a candidate depth, its confidence measure reaches `threshold` — the softmax margin (top-1 − top-2 probability of the exit's logits) or hidden-state saturation (cosine with the previous candidate's state); the layers it skips get keys and values projected from its exit state. Lossy: the graph is labelled so.",
        parameters: [model.spec, measure.spec, threshold.spec, every.spec, minLayers.spec],
        output: OutputSpec(.scores, doc: "The exit depth's logits at the root."),
        approximates: Approximation("exits before the model's last layer where its confidence measure passes the threshold"))

    static let model = OpParameter<String>("model", .modelRef, doc: "The model to run, and exit from.")
    static let measure = OpParameter<Measure>("measure", default: .softmaxMargin,
                                              doc: "`softmax_margin` (each probe costs one LM-head product: on a small model with a large vocabulary, several layers' worth) or `saturation` (free, but it can only exit from the second candidate on).")
    static let threshold = OpParameter<Double>("threshold", range: .closed(0, 1),
                                               doc: "Exit when the measure reaches this: a margin in probability, or a cosine similarity. No default: it is the speed–quality dial and depends on the model (CALM calibrates it per task).")
    static let every = OpParameter<Int>("every", default: 4, range: .atLeast(1),
                                        doc: "Candidate exits every this many layers after the first. CALM probes every layer; 4 keeps the softmax measure's LM-head products to a fraction of the layers they could save.")
    static let minLayers = OpParameter<Int>("min_layers", default: 4, range: .atLeast(1),
                                            doc: "Layers every token runs before the first candidate exit (the first candidate's depth). It must be below the model's layer count.")

    let measure: Measure
    let threshold: Double
    let every: Int
    let minLayers: Int

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for a missing threshold.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        measure = try node[Self.measure]
        threshold = try node[Self.threshold]
        every = try node[Self.every]
        minLayers = try node[Self.minLayers]
    }

    /// The candidate exit depths of a model of `total` layers.
    /// - Parameter total: the model's layer count.
    /// - Returns: `min_layers`, then every `every` layers, below `total`.
    /// - Throws: `OperatorError.invalidParameter` when `min_layers` leaves no candidate.
    func depths(of total: Int) throws -> [Int] {
        guard minLayers < total else {
            throw OperatorError(.invalidParameter, at: Self.minLayers.name, "\(minLayers) leaves no layer to exit before; the model has \(total) layers")
        }
        return Array(stride(from: minLayers, to: total, by: every))
    }

    /// Whether a probe is confident by `measure`: its decision, given the previous candidate's
    /// hidden state (saturation).
    /// - Parameters:
    ///   - probe: the candidate exit.
    ///   - previous: the previous candidate's hidden state, if any.
    /// - Returns: whether every row the pass returns is confident.
    func confident(_ probe: ExitProbe, previous: [Float]?) -> Bool {
        switch measure {
        case .softmaxMargin:
            let logits = probe.logits
            let width = logits.count / max(probe.rows, 1)
            return (0..<probe.rows).allSatisfy { Self.softmaxMargin(logits[($0 * width)..<(($0 + 1) * width)]) >= threshold }
        case .saturation:
            guard let previous, previous.count == probe.hidden.count else { return false }
            let width = probe.hidden.count / max(probe.rows, 1)
            return (0..<probe.rows).allSatisfy {
                let range = ($0 * width)..<(($0 + 1) * width)
                return Self.cosine(probe.hidden[range], previous[range]) >= threshold
            }
        }
    }

    /// Top-1 minus top-2 probability of the softmax of `logits`.
    /// - Parameter logits: one row.
    /// - Returns: the margin in `[0, 1]`.
    static func softmaxMargin(_ logits: ArraySlice<Float>) -> Double {
        var first = -Float.infinity, second = -Float.infinity
        for value in logits {
            if value > first { (first, second) = (value, first) } else if value > second { second = value }
        }
        guard first.isFinite else { return 0 }
        let sum = logits.reduce(0.0) { $0 + Foundation.exp(Double($1 - first)) }
        return (1 - Foundation.exp(Double(second - first))) / sum
    }

    /// Cosine similarity of two vectors (0 when either is zero).
    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }

    /// Scores the root, exiting where the measure is confident.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root.
    /// - Throws: `OperatorError` for a model without layers or `min_layers` past its depth; the
    ///   model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        guard let total = scorer.layerCount else {
            throw OperatorError(.unscorableContext, at: Self.model.name, "this model has no layers to exit from")
        }
        var previous: [Float]?
        let exit = try EarlyExit(depths: try depths(of: total), of: total) { probe in
            defer { previous = probe.hidden }
            return confident(probe, previous: previous)
        }
        let (logits, _) = try scorer.nextLogits(context: input.history.tokens, exit: exit)
        try ScoreOp.requireFinite([logits], model: Self.model.name)
        return .scores(tree: TokenTree(), logits: [logits])
    }
}
