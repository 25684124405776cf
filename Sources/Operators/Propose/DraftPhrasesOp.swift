import Graph

/// `draft.phrases`: Ouroboros's candidate pool and draft lengthening (Zhao et al. 2024,
/// "Ouroboros: Generating Longer Drafts Phrase by Phrase for Faster Speculative Decoding").
/// Every step the pool (`PhrasePool`) learns from the previous step's scores — the target's
/// predictions along every verified path, past the first rejection too — and the op appends pool
/// phrases below each leaf of its `tree` input that follow the leaf's token, so one target pass
/// verifies a longer draft. Without `tree` it drafts them below the context's last token: a
/// model-free drafter. The pool lives as long as the node (a session keeps it across runs: the
/// paper's warm start).
///
/// Lossless: the appended nodes are deterministic given the input tree and the pool (which this
/// step's verification has not touched yet), and they only hang below leaves, so every input node
/// keeps its siblings and its draft distribution — the rule `tree.merge` follows for mixed
/// sources (`TokenTree.MergeRule`). The output declares so through `OutputSpec.adds`.
public struct DraftPhrasesOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.phrases", family: .propose,
        doc: "Ouroboros (Zhao et al. 2024): a pool of phrases the target produced while verifying (its predictions along every scored path, past the first rejection too), keyed by the token they follow and refreshed from the previous step's scores, lengthens each leaf of `tree` with up to `branches` phrases after the leaf's token; without `tree`, drafts them after the context's last token. The appended nodes are deterministic.",
        parameters: [length.spec, keep.spec, branches.spec, capacity.spec, budget.spec],
        inputs: [PortSpec("scores", .scores, timing: .previousStep,
                          doc: "The scoring node whose previous-step logits (root and every tree node) feed the pool."),
                 PortSpec("tree", .tokenTree, optional: true,
                          doc: "The draft to lengthen (a draft model's chain); without it the op drafts below the context's last token.")],
        output: OutputSpec(.tokenTree, propagates: ["tree"], adds: [.deterministic, .exactDraft],
                           doc: "The input tree with pool phrases below its leaves (the root when it is empty or absent)."),
        needs: [CapabilityRule(.tokenTrees), CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, plan in
            _ = try DraftPhrasesOp.settings(node)
            if let masked = node.sources("tree").first(where: { plan.nodes[$0].properties.contains(.constraintMasks) }) {
                throw OperatorError(.invalidTree, at: "tree", "'\(plan.nodes[masked].name)' (\(plan.nodes[masked].op)) gives a constrained tree, whose masks would not cover the appended phrases; \(DraftPhrasesOp.constrainAfter)")
            }
        })

    static let length = OpParameter<Int>("length", default: 4, range: .closed(1, 64),
                                         doc: "Most tokens per phrase. Every token is a row of the verification pass, which costs on a CPU. On the demo pair (docs/measurements.md), drafting alone, 4 reached MAT 2.41 and 1.73–1.78× greedy against 2.09 and 1.59–1.77× for 2; below the draft model's 4-token chain, 2 kept pace with speculative decoding (0.96–1.05×, MAT 3.08) and 4 fell behind (0.87–0.96×, MAT 3.14), so graphs/ouroboros.yaml sets 2. The paper's longer phrases suit a GPU.")
    static let keep = OpParameter<Int>("keep", default: 4, range: .closed(1, 64),
                                       doc: "Phrases kept per token, the most recently refreshed (the bound that keeps a frequent token's entry from growing; a token has a few continuations worth trying).")
    static let branches = OpParameter<Int>("branches", default: 1, range: .closed(1, 64),
                                           doc: "Phrases appended below each leaf, most recent first, sharing common prefixes. 1 suits a CPU, where every extra branch is `length` more rows of every pass; the paper verifies several on a GPU.")
    static let capacity = OpParameter<Int>("capacity", default: 4096, range: .closed(1, 65_536),
                                           doc: "Phrases kept in all; past it the least recently refreshed goes. At most 4096 × length tokens, a fraction of a megabyte, while a session's text rarely makes more distinct phrases.")
    static let budget = OpParameter<Int>("budget", default: 16, range: .closed(1, 512),
                                         doc: "Most nodes appended per step, over all leaves (a wide input tree would otherwise multiply the rows of the pass).")

    /// What to do instead of lengthening a constrained tree.
    static let constrainAfter = "put the constrain.* node after draft.phrases"

    /// The node's settings.
    struct Settings {
        var length: Int
        var keep: Int
        var branches: Int
        var capacity: Int
        var budget: Int
    }

    let settings: Settings
    let pool: PhrasePool

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the pool fills itself).
    /// - Throws: `OperatorError.invalidParameter` for more branches than phrases kept per token,
    ///   or fewer phrases kept in all than per token.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        settings = try Self.settings(node)
        pool = PhrasePool(keep: settings.keep, capacity: settings.capacity)
    }

    /// The node's settings, checked against each other.
    /// - Parameter node: the plan node.
    /// - Returns: the settings.
    /// - Throws: `OperatorError.invalidParameter` at the parameter at fault.
    static func settings(_ node: Plan.Node) throws -> Settings {
        let s = Settings(length: try node[length], keep: try node[keep], branches: try node[branches],
                         capacity: try node[capacity], budget: try node[budget])
        guard s.branches <= s.keep else {
            throw OperatorError(.invalidParameter, at: branches.name, "\(s.branches) phrases per leaf is more than the pool keeps per token (keep: \(s.keep)); raise keep or lower branches")
        }
        guard s.keep <= s.capacity else {
            throw OperatorError(.invalidParameter, at: capacity.name, "a pool of \(s.capacity) phrases cannot keep \(s.keep) per token; raise capacity or lower keep")
        }
        return s
    }

    /// A fresh hypothesis's state: the token the previous step's root row followed.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { PreviousRoot() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Learns from scored trees.
    /// - Parameters:
    ///   - scores: the previous step's scored trees and their logits.
    ///   - rootToken: the token their root rows followed, if known.
    /// - Throws: `Distribution.argmax`'s error for a row no token can be picked from.
    func learn(from scores: [(tree: TokenTree, logits: [[Float]])], rootToken: Int32?) throws {
        for (tree, logits) in scores {
            let predictions = try logits.map { Int32(try Distribution.argmax($0)) }
            pool.offer(PhrasePool.harvest(tree: tree, predictions: predictions, rootToken: rootToken, length: settings.length))
        }
    }

    /// `tree` with pool phrases below its leaves.
    /// - Parameters:
    ///   - tree: the draft to lengthen (empty: lengthen the root).
    ///   - last: the context's last token, the root's.
    /// - Returns: the lengthened tree; its own nodes first, unchanged.
    /// - Throws: `OperatorError.invalidTree` for a constrained tree.
    func lengthen(_ tree: TokenTree, after last: Int32) throws -> TokenTree {
        guard tree.allowedNext == nil else {
            throw OperatorError(.invalidTree, at: "tree", "a constrained tree cannot be lengthened (its masks would not cover the phrases); \(Self.constrainAfter)")
        }
        var out = tree
        var budget = settings.budget
        for leaf in tree.leaves where budget > 0 {
            let token = leaf == TokenTree.root ? last : tree.nodes[leaf].token
            try out.appendTrie(pool.phrases(after: token, limit: settings.branches), below: leaf, source: "phrases", budget: &budget)
        }
        return out
    }

    /// Feeds the pool from the previous step's scores, then lengthens the draft.
    /// - Parameters:
    ///   - input: the history, the previous step's scores and this step's tree, if connected.
    ///   - rng: unused (the appended phrases are deterministic).
    /// - Returns: `.tree`.
    /// - Throws: `OperatorError.shapeMismatch` for scores that do not match their tree or a value
    ///   that is not a tree; `OperatorError.invalidTree` for a constrained tree.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let state = input.state as? PreviousRoot
        try learn(from: input.previousScores("scores"), rootToken: state?.token)
        let tree = try input.trees("tree").first ?? TokenTree()
        guard let last = input.history.tokens.last else { return .tree(tree) }
        state?.token = last
        return .tree(try lengthen(tree, after: last))
    }
}
