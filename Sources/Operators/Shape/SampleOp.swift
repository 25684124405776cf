import Constraints
import Graph

/// `sample`: logits to next-token distributions with transformers' processors in its order
/// (penalties, masks, then temperature, top-k, top-p, min-p, typical, epsilon, eta). See `LogitsPipeline`.
public struct SampleOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "sample", family: .shape,
        doc: "Logits to next-token distributions: a constraint's mask (when a constrain.* node filtered the tree), then repetition/presence/frequency penalties, suppressed tokens, then temperature, top-k, top-p, min-p, typical, epsilon and eta, in transformers' order; temperature 0 is greedy (one-hot argmax).",
        parameters: sampling.specs,
        inputs: [PortSpec("from", .scores, doc: "The target's scores.")],
        output: OutputSpec(.distribution, propagates: ["from"], doc: "A distribution at the root and every tree node."),
        validate: OpValidation.checks { node, _ in _ = try SampleOp.pipeline(node) })

    /// Temperature 1 by default: plain sampling from the model's distribution, as transformers.
    static let sampling = SamplingParameters(temperatureDefault: 1, penalties: true)

    let pipeline: LogitsPipeline

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: the target model's sampling defaults, for parameters the graph leaves out.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        pipeline = try Self.pipeline(node, defaults: environment.samplingDefaults)
    }

    /// The node's shaping pipeline (its validation when the graph is compiled, without defaults).
    static func pipeline(_ node: Plan.Node, defaults: [String: Double] = [:]) throws -> LogitsPipeline {
        try LogitsPipeline(sampling.settings(of: node, defaults: defaults))
    }

    /// Shapes every row, each with its own history (the context plus the draft path to it).
    /// - Parameters:
    ///   - input: the history and the scores.
    ///   - rng: unused (selection is the verifier's).
    /// - Returns: `.distributions`.
    /// - Throws: `OperatorError` when shaping leaves no token or the input is not scores.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        guard case .scores(let tree, var logits) = try input.single("from") else { throw StepInput.wrongKind("from", "scores") }
        if let masks = tree.allowedNext {
            // A constraint filtered the tree: forbidden tokens go first, before any processor.
            guard masks.count == logits.count else {
                throw OperatorError(.shapeMismatch, at: "from", "\(masks.count) constraint masks for \(logits.count) scored rows")
            }
            for (row, mask) in masks.enumerated() { mask?.forbidOthers(in: &logits[row]) }
        }
        let rows = try pipeline.distributions(treeLogits: logits, context: input.history, tree: tree)
        return .distributions(tree: tree, rows: rows, greedy: pipeline.settings.isGreedy)
    }
}
