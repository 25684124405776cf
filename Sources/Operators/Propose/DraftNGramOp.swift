import Graph
import NGramStore
import Synchronization

/// `draft.ngram`: retrieval drafts from three tiers — the current context, a dynamic table of this
/// session's earlier outputs, and a persistent LMDB n-gram store. See `NGramDrafter`.
public struct DraftNGramOp: HypothesisOperator, RunObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.ngram", family: .propose,
        doc: "Retrieval drafts without a draft model (llama.cpp's lookup caches, REST): what followed the longest matching suffix before, from three tiers tried in order — the current context, a dynamic table of this session's earlier outputs, a persistent store (an LMDB n-gram store, or a read-only suffix array over a corpus for exact matches up to its longest context) — proposed best-first as a token tree. Minimum-count and minimum-share gates keep rare continuations out.",
        parameters: [store.spec, tokens.spec, depth.spec, context.spec, dynamic.spec, gates.spec, minCount.spec, minShare.spec],
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "A token tree, empty when no tier passes its gates; nodes are tagged ngram.context, ngram.dynamic or ngram.store."),
        needs: [CapabilityRule(.rollback), CapabilityRule(.tokenTrees)],
        validate: OpValidation.checks { node, plan in try StoreDeclarations.requireReadable(node[store], plan: plan, at: store.name) })

    static let store = OpParameter<String?>("store", .storeRef,
                                            doc: "The persistent tier, a store declared under `stores:` (an LMDB store, or a suffix-array store, told apart by the file's magic; a suffix array is read-only, so its declaration may not say learn: true); without one only the context and dynamic tiers propose.")
    static let tokens = OpParameter<Int>("tokens", default: 8, range: .closed(1, 64), doc: "Most nodes in the proposed tree.")
    static let depth = OpParameter<Int>("depth", default: 4, range: .closed(1, Double(TokenRun.capacity)),
                                        doc: "Longest proposed path (store paths are also limited by the store's continuation length).")
    static let context = OpParameter<Int>("context", default: 4, range: .closed(1, Double(TokenRun.capacity)),
                                          doc: "Longest suffix of the context matched against the context itself (prompt lookup).")
    static let dynamic = OpParameter<Bool>("dynamic", default: true,
                                           doc: "Whether each finished run's output is remembered in memory for this session and proposed from in its later runs.")
    static let gates = OpParameter<Gates>("gates", default: .strict,
                                          doc: "Evidence the dynamic and store tiers need, as llama.cpp's presets by context length 1–4: strict (seen 4/3/2/2 times, share 0.75/0.66/0.66/0.66) suits a large corpus; lax (2/2/1/1, 0.66/0.5/0.5/0.5) lets a store that learned a few runs propose what it saw once. The context tier always uses lax.")
    static let minCount = OpParameter<Int?>("min_count", range: .atLeast(1),
                                            doc: "Overrides the gates: occurrences a matched context of the dynamic and store tiers needs, at every context length.")
    static let minShare = OpParameter<Double?>("min_share", range: .closed(0, 1),
                                               doc: "Overrides the gates: share of a parent's occurrences a proposed token must have followed, in the dynamic and store tiers, at every context length.")

    /// llama.cpp's gate presets, by name.
    enum Gates: String, ParameterEnumeration {
        case strict, lax

        var gates: DraftGates { self == .lax ? .lax : .strict }
    }

    /// The session's memory of its earlier outputs.
    final class DynamicTier: Sendable {
        let counts: Mutex<NGramCounts>
        init(parameters: NGramParameters) { counts = Mutex(NGramCounts(parameters: parameters)) }
    }

    let drafter: NGramDrafter
    let store: (any RetrievalStore)?
    let dynamic: DynamicTier?

    /// Builds the node and opens its store.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: opens the store.
    /// - Throws: the environment's error for a store that cannot be opened.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        store = try node[Self.store].map { try environment.retrievalStore(named: $0) }
        var gates = try node[Self.gates].gates
        if let count = try node[Self.minCount] { gates.minSamples = [count] }
        if let share = try node[Self.minShare] { gates.minShare = [share] }
        drafter = NGramDrafter(maxTokens: try node[Self.tokens], maxDepth: try node[Self.depth], contextLength: try node[Self.context],
                               contextGates: .lax, dynamicGates: gates, storeGates: gates)
        dynamic = try node[Self.dynamic] ? DynamicTier(parameters: store?.countParameters ?? NGramParameters()) : nil
    }

    /// Proposes from the tiers.
    /// - Parameters:
    ///   - input: the history.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree`.
    /// - Throws: `NGramStoreError` for a damaged store record.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let context = input.history.tokens
        let table = dynamic?.counts.withLock { $0 }
        let draft: DraftTree
        if let store {
            draft = try store.withContinuationIndex { try drafter.draft(context: context, dynamic: table, store: $0) }
        } else {
            draft = try drafter.draft(context: context, dynamic: table)
        }
        return .tree(Self.tokenTree(draft))
    }

    /// The drafter's tree as a token tree: deterministic nodes whose probability is the share of
    /// the parent's occurrences the token followed (how `tree.merge` ranks them).
    static func tokenTree(_ draft: DraftTree) -> TokenTree {
        var tree = TokenTree()
        for i in 0..<draft.count {
            let parent = draft.parents[i]
            let parentShare = parent < 0 ? 1 : draft.shares[parent]
            let conditional = parentShare > 0 ? min(1, draft.shares[i] / parentShare) : 0
            tree.appendTrusted(TokenTree.Node(token: draft.tokens[i], parent: parent, depth: 0,
                                              draftProbability: Float(conditional),
                                              source: "ngram." + draft.sources[i].rawValue),
                               parent: parent)
        }
        return tree
    }

    /// Remembers the run's output in the dynamic tier, led by the prompt's last tokens so the first
    /// generated tokens are counted with their context.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - output: the tokens it emitted.
    public func runFinished(prompt: [Int32], output: [Int32]) throws {
        guard let dynamic, !output.isEmpty else { return }
        dynamic.counts.withLock { counts in
            counts.learn(Array(prompt.suffix(counts.parameters.contextLength)) + output)
        }
    }
}
