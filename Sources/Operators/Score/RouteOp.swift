import Foundation
import Graph

/// `score.route`: entropy-adaptive decoding (Simonds et al. 2025, "Entropy Adaptive Decoding:
/// Dynamic Model Switching for Efficient Inference"). The small model scores every step; when the
/// mean entropy of its last `window` next-token distributions exceeds `threshold`, the large model
/// scores this step instead. Only the model that decides a step is used for it; the large model's
/// cache catches up on the tokens it skipped in one pass when it is next asked. Lossy: the output is
/// neither model's greedy decoding, so no identity oracle applies — the run's per-model metrics
/// give the switch rate (large calls / steps).
public struct RouteOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score.route", family: .score,
        doc: "Entropy-adaptive decoding (Simonds et al. 2025): the small model scores each step, and the large model takes over for a step when the small model's mean next-token entropy over its last `window` steps exceeds `threshold`. Lossy; the run's metrics count each model's calls (the switch rate).",
        parameters: [large.spec, small.spec, smallLayers.spec, threshold.spec, window.spec],
        output: OutputSpec(.scores, doc: "The deciding model's logits at the root."),
        approximates: Approximation("lets the small model decide the steps where it is confident, in place of the large one"))

    static let large = OpParameter<String>("large", .modelRef, doc: "The large model: the run's target (its tokenizer and end-of-sequence tokens).")
    static let small = OpParameter<String>("small", .modelRef, doc: "The small model, same vocabulary, scoring every step.")
    static let smallLayers = OpParameter<Int?>("small_layers", range: .atLeast(1),
                                               doc: "Run the small model with only its first `small_layers` layers and its final norm and LM head; with `small` naming the large model itself, the target at partial depth is the small model (no second model needed). Absent: every layer.")
    static let threshold = OpParameter<Double>("threshold", range: .atLeast(0),
                                               doc: "Mean entropy (nats) of the small model's recent distributions above which the large model scores the step. No default: it depends on the pair of models and the vocabulary.")
    static let window = OpParameter<Int>("window", default: 4, range: .closed(1, 1024),
                                         doc: "How many of the small model's latest distributions the rolling entropy averages (the current one included).")

    let threshold: Double
    let window: Int
    let smallLayers: Int?

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for a missing threshold.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        threshold = try node[Self.threshold]
        window = try node[Self.window]
        smallLayers = try node[Self.smallLayers]
    }

    /// The small model's recent entropies for one hypothesis.
    final class State: HypothesisState, @unchecked Sendable {
        var entropies: [Double] = []
        func fork() -> any HypothesisState {
            let copy = State()
            copy.entropies = entropies
            return copy
        }
    }

    /// A fresh hypothesis's window.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// The rolling mean entropy after adding `entropy` to the window.
    /// - Parameters:
    ///   - entropy: this step's entropy.
    ///   - history: earlier ones, oldest first (trimmed to the window in place).
    /// - Returns: the mean over the window.
    static func rollingMean(adding entropy: Double, to history: inout [Double], window: Int) -> Double {
        history.append(entropy)
        if history.count > window { history.removeFirst(history.count - window) }
        return history.reduce(0, +) / Double(history.count)
    }

    /// Scores the step with the small model, or the large one when the small model is unsure.
    /// - Parameters:
    ///   - input: the history and both models.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root.
    /// - Throws: the models' errors.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let context = input.history.tokens
        let smallModel = try input.model(Self.small.name)
        let layers = try smallLayers.flatMap { try DraftDepth.first($0).selection(of: smallModel, at: Self.smallLayers.name) }
        let fromSmall = try smallModel.nextLogits(context: context, layers: layers)
        try ScoreOp.requireFinite([fromSmall], model: Self.small.name)
        let entropy = Distribution.entropy(logProbabilities: try Distribution.logSoftmax(fromSmall))
        var mean = entropy
        if let state = input.state as? State {
            mean = Self.rollingMean(adding: entropy, to: &state.entropies, window: window)
        }
        guard mean > threshold else { return .scores(tree: TokenTree(), logits: [fromSmall]) }
        let fromLarge = try input.model(Self.large.name).nextLogits(context: context)
        try ScoreOp.requireFinite([fromLarge], model: Self.large.name)
        return .scores(tree: TokenTree(), logits: [fromLarge])
    }
}
