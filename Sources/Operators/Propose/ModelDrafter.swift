import ModelRuntime

/// `draft.model`: a chain of up to `tokens` tokens from a draft model, each with the distribution it
/// came from (Leviathan et al. 2023; Chen et al. 2023).
///
/// With greedy settings the chain is deterministic (argmax tokens, no draft distributions; the
/// softmax probability of each token is kept for ranking). With sampling settings every token is a
/// draw from the shaped draft distribution, which rides along for the verifier's residual.
public struct ModelDrafter: Sendable {
    /// Most tokens proposed, ≥ 1.
    public let tokens: Int
    /// Drafting stops before a position whose most probable token has less than this probability
    /// (0 = never). The test looks at the distribution *before* drawing, never at the drawn token:
    /// stopping on a drawn token's probability would bias sampled drafts and break exactness.
    public let minProbability: Float
    /// The draft model's own shaping and selection.
    public let pipeline: LogitsPipeline
    /// The source tag of proposed nodes.
    public let source: String
    /// When to stop drafting early (SVIP's entropy rule, SpecDec++'s rejection estimate).
    public var stopping = DraftStopping()
    /// Confidence-aware proposal expansion (CaPE, Du et al. 2024): at a position whose chosen
    /// token has less than `below` probability, the next `siblings` most probable tokens join the
    /// tree as leaves beside it, scored in the same verification pass. Greedy drafting only.
    public var expansion: (siblings: Int, below: Float) = (0, 0)

