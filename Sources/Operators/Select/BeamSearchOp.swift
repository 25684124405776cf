import Constraints
import Graph
import Tokenization

/// `search.beam`: beam search with transformers' semantics (length penalty, EOS handling, early
/// stopping), Kasai et al.'s patience, and with `groups` > 1 diverse beam search (Vijayakumar et
/// al. 2018) as transformers' group beam search runs it. See `BeamSearch` and `GroupBeamSearch`.
public struct BeamSearchOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.beam", family: .select,
        doc: "Beam search as transformers runs it: every beam extended by every token, the best width kept, finished hypotheses scored logprob / length^length_penalty; patience scales the finished pool; with groups > 1, diverse beam search (transformers' group beam search); with phrases, lexically constrained beam search (transformers' force_words_ids).",
        parameters: [width.spec, lengthPenalty.spec, earlyStopping.spec, patience.spec, groups.spec, diversityPenalty.spec,
                     phrases.spec, phraseIDs.spec, allocation.spec, repetitionPenalty.spec, noRepeatNGramSize.spec],
        inputs: [PortSpec("from", .scores, doc: "Each running beam's next-token logits: a root-only score, or a score over a drafted tree below each beam — the search then takes a beam step from the root rows and further steps from the rows of the new beams' tokens in their parents' trees, while every surviving beam's row was scored (the same beams as root-only scoring, in fewer passes).")],
        output: OutputSpec(.frontier, doc: "The next beams."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, plan in
            _ = try BeamSearchOp(node: node, plan: plan, checking: true).start(prompt: [0], maxNewTokens: 1, eosTokens: [], seed: 0)
        })

    static let width = OpParameter<Int>("width", default: 4, range: .closed(1, 64), doc: "Beams kept per step (transformers' num_beams).")
    static let lengthPenalty = OpParameter<Double>("length_penalty", default: 1, range: .closed(-10, 10),
                                                   doc: "Exponent of the generated length dividing finished scores (transformers' default 1; > 0 favours longer outputs).")
    static let earlyStopping = OpParameter<BeamSearch.EarlyStopping>("early_stopping", default: .heuristic,
                                                                     doc: "transformers' early_stopping: true stops when width hypotheses are finished, false uses its heuristic, never the canonical rule.")
    static let patience = OpParameter<Double>("patience", default: 1, range: .closed(0.01, 100),
                                              doc: "Kasai et al.'s patience factor: the finished pool (per group) holds width · patience hypotheses, so with early_stopping: true the search runs on until that many finished (1 is transformers' beam search).")
    static let groups = OpParameter<Int>("groups", default: 1, range: .closed(1, 64),
                                         doc: "Diverse beam search: the beams split into this many groups of width / groups, each penalised for tokens earlier groups chose at the same step (transformers' num_beam_groups; 1 is plain beam search).")
    static let diversityPenalty = OpParameter<Double>("diversity_penalty", default: 0, range: .closed(0, 1000),
                                                      doc: "Subtracted from a token's log-probability once per earlier group's beam that chose it this step (Hamming diversity; transformers' diversity_penalty). Needs groups > 1, where it must be > 0.")
    static let phrases = OpParameter<[String]?>("phrases", nonEmpty: true,
                                                doc: "Lexically constrained beam search (Dynamic Beam Allocation as transformers' force_words_ids runs it): phrases that must appear in the output, each encoded with the target's tokenizer as written (in byte-level BPE a word after a space starts with one: \" cat\"). Candidates that advance a phrase join each step's, the beam is shared round-robin by banks of equal progress, and a hypothesis may end only once every phrase appeared. Without phrases here, a constrain.phrases node upstream of `from` gives them (its mask keeps EOS out until every phrase appeared, the same rule).")
    static let phraseIDs = OpParameter<[[Int]]?>("phrase_ids", doc: "The phrases as token ids instead of text (for models without a tokenizer, or one exact tokenization).")
    static let allocation = OpParameter<Allocation>("allocation", default: .dba,
                                                    doc: "How a lexically constrained search shares its beams: dba, one beam of width split into banks by progress (transformers' force_words_ids); grid, Grid Beam Search's cell of width per number of phrase tokens covered, all cells scored in one pass (width × (tokens + 1) rows).")
    static let repetitionPenalty = SamplingParameters.repetitionPenalty.documented(
        "CTRL repetition penalty applied to each beam's log-probabilities, as transformers does; 1 is off.")
    static let noRepeatNGramSize = SamplingParameters.noRepeatNGramSize.documented(
        "No beam may repeat an n-gram of this length (prompt included): tokens that would are removed from its candidates, as transformers' no_repeat_ngram_size does in beam search; 0 is off.")

    let width: Int
    let lengthPenalty: Double
    let earlyStopping: BeamSearch.EarlyStopping
    let patience: Double
    let groups: Int
    let diversityPenalty: Double
    /// The phrases of a lexically constrained search, as token ids (`nil`: unconstrained).
    let phraseTokens: [[Int32]]?
    let allocationRule: Allocation
    let shaping: LogitsPipeline?

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        try self.init(node: node, plan: environment.plan, tokenizer: environment.tokenizer)
    }

    /// Builds the node; `tokenizer` encodes text phrases (the compiler's check passes none and
    /// checks only what the text phrases' tokens do not decide); `plan` holds a `constrain.phrases`
    /// node the phrases may come from.
    init(node: Plan.Node, plan: Plan? = nil, tokenizer: Tokenizer? = nil, checking: Bool = false) throws {
        width = try node[Self.width]
        lengthPenalty = try node[Self.lengthPenalty]
        earlyStopping = try node[Self.earlyStopping]
        patience = try node[Self.patience]
        groups = try node[Self.groups]
        diversityPenalty = try node[Self.diversityPenalty]
        shaping = try Self.shaping(node)
        if groups == 1, diversityPenalty != 0 {
            throw OperatorError(.invalidParameter, at: "diversity_penalty", "needs groups > 1 (one group has no earlier group to differ from)")
        }
        allocationRule = try node[Self.allocation]
        var texts = try node[Self.phrases]
        let ids = try node[Self.phraseIDs]
        if let plan, let upstream = try Self.constraintPhrases(of: node, in: plan) {
            if texts != nil || ids != nil {
                throw OperatorError(.invalidParameter, at: texts != nil ? Self.phrases.name : Self.phraseIDs.name,
                                    "the phrases come from node '\(upstream.node)' (constrain.phrases) upstream of 'from'; give them once")
            }
            texts = upstream.phrases
        }
        if texts == nil, ids == nil, node.written.contains(Self.allocation.name) {
            throw OperatorError(.invalidParameter, at: Self.allocation.name, "allocation shares beams among phrases; give phrases or phrase_ids")
        }
        if texts != nil, ids != nil {
            throw OperatorError(.invalidParameter, at: Self.phraseIDs.name, "give the phrases once: as text (phrases) or as token ids (phrase_ids)")
        }
        if texts != nil || ids != nil, groups > 1 {
            throw OperatorError(.invalidParameter, at: Self.groups.name, "lexically constrained beams run one group (transformers refuses both together too)")
        }
        if let ids {
            phraseTokens = ids.map { $0.map(Int32.init) }
        } else if let texts {
            if let tokenizer {
                phraseTokens = try texts.enumerated().map { index, text in
                    let tokens = tokenizer.encode(text, addSpecialTokens: false)
                    guard !tokens.isEmpty else {
                        throw OperatorError(.invalidParameter, at: "\(Self.phrases.name)[\(index)]", "'\(text)' encodes to no tokens")
                    }
                    return tokens
                }
            } else if checking {
                phraseTokens = texts.map { _ in [0] }
            } else {
                throw OperatorError(.invalidParameter, at: Self.phrases.name, "text phrases need the target's tokenizer, and it has none; give phrase_ids")
            }
        } else {
            phraseTokens = nil
        }
    }

    /// The phrases of a `constrain.phrases` node feeding the beam's `from` (through its score's
    /// tree and any filters before it), with the node's name; `nil` when none does.
    static func constraintPhrases(of node: Plan.Node, in plan: Plan) throws -> (node: String, phrases: [String])? {
        var pending = node.inputs.flatMap(\.sources), seen = Set<Int>()
        while let index = pending.popLast() {
            guard seen.insert(index).inserted, index < plan.nodes.count else { continue }
            let upstream = plan.nodes[index]
            if upstream.op == ConstrainPhrasesOp.spec.name { return (upstream.name, try upstream[ConstrainPhrasesOp.phrases]) }
            pending += upstream.inputs.filter { $0.timing == .sameStep }.flatMap(\.sources)
        }
        return nil
    }

    /// The node's shaping of each beam's log-probabilities, `nil` when none is on.
    static func shaping(_ node: Plan.Node) throws -> LogitsPipeline? {
        var settings = SamplingSettings.greedy
        settings.repetitionPenalty = try node[repetitionPenalty]
        settings.noRepeatNGramSize = try node[noRepeatNGramSize]
        guard settings != .greedy else { return nil }
        return try LogitsPipeline(settings)
    }

    /// Starts a search from the prompt.
    /// - Parameters:
    ///   - prompt: the prompt.
    ///   - maxNewTokens: the run's budget.
    ///   - eosTokens: tokens finishing a hypothesis.
    ///   - seed: unused (beams rank deterministically).
    /// - Returns: the search.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        if let phraseTokens, allocationRule == .grid {
            let search = try GridBeamSearch(width: width, phrases: phraseTokens, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                            patience: patience, maxNewTokens: maxNewTokens, eosTokens: eosTokens, shaping: shaping)
            return BeamFrontier(search, prompt: prompt)
        }
        if let phraseTokens {
            let search = try ConstrainedBeamSearch(numBeams: width, phrases: phraseTokens, lengthPenalty: lengthPenalty,
                                                   earlyStopping: earlyStopping, patience: patience, maxNewTokens: maxNewTokens,
                                                   eosTokens: eosTokens, shaping: shaping)
            return BeamFrontier(search, prompt: prompt)
        }
        if groups > 1 {
            let search = try GroupBeamSearch(numBeams: width, groups: groups, diversityPenalty: diversityPenalty,
                                             lengthPenalty: lengthPenalty, earlyStopping: earlyStopping, patience: patience,
                                             maxNewTokens: maxNewTokens, eosTokens: eosTokens.sorted(), shaping: shaping)
            return BeamFrontier(search, prompt: prompt)
        }
        let search = try BeamSearch(numBeams: width, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                    patience: patience, maxNewTokens: maxNewTokens, eosTokens: eosTokens, shaping: shaping)
        return BeamFrontier(search, prompt: prompt)
    }

    /// Each running beam's scores: the tree its pass scored (empty for a root-only score) and the
    /// logits of the root and every node.
    static func scoredTrees(_ inputs: [StepValue]) throws -> [(tree: TokenTree, logits: [[Float]])] {
        try inputs.map {
            guard case .scores(let tree, let logits) = $0, logits.count == tree.count + 1 else { throw StepInput.wrongKind("from", "scores") }
            return (tree, logits)
        }
    }

    /// One row of a scored tree (0 the root, n + 1 node n), with a constraint's mask for it
    /// applied (a constrain.* node before `score` masks the beam's candidates there).
    static func row(_ scored: (tree: TokenTree, logits: [[Float]]), at index: Int) throws -> [Float] {
        var row = scored.logits[index]
        if let masks = scored.tree.allowedNext, index < masks.count, let mask = masks[index] { mask.forbidOthers(in: &row) }
        return row
    }

    /// A step's scored trees as a search steps through them (`BeamFrontier`, `search.mcts`'s
    /// drafted roll-outs): each hypothesis's rows (0 the root, n + 1 node n) and, for a token taken
    /// at a row, the row of the tree node below it that holds that token.
    struct ScoredTrees {
        let trees: [(tree: TokenTree, logits: [[Float]])]
        private let children: [[[Int]]]

        init(_ inputs: [StepValue]) throws {
            trees = try BeamSearchOp.scoredTrees(inputs)
            children = trees.map { $0.tree.childLists() }
        }

        /// Row `index` of `hypothesis`'s tree, with a constraint's mask for it applied.
        func row(_ index: Int, of hypothesis: Int) throws -> [Float] { try BeamSearchOp.row(trees[hypothesis], at: index) }

        /// The row of the node below row `index` of `hypothesis`'s tree that holds `token`, if any.
        func row(below index: Int, of hypothesis: Int, token: Int32) -> Int? {
            let tree = trees[hypothesis].tree
            return children[hypothesis][index].first { tree.nodes[$0].token == token }.map { $0 + 1 }
        }
    }

    /// Each running beam's next-token row, with a constraint's root mask applied.
    static func rows(_ inputs: [StepValue]) throws -> [[Float]] {
        try scoredTrees(inputs).map { try row($0, at: 0) }
    }
}

/// `early_stopping:` names a rule by transformers' value (`true`, `false`, `never`).
extension BeamSearch.EarlyStopping: ParameterEnumeration {}

/// How a lexically constrained beam search shares its beams among degrees of progress.
enum Allocation: String, Sendable, CaseIterable, ParameterEnumeration {
    /// Dynamic Beam Allocation, transformers' form: one beam, banks by progress.
    case dba
    /// Grid Beam Search: a cell of `width` per number of phrase tokens covered.
    case grid
}
