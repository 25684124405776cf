import Foundation
import Graph
import ModelRuntime

/// `score.depth`: a depth that falls with the token's position, so later tokens run fewer layers
/// — D³ (Fan et al. 2025, "Position-Aware Depth Decay Decoding"): `⌊L·αⁱ⌋` layers for the `i`-th
/// generated token, the flexible middle layers dropped first; SkipDecode (Del Corro et al. 2023):
/// a budget falling linearly over the sequence, the lower layers bypassed. Each token runs a
/// subset of the layers the token before it ran, so every layer a token attends through holds
/// keys and values at every earlier position and nothing is recomputed or copied — the property
/// both papers build on. Lossy: the graph is labelled so.
public struct DepthOp: HypothesisOperator {
    /// How the layer budget falls with position.
    enum Schedule: String, ParameterEnumeration {
        /// D³'s power law: `⌊L·alpha^i⌋`.
        case decay
        /// SkipDecode's line from `max_layers` at the first generated token to `min_layers` at token `span`.
        case linear
    }

    /// Which layers a smaller budget drops.
    enum Drop: String, ParameterEnumeration {
        /// The top ones: the first `n` layers run (early exit).
        case upper
        /// The bottom ones: the last `n` layers run (SkipDecode).
        case lower
        /// The middle ones: the first `head_layers` and the top of the stack run (D³'s core and flex layers).
        case middle
    }

    /// The declaration.
    public static let spec = OpSpec(
        "score.depth", family: .score,
        doc: "Position-scheduled depth: the i-th generated token runs a budget of layers that falls with i — D³ (Fan et al. 2025): ⌊L·alpha^i⌋ (`schedule: decay`), dropping middle layers; SkipDecode (Del Corro et al. 2023): a linear fall over `span` tokens (`schedule: linear`), bypassing lower layers — never below `min_layers`. Each token runs a subset of its predecessor's layers, so the cache needs no recomputation. Lossy: the graph is labelled so.",
        parameters: [model.spec, schedule.spec, drop.spec, alpha.spec, span.spec, minLayers.spec, maxLayers.spec, headLayers.spec],
        output: OutputSpec(.scores, doc: "The scheduled layers' logits at the root."),
        approximates: Approximation("runs fewer of the model's layers as the output grows"),
        validate: OpValidation.checks { node, _ in _ = try DepthOp(node: node) })

    static let model = OpParameter<String>("model", .modelRef, doc: "The model whose layers are scheduled.")
    static let schedule = OpParameter<Schedule>("schedule", default: .decay, doc: "`decay` (D³) or `linear` (SkipDecode).")
    static let drop = OpParameter<Drop>("drop", default: .middle,
                                        doc: "Which layers a smaller budget leaves out: `middle` (D³), `lower` (SkipDecode), `upper` (plain early exit).")
    static let alpha = OpParameter<Double>("alpha", default: 0.995, range: .openClosed(0, 1),
                                           doc: "The decay's base (`schedule: decay`): 0.995 halves the budget every 138 tokens, down to `min_layers`.")
    static let span = OpParameter<Int>("span", default: 256, range: .atLeast(1),
                                       doc: "Generated tokens over which the linear schedule falls from `max_layers` to `min_layers` (SkipDecode sets it to the generation length).")
    static let minLayers = OpParameter<Int>("min_layers", default: 1, range: .atLeast(1),
                                            doc: "The floor of the budget; the model's layer count at most.")
    static let maxLayers = OpParameter<Int?>("max_layers", range: .atLeast(1),
                                             doc: "The budget of the first generated token under `schedule: linear`; the model's layer count when left out.")
    static let headLayers = OpParameter<Int>("head_layers", default: 1, range: .atLeast(0),
                                             doc: "With `drop: middle`, the bottom layers every token keeps (D³'s head core layers; the first turns the embeddings into the stream the others read).")

    let schedule: Schedule
    let drop: Drop
    let alpha: Double
    let span: Int
    let minLayers: Int
    let maxLayers: Int?
    let headLayers: Int

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for `min_layers` above `max_layers`.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { try self.init(node: node) }

    /// Builds the node from its parameters alone (what `decograph check` runs too).
    /// - Parameter node: the plan node.
    /// - Throws: `OperatorError.invalidParameter` for `min_layers` above `max_layers`.
    init(node: Plan.Node) throws {
        schedule = try node[Self.schedule]
        drop = try node[Self.drop]
        alpha = try node[Self.alpha]
        span = try node[Self.span]
        minLayers = try node[Self.minLayers]
        maxLayers = try node[Self.maxLayers]
        headLayers = try node[Self.headLayers]
        if let maxLayers, maxLayers < minLayers {
            throw OperatorError(.invalidParameter, at: Self.maxLayers.name, "\(maxLayers) is below min_layers \(minLayers)")
        }
    }

    /// The layer budget of the `i`-th generated token (0-based) in a model of `total` layers:
    /// non-increasing in `i`, within `min_layers...total`.
    /// - Parameters:
    ///   - i: generated tokens before it.
    ///   - total: the model's layer count.
    /// - Returns: layers to run.
    func budget(at i: Int, of total: Int) -> Int {
        let floor = min(minLayers, total)
        switch schedule {
        case .decay:
            return max(floor, min(total, Int((Double(total) * pow(alpha, Double(i))).rounded(.down))))
        case .linear:
            let top = min(maxLayers ?? total, total)
            let fallen = Double(top - floor) * Double(min(i, span)) / Double(span)
            return max(floor, top - Int(fallen.rounded(.down)))
        }
    }

    /// The layers a budget of `n` runs; a smaller budget runs a subset of a larger one's.
    /// - Parameters:
    ///   - n: layers to run, `1...total`.
    ///   - total: the model's layer count.
    /// - Returns: the selection.
    /// - Throws: never for `n` in range.
    func selection(layers n: Int, of total: Int) throws -> LayerSelection {
        switch drop {
        case .upper:
            return try LayerSelection(depth: n, of: total)
        case .lower:
            return try LayerSelection(skipping: Set(0..<(total - n)), of: total)
        case .middle:
            let head = min(headLayers, n)
            return try LayerSelection(skipping: Set(head..<(total - (n - head))), of: total)
        }
    }

    /// Scores the root with the position's layers.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root.
    /// - Throws: `OperatorError.unscorableContext` for a model without layers; the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        guard let total = scorer.layerCount else {
            throw OperatorError(.unscorableContext, at: Self.model.name, "this model has no layers to schedule")
        }
        let n = budget(at: input.history.tokens.count - input.history.promptCount, of: total)
        let logits = try scorer.nextLogits(context: input.history.tokens, layers: n == total ? nil : try selection(layers: n, of: total))
        try ScoreOp.requireFinite([logits], model: Self.model.name)
        return .scores(tree: TokenTree(), logits: [logits])
    }
}