    /// Creates a drafter.
    /// - Parameters:
    ///   - tokens: most tokens proposed, ≥ 1.
    ///   - minProbability: in [0, 1].
    ///   - settings: the draft model's sampling settings.
    ///   - source: the source tag of proposed nodes.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(tokens: Int, minProbability: Float = 0, settings: SamplingSettings, source: String = "draft") throws {
        try OperatorError.require("tokens", tokens, in: 1..., "≥ 1")
        try OperatorError.require("min_prob", minProbability, in: 0...1, "in [0, 1]")
        self.tokens = tokens
        self.minProbability = minProbability
        self.pipeline = try LogitsPipeline(settings)
        self.source = source
    }

    /// Drafts a chain after `context`.
    /// - Parameters:
    ///   - model: the draft model.
    ///   - context: the committed tokens and how many are the prompt.
    ///   - layers: the model's layers to run (self-speculation); `nil` runs every layer.
    ///   - limit: most tokens this step (a length schedule's current length); `tokens` when nil.
    ///   - rng: the drafter's generator (one draw per sampled token).
    /// - Returns: the chain.
    /// - Throws: what the model throws, or `OperatorError.invalidDistribution` when shaping leaves
    ///   no token.
    public func draft<R: RandomNumberGenerator>(model: some TreeScorer, context: LogitsContext, layers: LayerSelection? = nil,
                                                limit: Int? = nil, using rng: inout R) throws -> TokenTree {
        var chain = Chain(context: context)
        while chain.path.count < (limit ?? tokens) {
            let row = try model.nextLogits(context: chain.history.tokens, layers: layers)
            guard try extend(&chain, with: row, using: &rng) else { break }
        }
        return chain.tree
    }

    /// Drafts an OPT-Tree after `context` (`DraftTreeShape`): one draft pass per layer over the tree
    /// so far, each node of the newest layer proposing its most probable children.
    /// - Parameters:
    ///   - model: the draft model.
    ///   - context: the committed tokens and how many are the prompt.
    ///   - layers: the model's layers to run; `nil` runs every layer.
    ///   - shape: the budget, depth and row cost.
    /// - Returns: the tree, each node's draft probability its conditional probability.
    /// - Throws: what the model throws, or `OperatorError.invalidDistribution`.
    func draftTree(model: some TreeScorer, context: LogitsContext, layers: LayerSelection?, shape: DraftTreeShape) throws -> TokenTree {
        func path(_ nodes: [DraftTreeShape.Node], _ n: Int) -> [Int32] {
            var tokens: [Int32] = [], at = n
            while at >= 0 { tokens.append(nodes[at].token); at = nodes[at].parent }
            return tokens.reversed()
        }
        func shaped(_ logits: [Float], after n: Int, in nodes: [DraftTreeShape.Node]) throws -> [Float] {
            var row = logits
            pipeline.process(&row, context: context.extended(by: n < 0 ? [] : path(nodes, n)))
            return try Distribution.softmax(row)
        }
        let (nodes, kept) = try shape.grow { nodes, layer in
            if layer == [-1] { return [try shaped(model.nextLogits(context: context.tokens, layers: layers), after: -1, in: nodes)] }
            // Score the newest layer with its ancestors (all kept), parents first.
            var members = Set(layer)
            for n in layer { var at = nodes[n].parent; while at >= 0 { members.insert(at); at = nodes[at].parent } }
            let order = members.sorted { (nodes[$0].depth, $0) < (nodes[$1].depth, $1) }
            var index: [Int: Int] = [:]
            var tree = TokenTree()
            for n in order {
                index[n] = try tree.append(nodes[n].token, parent: nodes[n].parent < 0 ? TokenTree.root : index[nodes[n].parent]!, source: source)
            }
            let rows = try model.score(context: context.tokens, tree: tree, layers: layers)
            return try layer.map { try shaped(rows[index[$0]! + 1], after: $0, in: nodes) }
        }
        return try shape.tree(nodes, kept: kept, source: source)
    }

    /// Drafts a chain for each of several hypotheses in lockstep: each position of every chain
    /// still growing is one forward pass of the draft model for all of them (a search's samples
    /// draft together), each chain drawing from its own generator. A chain is what `draft` gives.
    /// - Parameters:
    ///   - models: each hypothesis's draft-model cache.
    ///   - contexts: each hypothesis's committed tokens.
    ///   - layers: the layers to run, the same for all; `nil` runs every layer.
    ///   - limits: each hypothesis's most tokens this step; `tokens` where nil.
    ///   - rngs: each hypothesis's generator.
    /// - Returns: the chains, in order.
    /// - Throws: what the model throws, or `OperatorError.invalidDistribution`.
    public func draftTogether<R: RandomNumberGenerator>(models: [ModelSequenceScorer], contexts: [LogitsContext], layers: LayerSelection? = nil,
                                                        limits: [Int?], using rngs: inout [R]) throws -> [TokenTree] {
        var chains = contexts.map { Chain(context: $0) }
        var growing = chains.indices.filter { (limits[$0] ?? tokens) > 0 }
        while !growing.isEmpty {
            let rows = try ModelSequenceScorer.scoreTogether(growing.map { (models[$0], chains[$0].history.tokens, TokenTree()) }, layers: layers)
            growing = try zip(growing, rows).compactMap { h, row in
                try extend(&chains[h], with: row[0], using: &rngs[h]) && chains[h].path.count < (limits[h] ?? tokens) ? h : nil
            }
        }
        return chains.map(\.tree)
    }

    /// A chain being drafted.
    struct Chain {
        /// The committed tokens it continues.
        let context: LogitsContext
        /// The chain as a tree.
        var tree = TokenTree()
        /// Its tokens.
        var path: [Int32] = []
        /// ∏ q(xᵢ) over the drafted tokens, for the rejection estimate.
        var confidence: Float = 1
        /// The tree node of the chain's last token (siblings beside the chain are leaves).
        var last = TokenTree.root

        /// The committed tokens and the chain so far.
        var history: LogitsContext { context.extended(by: path) }
    }

    /// Adds one token to a chain from the draft model's next-token logits.
    /// - Returns: whether the chain may grow further (false when a stopping rule ended it before
    ///   or after this token).
    func extend<R: RandomNumberGenerator>(_ chain: inout Chain, with logits: [Float], using rng: inout R) throws -> Bool {
        var row = logits
        let history = chain.history
        pipeline.process(&row, context: history)
        let probabilities = try Distribution.softmax(row)
        // Both tests read the distribution before a token is drawn from it.
        guard (probabilities.max() ?? 0) >= minProbability, !stopping.stopsBefore(probabilities) else { return false }
        let token: Int
        let parent = chain.last
        if pipeline.settings.isGreedy {
            token = try Distribution.argmax(row)
            chain.last = try chain.tree.append(Int32(token), parent: parent, draftProbability: probabilities[token], source: source)
            if expansion.siblings > 0, probabilities[token] < expansion.below {
                for alternative in Distribution.topIndices(probabilities, expansion.siblings + 1) where alternative != token && probabilities[alternative] > 0 {
                    try chain.tree.append(Int32(alternative), parent: parent, draftProbability: probabilities[alternative], source: source)
                }
            }
        } else {
            token = try Distribution.sample(probabilities, using: &rng)
            chain.last = try chain.tree.append(Int32(token), parent: parent, draftDistribution: probabilities, source: source)
        }
        chain.path.append(Int32(token))
        // Decided on drafted tokens only: whether to draft the next one is a stopping time.
        chain.confidence *= probabilities[token]
        return !stopping.stopsAfter(confidence: chain.confidence)
    }
}
