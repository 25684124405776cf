import Graph

/// `search.lattice`: best-first lattice search with path recombination (Xu, Jonnalagadda & Durrett
/// 2022). See `LatticeSearch`.
public struct LatticeSearchOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.lattice", family: .select,
        doc: "Best-first search that grows a lattice: each step expands the width best open nodes (one batched pass) into their branch most likely tokens; a child whose last ngram tokens equal an existing node's of the same length recombines with it, so the lattice encodes many more paths than it has nodes. Ends when budget nodes were expanded; answers with the best closed path; run --lattice FILE writes the lattice (.fst OpenFst text, .dot, .json) with its count of distinct paths.",
        parameters: [width.spec, branch.spec, budget.spec, ngram.spec, merge.spec, lengthPenalty.spec, rollout.spec],
        inputs: [PortSpec("from", .scores, doc: "Each expanded node's next-token logits (a root-only score).")],
        output: OutputSpec(.frontier, doc: "The nodes to expand next."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, plan in try ReopeningSearch.check(plan, search: "'\(node.name)' (search.lattice)") })

    static let width = OpParameter<Int>("width", default: 4, range: .closed(1, 64), doc: "Open nodes expanded per step, scored in one forward pass.")
    static let branch = OpParameter<Int>("branch", default: 4, range: .closed(1, 64), doc: "Next tokens tried per expanded node (the k of its top-k).")
    static let budget = OpParameter<Int>("budget", default: 128, range: .closed(1, 100_000), doc: "Most nodes expanded over the search (model rows scored); the search's cost.")
    static let ngram = OpParameter<Int>("ngram", default: 4, range: .closed(0, 64),
                                        doc: "Path recombination: a child joins an existing node of the same length whose last ngram tokens are the same (the paper's n-gram suffix, 4); 0 turns it off (plain best-first search).")
    static let merge = OpParameter<LatticeSearch.Merge>("merge", default: .node,
                                                        doc: "How a recombining child joins the lattice: node, an arc from its parent into the node ending alike (recombination); zip, the two paths merged along the whole span where their tokens agree — the arc leaves the child's first differing ancestor, so that ancestor's path shares the existing one's nodes over the span (the paper's zip).")
    static let lengthPenalty = OpParameter<Double>("length_penalty", default: 1, range: .closed(-10, 10),
                                                   doc: "Open nodes and closed paths are ranked by logprob / length^length_penalty (1: mean log-probability).")

    static let rollout = OpParameter<Bool>("rollout", default: false,
                                           doc: "Follow each expanded node's most likely child next, ahead of the queue, until its path closes or recombines (the paper's dfs_expand): more closed paths per budget.")

    let settings: (width: Int, branch: Int, budget: Int, ngram: Int, lengthPenalty: Double, rollout: Bool, merge: LatticeSearch.Merge)

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        settings = (try node[Self.width], try node[Self.branch], try node[Self.budget], try node[Self.ngram], try node[Self.lengthPenalty],
                    try node[Self.rollout], try node[Self.merge])
    }

    /// Lattice search re-opens nodes from earlier steps, not only children of the last one.
    public var reopensHypotheses: Bool { true }

    /// Starts a search from the prompt.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        let search = try LatticeSearch(width: settings.width, branch: settings.branch, budget: settings.budget, ngram: settings.ngram,
                                       lengthPenalty: settings.lengthPenalty, rollout: settings.rollout, merge: settings.merge, maxNewTokens: maxNewTokens,
                                       eosTokens: eosTokens)
        return Search(search: search, state: search.start())
    }

    struct Search: FrontierSearch {
        let search: LatticeSearch
        var state: LatticeSearch.State

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.finished.first?.tokens }
        var candidates: [FrontierCandidate] { state.finished }
        var lattice: SearchLattice? { state.lattice }

        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
            try search.step(&state, logits: BeamSearchOp.rows(inputs))
        }
    }
}

/// `merge:` names the join by its value.
extension LatticeSearch.Merge: ParameterEnumeration {}
