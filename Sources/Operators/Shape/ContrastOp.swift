import Graph

/// `contrast`: contrastive decoding as a combination of two scores over one tree — the expert's
/// and the amateur's logits, row by row, at the root and every tree node. See
/// `ContrastiveCombination` for the formula. Its output is `scores`, so `sample`, `verify` and
/// `search.beam` read it as they read a model's.
public struct ContrastOp: HypothesisOperator {
    /// O'Brien & Lewis 2023's β for reasoning (their §3, "β = 0.5 … across tasks").
    static let defaultBeta = 0.5
    /// The plausibility cut of both papers (Li et al. 2023, §3.2; O'Brien & Lewis 2023, §2).
    static let defaultAlpha = 0.1

    /// The declaration.
    public static let spec = OpSpec(
        "contrast", family: .shape,
        doc: "Contrastive decoding (Li et al. 2023; O'Brien & Lewis 2023): on the expert's plausible set {x : p_e(x) ≥ alpha · max p_e}, (1 + beta) · expert − beta · amateur on logits (formula: extrapolate), log p_e − log p_a (formula: difference) or expert − beta · amateur (formula: subtract, instructive decoding, Kim et al. 2024); −inf elsewhere. With contrast_when it contrasts only where the expert is uncertain and passes its row through elsewhere (USCD, Wang et al. 2024). Both inputs must score the same tree with one vocabulary.",
        parameters: [beta.spec, alpha.spec, formula.spec, contrastWhen.spec, threshold.spec],
        inputs: [
            PortSpec("expert", .scores, doc: "The expert's scores: the model whose distribution is sharpened; the run's target."),
            PortSpec("amateur", .scores, doc: "The amateur's scores over the same tree, from a model with the same vocabulary."),
        ],
        output: OutputSpec(.scores, propagates: ["expert", "amateur"], doc: "Contrasted logits at the root and every node of the expert's tree."),
        validate: OpValidation.checks { node, plan in
            _ = try ContrastOp.combination(node)
            try ContrastOp.requireSameTrees(node, plan: plan)
        })

    static let beta = OpParameter<Double>("beta", default: defaultBeta, range: .atLeast(0),
                                          doc: "The amateur's weight: in (1 + beta) · expert − beta · amateur (extrapolate) or expert − beta · amateur (subtract); 0 returns the expert on the plausible set. Default 0.5, O'Brien & Lewis 2023's setting for reasoning. Not used by formula: difference.")
    static let alpha = OpParameter<Double>("alpha", default: defaultAlpha, range: .closed(0, 1),
                                           doc: "Plausibility cut: tokens below alpha × the expert's top probability get −inf; 0 keeps every token. Default 0.1, as in both papers.")
    static let formula = OpParameter<ContrastiveCombination.Formula>("formula", default: .extrapolate,
                                                                     doc: "extrapolate: (1 + beta) · expert − beta · amateur on logits (O'Brien & Lewis 2023); difference: log p_expert − log p_amateur (Li et al. 2023's objective, the beta → ∞ limit at temperature beta); subtract: expert − beta · amateur on logits (instructive decoding, Kim et al. 2024, beta being its ε).")
    static let contrastWhen = OpParameter<When>("contrast_when", default: .always,
                                                doc: "Which rows are contrasted: always (contrastive decoding), or only where the expert is uncertain — its entropy in nats above threshold, or its top probability below threshold — with the expert's row passed through unchanged elsewhere (USCD, Wang et al. 2024).")
    static let threshold = OpParameter<Double?>("threshold", range: .atLeast(0),
                                                doc: "The uncertainty bound of contrast_when: nats for entropy_above, a probability in [0, 1] for max_prob_below. Required with either, refused with always; no default, because the right bound depends on the model and the vocabulary.")

    /// `contrast_when`'s words.
    enum When: String, ParameterEnumeration {
        case always
        case entropyAbove = "entropy_above"
        case maxProbBelow = "max_prob_below"
    }

    let combination: ContrastiveCombination

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings that do not fit together.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { combination = try Self.combination(node) }

    /// A node with a given combination (tests).
    init(combination: ContrastiveCombination) { self.combination = combination }

