import Graph
import ModelRuntime

/// `draft.model`: a chain of up to `tokens` tokens from a draft model, each with the distribution it
/// was drawn from (Leviathan et al. 2023; Chen et al. 2023). See `ModelDrafter`.
public struct DraftModelOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.model", family: .propose,
        doc: "A chain of up to `tokens` tokens from a draft model (Leviathan et al. 2023, Chen et al. 2023); sampled tokens carry their draft distributions, greedy ones are deterministic.",
        parameters: [model.spec, tokens.spec, minProbability.spec, layers.spec, skipLayers.spec] + sampling.specs,
        output: OutputSpec(.tokenTree, provides: [
            PropertyRule(.draftProbabilities, when: .greaterThan(sampling.temperature.name, 0)),
            PropertyRule(.deterministic, when: .equals(sampling.temperature.name, .float(0))),
            PropertyRule(.exactDraft),
        ], doc: "A chain of proposed tokens."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftModelOp.drafter(node) })

    static let model = OpParameter<String>("model", .modelRef, doc: "The draft model (same vocabulary as the target).")
    static let tokens = OpParameter<Int>("tokens", default: 4, range: .closed(1, 64),
                                         doc: "Most tokens proposed per step; 4–5 is where Leviathan et al. (2023) measure the best speedups for small drafters.")
    static let minProbability = OpParameter<Float>("min_prob", default: 0, range: .closed(0, 1),
                                                   doc: "Stop drafting before a position whose most likely token is below this probability (0 = never); looks at the distribution, never the drawn token, so sampling stays exact.")
    static let layers = OpParameter<Int?>("layers", range: .atLeast(1),
                                          doc: "Draft from the model's first `layers` layers and its final norm and LM head (LayerSkip, Elhoushi et al. 2024; Kangaroo's shallow sub-network, Liu et al. 2024): with the target as `model`, self-speculation without a second model, reading the target's KV cache of the committed context. Absent: every layer.")
    static let skipLayers = OpParameter<[Int]?>("skip_layers", range: .atLeast(0),
                                                doc: "Draft with these layers skipped (Draft & Verify, Zhang et al. 2024; SWIFT's skip sets, Xia et al. 2025): each is the identity on the residual stream. Absent: none.")
    /// Greedy by default: a greedy draft is deterministic, so either verifier accepts it without q.
    static let sampling = SamplingParameters(temperatureDefault: 0, penalties: false)

    let drafter: ModelDrafter
    /// The layers drafts run (`layers` or `skip_layers`); `nil` for the whole model.
    let depth: DraftDepth

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        drafter = try Self.drafter(node)
        depth = try Self.depth(node)
    }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> ModelDrafter {
        _ = try depth(node)
        return try ModelDrafter(tokens: node[tokens], minProbability: node[minProbability],
                                settings: sampling.settings(of: node), source: node.name)
    }

    /// The node's layer choice: `layers` and `skip_layers` exclude each other.
    static func depth(_ node: Plan.Node) throws -> DraftDepth {
        switch (try node[layers], try node[skipLayers]) {
        case (let n?, nil): return .first(n)
        case (nil, let s?): return s.isEmpty ? .all : .skipping(Set(s))
        case (nil, nil): return .all
        case (_?, _?): throw OperatorError(.invalidParameter, at: skipLayers.name, "give either `layers` (the first n) or `skip_layers`, not both")
        }
    }

    /// Drafts a chain after the history with the bound draft model.
    /// - Parameters:
    ///   - input: the history and the draft model.
    ///   - rng: the node's generator.
    /// - Returns: `.tree`.
    /// - Throws: the model's error, or `OperatorError`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let model = try input.model(Self.model.name)
        return .tree(try drafter.draft(model: model, context: input.history, layers: try depth.selection(of: model), using: &rng))
    }
}

/// Which layers of its model a drafter runs.
enum DraftDepth: Sendable, Equatable {
    /// Every layer.
    case all
    /// The first `n`.
    case first(Int)
    /// All but these.
    case skipping(Set<Int>)

    /// The selection for a model, checked against its layer count (known once the model is bound).
    /// - Parameter model: the bound model.
    /// - Returns: the layers to run; `nil` for every layer.
    /// - Throws: `OperatorError.invalidParameter` at `layers` or `skip_layers` when the model has
    ///   fewer layers, or no layers to select.
    func selection(of model: any TreeScorer) throws -> LayerSelection? {
        if self == .all { return nil }
        let parameter = if case .first = self { DraftModelOp.layers.name } else { DraftModelOp.skipLayers.name }
        guard let total = model.layerCount else {
            throw OperatorError(.invalidParameter, at: parameter, "the drafting model has no layers to select")
        }
        do {
            switch self {
            case .all: return nil
            case .first(let n): return try LayerSelection(depth: n, of: total)
            case .skipping(let set): return try LayerSelection(skipping: set, of: total)
            }
        } catch let error as RuntimeError {
            throw OperatorError(.invalidParameter, at: parameter, "\(error.message) (the model has \(total) layers)")
        }
    }
}
