import Graph
import Synchronization

/// `draft.suffix`: SuffixDecoding (Oliaro et al. 2025). See `SuffixDrafter`. The context is the
/// per-request index; the node's earlier outputs (kept for the session, as the paper's global tree)
/// are the other. Deterministic given both.
public struct DraftSuffixOp: HypothesisOperator, RunObserver, CommitObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.suffix", family: .propose,
        doc: "SuffixDecoding (Oliaro et al. 2025): the longest suffix of the context (up to max_depth tokens) found earlier in the context or in the session's earlier outputs; the continuations of all its occurrences merged into a tree grown best-first by empirical probability, up to factor × the match length tokens. Deterministic.",
        parameters: [tokens.spec, maxDepth.spec, minMatch.spec, factor.spec, minProbability.spec, remember.spec] + DraftLength.parameters,
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "The continuation tree, empty without a match of min_match tokens."),
        needs: [CapabilityRule(.tokenTrees), CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in
            _ = try DraftSuffixOp.drafter(node)
            _ = try DraftLength.of(node, tokens: node[tokens])
        })

    static let tokens = OpParameter<Int>("tokens", default: 16, range: .closed(1, Double(DraftLength.longest)),
                                         doc: "Most draft tokens per step (the starting length under `schedule: heuristic`).")
    static let maxDepth = OpParameter<Int>("max_depth", default: 32, range: .closed(1, 1024),
                                           doc: "Longest context suffix matched (the paper's tree depth, 64 on GPUs; 32 here).")
    static let minMatch = OpParameter<Int>("min_match", default: 2, range: .closed(1, 1024), doc: "Shortest match that drafts.")
    static let factor = OpParameter<Double>("factor", default: 1, range: .greaterThan(0),
                                            doc: "Draft tokens per matched token: the paper's adaptive speculation length, longer matches earning longer drafts.")
    static let minProbability = OpParameter<Double>("min_probability", default: 0.1, range: .closed(0, 1),
                                                    doc: "Continuations taken by fewer than this share of the match's occurrences are not proposed.")
    static let remember = OpParameter<Int>("remember", default: 200_000, range: .closed(0, 100_000_000),
                                           doc: "Tokens of the session's earlier outputs searched as the global corpus (oldest dropped first); 0 searches the context only.")

    /// Earlier outputs, shared by the node's runs.
    final class History: Sendable {
        let outputs: Mutex<[[Int32]]> = Mutex([])
    }

    let drafter: SuffixDrafter
    let limit: Int
    let history = History()
    /// The length policy shared with the other drafters (`schedule: heuristic` follows acceptance).
    let length: DraftLength

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused.
    /// - Throws: `OperatorError.invalidParameter` when `min_match` exceeds `max_depth`.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        drafter = try Self.drafter(node)
        limit = try node[Self.remember]
        length = try DraftLength.of(node, tokens: node[Self.tokens])
    }

    /// The hypothesis's current draft length.
    /// - Returns: a `DraftLength.State`.
    public func makeState() throws -> (any HypothesisState)? { length.makeState() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }
    /// The drafts read the whole context each step; the one state, the draft length, is not tied to
    /// the path it grew along (a hypothesis re-opened elsewhere starts from its parent's length), so
    /// a search may jump (`search.mcts`).
    public static var stateFollowsHistory: Bool { true }

    /// Moves the draft length after a commit (`schedule: heuristic`).
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - state: the hypothesis's length.
    public func committed(_ commit: StepCommit, state: (any HypothesisState)?) {
        length.update(commit, source: drafter.source, state: state)
    }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> SuffixDrafter {
        let depth = try node[maxDepth], shortest = try node[minMatch]
        guard shortest <= depth else {
            throw OperatorError(.invalidParameter, at: minMatch.name, "\(shortest) exceeds max_depth \(depth)")
        }
        return SuffixDrafter(maxDepth: depth, minMatch: shortest, factor: try node[factor], maxTokens: try node[tokens],
                             minProbability: try node[minProbability], source: node.name)
    }

    /// Drafts from the context and the earlier outputs.
    /// - Parameters:
    ///   - input: the history.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        .tree(try drafter.draft(context: input.history.tokens, earlier: history.outputs.withLock { $0 },
                                limit: (input.state as? DraftLength.State)?.length))
    }

    /// Remembers the run's output for later runs, within `remember` tokens.
    /// - Parameters:
    ///   - prompt: unused (the context index covers it).
    ///   - output: the emitted tokens.
    public func runFinished(prompt: [Int32], output: [Int32]) {
        guard limit > 0, !output.isEmpty else { return }
        history.outputs.withLock { outputs in
            outputs.append(Array(output.suffix(limit)))
            var total = outputs.reduce(0) { $0 + $1.count }
            while total > limit, outputs.count > 1 {
                total -= outputs.removeFirst().count
            }
        }
    }
}