    /// The node's combination (its validation when the graph is compiled).
    /// - Parameter node: the plan node.
    /// - Returns: the combination its parameters describe.
    /// - Throws: `OperatorError.invalidParameter` for a threshold missing, out of range or unused,
    ///   or a beta written with `formula: difference`, which ignores it.
    static func combination(_ node: Plan.Node) throws -> ContrastiveCombination {
        let formula = try node[Self.formula]
        if formula == .difference, node.written.contains(beta.name) {
            throw OperatorError(.invalidParameter, at: beta.name, "formula: difference is log p_expert − log p_amateur and has no beta; remove beta or use formula: extrapolate")
        }
        let threshold = try node[Self.threshold]
        let selection: ContrastiveCombination.Selection
        switch try node[contrastWhen] {
        case .entropyAbove:
            guard let threshold else { throw missingThreshold("entropy_above", "an entropy in nats") }
            selection = .entropyAbove(threshold)
        case .maxProbBelow:
            guard let threshold else { throw missingThreshold("max_prob_below", "a probability in [0, 1]") }
            try OperatorError.require("threshold", threshold, in: 0...1, "in [0, 1] (a probability) with contrast_when: max_prob_below")
            selection = .maxProbabilityBelow(threshold)
        case .always:
            if threshold != nil {
                throw OperatorError(.invalidParameter, at: "threshold", "a threshold only applies with contrast_when: entropy_above or max_prob_below; this node contrasts always")
            }
            selection = .always
        }
        return ContrastiveCombination(beta: try node[beta], alpha: try node[alpha], formula: formula, selection: selection)
    }

    static func missingThreshold(_ mode: String, _ what: String) -> OperatorError {
        OperatorError(.invalidParameter, at: "threshold", "contrast_when: \(mode) needs a threshold (\(what)); give one on the node")
    }

    /// Refuses inputs that score different trees: rows are combined position by position, so both
    /// sides must have scored the same proposals. Each side's trees are the token trees feeding it
    /// (through any chain of score-producing nodes); the root alone when none does.
    /// - Throws: a `NodeProblem` at `amateur` naming both sides' trees.
    static func requireSameTrees(_ node: Plan.Node, plan: Plan) throws {
        func trees(_ index: Int, _ seen: Set<Int>) -> Set<Int> {
            var found: Set<Int> = []
            for input in plan.nodes[index].inputs where input.timing == .sameStep {
                for source in input.sources where !seen.contains(source) {
                    switch plan.nodes[source].outputType {
                    case .tokenTree: found.insert(source)
                    case .scores: found.formUnion(trees(source, seen.union([source])))
                    default: break
                    }
                }
            }
            return found
        }
        func side(_ port: String) -> Set<Int> { node.sources(port).reduce(into: Set<Int>()) { $0.formUnion(trees($1, [$1])) } }
        let expert = side("expert"), amateur = side("amateur")
        guard expert != amateur else { return }
        func names(_ set: Set<Int>) -> String {
            set.isEmpty ? "the root only" : "tree " + set.sorted().map { "'\(plan.nodes[$0].name)'" }.joined(separator: ", ")
        }
        throw NodeProblem("amateur", "the amateur scores \(names(amateur)) but the expert scores \(names(expert)); contrast combines their rows position by position, so both must score the same tree")
    }

    /// Combines the expert's and amateur's rows.
    /// - Parameters:
    ///   - input: the two scores.
    ///   - rng: unused.
    /// - Returns: `.scores` over the expert's tree (its constraint masks kept).
    /// - Throws: `OperatorError.shapeMismatch` when the two score different trees or vocabularies,
    ///   or the combination's error for a row it refuses.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        guard case .scores(let tree, let expert) = try input.single("expert") else { throw StepInput.wrongKind("expert", "scores") }
        guard case .scores(let amateurTree, let amateur) = try input.single("amateur") else { throw StepInput.wrongKind("amateur", "scores") }
        guard tree.count == amateurTree.count,
              zip(tree.nodes, amateurTree.nodes).allSatisfy({ $0.token == $1.token && $0.parent == $1.parent }) else {
            throw OperatorError(.shapeMismatch, at: "amateur", "the amateur scored a tree of \(amateurTree.count) nodes that differs from the expert's \(tree.count); both must score the same tree")
        }
        guard expert.count == amateur.count else {
            throw OperatorError(.shapeMismatch, at: "amateur", "\(amateur.count) amateur rows for \(expert.count) expert rows")
        }
        let rows = try zip(expert, amateur).enumerated().map { position, pair in
            try combination.combine(expert: pair.0, amateur: pair.1, position: position)
        }
        return .scores(tree: tree, logits: rows)
    }
}
