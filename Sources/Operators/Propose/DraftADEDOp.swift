import Graph
import NGramStore

/// `draft.aded`: ADED (Liu et al. 2024, "Adaptive Draft-Verification for Efficient Large Language
/// Model Decoding"). A tri-gram matrix learned from the text the run commits (`TrigramTable`),
/// optionally seeded by an n-gram store's pairs as the corpus the paper starts from, drafts a tree
/// by Monte Carlo tree search (`TrigramTreeSearch`). The search's roll-outs draw from a generator
/// seeded by the context, so the draft is a deterministic function of the context and the matrix:
/// either verifier accepts it without draft probabilities.
public struct DraftADEDOp: HypothesisOperator, CommitObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.aded", family: .propose,
        doc: "ADED (Liu et al. 2024): an adaptive tri-gram matrix — what followed each pair of tokens in the text this node has seen committed (prompt and output, kept for the session), optionally blended with an n-gram store's counts as the starting corpus — drafts a tree by Monte Carlo tree search (PUCT selection, roll-outs sampled from the matrix); the most visited paths, each lengthened by the likeliest next token, are merged into one tree. Deterministic given the context and the matrix.",
        parameters: [store.spec, candidates.spec, corpusWeight.spec, iterations.spec, depth.spec, paths.spec, tokens.spec, prompt.spec]
            + DraftLength.parameters,
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "The merged paths, empty before the context's last pair has a continuation; each node's probability is the matrix's for its token after its parent."),
        needs: [CapabilityRule(.tokenTrees), CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, plan in
            _ = try DraftLength.of(node, tokens: node[tokens])
            try StoreDeclarations.requireReadable(node[store], plan: plan, at: store.name, minimumContext: pair)
        })

    static let store = OpParameter<String?>("store", .storeRef,
                                            doc: "A store declared under `stores:` whose counts after each pair of tokens start the matrix (the paper's corpus); it is read, never written. Without one the matrix starts empty and learns from the context alone.")
    static let candidates = OpParameter<Int>("candidates", default: 12, range: .closed(1, 64),
                                             doc: "Continuations kept per pair: the paper prunes its matrix to the top 12.")
    static let corpusWeight = OpParameter<Double>("corpus_weight", default: 4, range: .closed(0, 1_000_000),
                                                  doc: "How many observations a pair's store distribution counts as against the counts learned in this session: small, so the model's own output soon outweighs the corpus (the adaptation the paper is named for).")
    static let iterations = OpParameter<Int>("iterations", default: 48, range: .closed(1, 4096),
                                             doc: "Search iterations per draft (each a descent, an expansion and a roll-out over the matrix; no model call).")
    static let depth = OpParameter<Int>("depth", default: 4, range: .closed(1, 32),
                                        doc: "Searched tokens per path; each returned path is lengthened by one more.")
    static let paths = OpParameter<Int>("paths", default: 4, range: .closed(1, 64),
                                        doc: "Most visited paths merged into the draft tree.")
    static let tokens = OpParameter<Int>("tokens", default: 12, range: .closed(1, Double(DraftLength.longest)),
                                         doc: "Most nodes in the tree (each is a row of the verification pass; the cap under `schedule: optimal`).")
    static let prompt = OpParameter<Bool>("prompt", default: true,
                                          doc: "Whether the prompt's tri-grams are learned as well as the output's (they let the first steps draft what the prompt quotes).")

    /// The context a tri-gram matrix's rows follow: a pair of tokens.
    static let pair = 2

    /// A hypothesis's draft length and how much of its history the matrix has learned.
    final class State: HypothesisState, @unchecked Sendable {
        let length: DraftLength.State
        var learned: Int
        init(length: DraftLength.State, learned: Int) {
            self.length = length
            self.learned = learned
        }
        func fork() -> any HypothesisState {
            State(length: length.fork() as! DraftLength.State, learned: learned)
        }
    }

    let table: TrigramTable
    let store: (any RetrievalStore)?
    let search: TrigramTreeSearch
    let candidates: Int
    let corpusWeight: Double
    let learnsPrompt: Bool
    let length: DraftLength
    let source: String

    /// Builds the node and opens its store.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: opens the store.
    /// - Throws: the environment's error for a store that cannot be opened.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        store = try node[Self.store].map { try environment.retrievalStore(named: $0) }
        candidates = try node[Self.candidates]
        table = TrigramTable(counters: 2 * candidates)
        corpusWeight = try node[Self.corpusWeight]
        search = TrigramTreeSearch(iterations: try node[Self.iterations], depth: try node[Self.depth], paths: try node[Self.paths])
        learnsPrompt = try node[Self.prompt]
        length = try DraftLength.of(node, tokens: node[Self.tokens])
        source = node.name
    }

    /// A fresh hypothesis's state.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State(length: length.makeState(), learned: -1) }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Moves the draft length after a commit.
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - state: the hypothesis's state.
    public func committed(_ commit: StepCommit, state: (any HypothesisState)?) {
        length.update(commit, source: source, state: (state as? State)?.length)
    }

    /// A pair's continuations: the session's counts plus the store's shares weighted by
    /// `corpus_weight`, the best `candidates`, normalised.
    func transitions(after first: Int32, _ second: Int32, index: (any ContinuationIndex)?) throws -> [TrigramTreeSearch.Transition] {
        var weights: [Int32: Double] = [:]
        for entry in table.followers(of: first, second) { weights[entry.token, default: 0] += Double(entry.count) }
        if let index, corpusWeight > 0, let summary = try index.continuations(of: [first, second][...]), summary.total > 0 {
            for entry in summary.entries where entry.tokens.count == 1 {
                weights[entry.tokens[0], default: 0] += corpusWeight * Double(entry.count) / Double(summary.total)
            }
        }
        let kept = weights.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(candidates)
        let total = kept.reduce(0) { $0 + $1.value }
        return total > 0 ? kept.map { .init(token: $0.key, probability: $0.value / total) } : []
    }

    /// Learns the history's new tri-grams, then searches below its last pair.
    /// - Parameters:
    ///   - input: the history.
    ///   - rng: unused: the roll-outs draw from a generator seeded by the context.
    /// - Returns: `.tree`.
    /// - Throws: `NGramStoreError` for a damaged store record.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let tokens = input.history.tokens
        let state = input.state as? State
        let first = learnsPrompt ? 0 : input.history.promptCount
        // A hypothesis learns each position once (a fresh one from its start); one that re-opened
        // an earlier point learns again from there.
        if let state {
            table.learn(tokens, from: max(first, state.learned < 0 ? first : min(state.learned, tokens.count)))
            state.learned = tokens.count
        }
        let budget = min(state?.length.length ?? length.initial, length.initial)
        guard tokens.count >= 2, budget > 0 else { return .tree(TokenTree()) }
        let (a, b) = (tokens[tokens.count - 2], tokens[tokens.count - 1])
        var local = Xoshiro256StarStar(seed: UInt64(tokens.count) &* 0x9E37_79B9_7F4A_7C15 ^ TrigramTable.key(a, b))
        // The search asks for the same pairs again and again (every descent and roll-out): each
        // pair's transitions are read, from the table and the store, once per draft.
        func searched(_ index: (any ContinuationIndex)?) throws -> [[TrigramTreeSearch.Transition]] {
            var memo: [UInt64: [TrigramTreeSearch.Transition]] = [:]
            return try search.search(after: a, b, rng: &local) { x, y in
                if let known = memo[TrigramTable.key(x, y)] { return known }
                let found = try transitions(after: x, y, index: index)
                memo[TrigramTable.key(x, y)] = found
                return found
            }
        }
        let found = try store.map { try $0.withContinuationIndex { try searched($0) } } ?? searched(nil)
        return .tree(try Self.merge(found, budget: budget, source: source))
    }

    /// Paths merged into a tree, shared prefixes once, up to `budget` nodes.
    static func merge(_ paths: [[TrigramTreeSearch.Transition]], budget: Int, source: String) throws -> TokenTree {
        var tree = TokenTree()
        var left = budget
        try tree.appendTrie(paths.map { $0.map(\.token) }, probabilities: paths.map { $0.map { Float($0.probability) } },
                            below: TokenTree.root, source: source, budget: &left)
        return tree
    }
}
