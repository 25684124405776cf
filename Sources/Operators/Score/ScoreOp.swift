import Graph
import Tokenization

/// `score`: the target model over the root and the proposed tree in one forward pass.
public struct ScoreOp: FrontierBatchedOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score", family: .score,
        doc: "The target model over the root and every node of the proposed tree, in one forward pass under a tree attention mask; a tree's side rows (Lookahead's Jacobi window) ride in the same pass under their own mask, and their logits come back on the tree.",
        parameters: [model.spec, prefix.spec, after.spec, layers.spec, skipLayers.spec],
        inputs: [PortSpec("tree", .tokenTree, optional: true, doc: "Proposals; without one only the root is scored (plain decoding, beam search).")],
        output: OutputSpec(.scores, propagates: ["tree"], doc: "Logits at the root and at every tree node."),
        approximates: Approximation(when: .anyOf([.given(layers.name), .given(skipLayers.name)]),
                                    "reads only some of the model's layers"),
        validate: OpValidation.checks { node, _ in
            if try node[after] != nil, try node[prefix] == nil {
                throw OperatorError(.invalidParameter, at: after.name, "says where to insert a prefix, and the node has none")
            }
            _ = try depth(node)
        })

    static let model = OpParameter<String>("model", .modelRef, doc: "The target model.")
    static let prefix = OpParameter<String?>("prefix", nonEmpty: true,
                                             doc: "Text inserted into the prompt this node scores on — the model on another context, such as instructive decoding's distorted instruction (Kim et al. 2024) for a `contrast` amateur. Inserted after the prompt's leading special tokens, or after `after`. The node then keeps KV sequences of its own.")
    static let after = OpParameter<String?>("after", nonEmpty: true,
                                            doc: "Insert `prefix` just after the last occurrence of this text's tokens in the prompt (a chat template's user header, `<|im_start|>user\\n`), so the distortion lands in the instruction; a prompt without it is an error.")

    static let layers = OpParameter<Int?>("layers", range: .atLeast(1),
                                          doc: "Score with the model's first `layers` layers and its final norm and LM head: the target at partial depth as a `contrast` amateur (DoLa's premature layer as a whole model, Chuang et al. 2024). Absent: every layer.")
    static let skipLayers = OpParameter<[Int]?>("skip_layers", range: .atLeast(0),
                                                doc: "Score with these layers skipped (each the identity on the residual stream). Absent: none.")

    /// The node's layer choice: `layers` and `skip_layers` exclude each other.
    static func depth(_ node: Plan.Node) throws -> DraftDepth {
        guard let depth = DraftDepth.fixed(first: try node[layers], skipping: try node[skipLayers]) else {
            throw OperatorError(.invalidParameter, at: skipLayers.name, "give one of `layers` (the first n) and `skip_layers`")
        }
        return depth
    }

    /// The model's name, for messages.
    let model: String
    /// The layers it scores with.
    let depth: DraftDepth
    /// The context edit: the prefix's tokens, where they go, and the tokenizer that says which
    /// leading tokens are special.
    let edit: (prefix: [Int32], after: [Int32]?, tokenizer: Tokenizer)?

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: the target's tokenizer, for a `prefix`.
    /// - Throws: `OperatorError.invalidParameter` for a node that names no model, or a prefix
    ///   without a tokenizer to encode it.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        model = try node[Self.model]
        depth = try Self.depth(node)
        guard let prefix = try node[Self.prefix] else {
            edit = nil
            return
        }
        guard let tokenizer = environment.tokenizer else {
            throw OperatorError(.invalidParameter, at: Self.prefix.name, "a prefix is text, and the target model has no tokenizer to encode it")
        }
        let after = try node[Self.after].map { tokenizer.encode($0, addSpecialTokens: false) }
        edit = (tokenizer.encode(prefix, addSpecialTokens: false), after, tokenizer)
    }

    /// A node with a prefix scores a context of its own.
    /// - Parameter node: the plan node.
    /// - Returns: whether it writes `prefix`.
    public static func hasOwnContext(_ node: Plan.Node) -> Bool { node.parameters[prefix.name] != nil }

    /// The context this node scores: the committed one, or with the prefix spliced into the prompt.
    /// - Parameter history: the committed tokens.
    /// - Returns: the tokens to score after.
    /// - Throws: `OperatorError.invalidParameter` when the prompt lacks `after`.
    func context(_ history: LogitsContext) throws -> [Int32] {
        guard let edit else { return history.tokens }
        let prompt = history.tokens[..<history.promptCount]
        var at = prompt.prefix { edit.tokenizer.isSpecial($0) }.count
        if let marker = edit.after {
            guard let found = Self.lastOccurrence(of: marker, in: Array(prompt)) else {
                throw OperatorError(.invalidParameter, at: Self.after.name, "the prompt does not contain its tokens, so the prefix has nowhere to go")
            }
            at = found + marker.count
        }
        return Array(prompt[..<at]) + edit.prefix + Array(history.tokens[at...])
    }

    /// Where `needle` last starts in `haystack`.
    static func lastOccurrence(of needle: [Int32], in haystack: [Int32]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).reversed().first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// Scores the tree (or the root alone).
    /// - Parameters:
    ///   - input: the history, the tree, and the bound target model.
    ///   - rng: unused.
    /// - Returns: `.scores`.
    /// - Throws: the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let tree = try input.trees("tree").first ?? TokenTree()
        let scorer = try input.model(Self.model.name)
        if depth != .all {
            guard tree.sideRows == nil else {
                throw OperatorError(.invalidTree, at: "tree", "a tree with side rows (Lookahead's window) is scored at full depth; leave out `layers` and `skip_layers`")
            }
            return try scored(tree, logits: try scorer.score(context: try context(input.history), tree: tree, layers: try depth.selection(of: scorer)), side: [])
        }
        let (logits, side) = try scorer.scoreWithSideRows(context: try context(input.history), tree: tree)
        return try scored(tree, logits: logits, side: side)
    }

    /// Scores every hypothesis's tree in one forward pass (a beam frontier), when the bound models
    /// are runtime sequences of one model; one by one otherwise.
    /// - Parameter inputs: the hypotheses' inputs.
    /// - Returns: `.scores` per hypothesis.
    /// - Throws: the model's error.
    public func run(batch inputs: [StepInput], rngs: inout [Xoshiro256StarStar]) throws -> [StepValue] {
        let requests = try inputs.map { input -> (scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)? in
            guard let scorer = try input.model(Self.model.name) as? ModelSequenceScorer else { return nil }
            return (scorer, try context(input.history), try input.trees("tree").first ?? TokenTree())
        }
        let together = requests.compactMap { $0 }
        guard together.count == inputs.count, depth == .all else {
            var rng = Xoshiro256StarStar(seed: 0)
            return try inputs.map { try run($0, rng: &rng) }
        }
        return try zip(together, try ModelSequenceScorer.scoreTogetherWithSideRows(together)).map { request, rows in
            try scored(request.tree, logits: rows.logits, side: rows.side)
        }
    }

    /// The node's output: the rows, checked, with the side rows' logits on the tree (when it has
    /// side rows).
    func scored(_ tree: TokenTree, logits: [[Float]], side: [[Float]]) throws -> StepValue {
        try Self.requireFinite(logits, model: model)
        var tree = tree
        if tree.sideRows != nil { tree.sideRows?.logits = side }
        return .scores(tree: tree, logits: logits)
    }

    /// Refuses scores with a NaN or infinite logit: a model computes them only from broken weights
    /// or settings (an overflow, a zero rope factor), and every later step would decode from
    /// garbage. Checked where the model's output enters the graph, so the message names the model.
    /// - Parameters:
    ///   - logits: the rows the model returned.
    ///   - model: the model's name.
    /// - Throws: `OperatorError.invalidDistribution` naming the model, the row and the token.
    static func requireFinite(_ logits: [[Float]], model: String) throws {
        for (position, row) in logits.enumerated() {
            guard let token = row.firstIndex(where: { !$0.isFinite }) else { continue }
            throw OperatorError(.invalidDistribution, at: "position \(position)",
                                "model '\(model)' produced logit \(row[token]) for token \(token); its weights or config.json are broken (NaN or infinite values)")
        }
    }
}
