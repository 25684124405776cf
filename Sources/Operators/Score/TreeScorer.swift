import ModelRuntime

/// Anything that can score a token tree in one pass: the target model (the model runtime conforms),
/// a draft model, or an exact table model in tests.
///
/// The `score` step of DESIGN.md: given the committed context and a proposed tree below it, return
/// the next-token logits at the root (after the context's last token) and after every node.
public protocol TreeScorer {
    /// Number of logits per position.
    var vocabularySize: Int { get }

    /// Logits for the root and every node of `tree`.
    /// - Parameters:
    ///   - context: the committed tokens of the hypothesis (prompt and generated so far).
    ///   - tree: proposed continuations; each node attends to the context and its own ancestors.
    /// - Returns: `tree.count + 1` rows of `vocabularySize` logits: row 0 for the root, row `i + 1`
    ///   for node `i`.
    /// - Throws: the scorer's own error when the context or tree cannot be scored.
    func score(context: [Int32], tree: TokenTree) throws -> [[Float]]

    /// The model's decoder layers, `nil` for a scorer without layers to select (a table model).
    var layerCount: Int? { get }

    /// Logits for the root and every node of `tree` from a selection of the model's layers (the
    /// final norm and LM head always run): self-speculative drafts and early exits.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposed continuations.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` when the scorer cannot run a selection; the
    ///   scorer's own error otherwise.
    func score(context: [Int32], tree: TokenTree, layers: LayerSelection?) throws -> [[Float]]

    /// The logits after `context` from a pass that may stop before the last layer (CALM's early
    /// exit, `EarlyExit`); the layers not run get keys and values from the exit state.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - exit: candidate depths and the decision.
    /// - Returns: the logits and the layers run.
    /// - Throws: `OperatorError.unscorableContext` when the scorer has no layers; the model's error.
    func nextLogits(context: [Int32], exit: EarlyExit) throws -> (logits: [Float], depth: Int)

    /// Logits and last hidden states (after the final norm) for the root and every node of
    /// `tree` at full depth, with the states of the committed tokens the call feeds.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposed continuations.
    /// - Returns: the rows and states.
    /// - Throws: `OperatorError.unscorableContext` when the scorer has no hidden states; the model's error.
    func scoreWithStates(context: [Int32], tree: TokenTree) throws -> TreeStates

    /// Logits for the root and every node of `tree` and for every one of its side rows
    /// (`TokenTree.sideRows`, Lookahead's Jacobi window), which attend as their mask says.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposals, with side rows.
    /// - Returns: `tree.count + 1` rows, and one row per side row.
    /// - Throws: `OperatorError.unscorableContext` for side rows this scorer cannot score; the
    ///   model's error.
    func scoreWithSideRows(context: [Int32], tree: TokenTree) throws -> (rows: [[Float]], side: [[Float]])
}

/// What `TreeScorer.scoreWithStates` returns.
public struct TreeStates: Sendable {
    /// `tree.count + 1` rows of logits: the root, then each node.
    public var logits: [[Float]]
    /// The position of the first committed token whose state is in `fed`.
    public var fedStart: Int
    /// Last hidden states of the committed tokens this call fed, from position `fedStart` to the
    /// context's end (the last is the root's); a cached prefix is not fed again.
    public var fed: [[Float]]
    /// Last hidden states of the tree's nodes, in tree order.
    public var nodes: [[Float]]
    /// Logits of the tree's side rows, in order (empty without side rows).
    public var side: [[Float]]

    /// Creates a result.
    /// - Parameters:
    ///   - logits: root and node rows.
    ///   - fedStart: position of `fed`'s first state.
    ///   - fed: the fed committed tokens' states.
    ///   - nodes: the nodes' states.
    ///   - side: the side rows' logits.
    public init(logits: [[Float]], fedStart: Int = 0, fed: [[Float]] = [], nodes: [[Float]] = [], side: [[Float]] = []) {
        self.logits = logits
        self.fedStart = fedStart
        self.fed = fed
        self.nodes = nodes
        self.side = side
    }
}

extension TreeScorer {
    /// No layers to select.
    public var layerCount: Int? { nil }

    /// Runs every layer; refuses a partial selection.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposed continuations.
    ///   - layers: `nil` or a complete selection.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for a partial selection.
    public func score(context: [Int32], tree: TokenTree, layers: LayerSelection?) throws -> [[Float]] {
        if let layers, !layers.isComplete {
            throw OperatorError(.unscorableContext, at: "model", "this model has no layers to select (\(layers) asked for)")
        }
        return try score(context: context, tree: tree)
    }

    /// No layers to exit from.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - exit: unused.
    /// - Returns: never.
    /// - Throws: `OperatorError.unscorableContext`.
    public func nextLogits(context: [Int32], exit: EarlyExit) throws -> (logits: [Float], depth: Int) {
        throw OperatorError(.unscorableContext, at: "model", "this model has no layers to exit from")
    }

    /// No hidden states.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: unused.
    /// - Returns: never.
    /// - Throws: `OperatorError.unscorableContext`.
    public func scoreWithStates(context: [Int32], tree: TokenTree) throws -> TreeStates {
        throw OperatorError(.unscorableContext, at: "model", "this model exposes no hidden states")
    }

    /// Scores the tree, then each side row as the last token of its own chain after the context
    /// (`SideRows.chain(of:)`), one call per row: exactly what a masked pass computes, for scorers
    /// without one (table models).
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposals, with side rows.
    /// - Returns: `tree.count + 1` rows, and one row per side row.
    /// - Throws: `OperatorError.unscorableContext` for a side row whose attended rows are not a
    ///   chain of consecutive positions; whatever `score(context:tree:)` throws.
    public func scoreWithSideRows(context: [Int32], tree: TokenTree) throws -> (rows: [[Float]], side: [[Float]]) {
        var plain = tree
        plain.sideRows = nil
        let rows = try score(context: context, tree: plain)
        guard let side = tree.sideRows else { return (rows, []) }
        let scored = try (0..<side.count).map { row in
            guard let chain = side.chain(of: row) else {
                throw OperatorError(.unscorableContext, at: "side row \(row)", "its attended rows are not consecutive positions after the root, which only a masked forward pass can score")
            }
            return try nextLogits(context: context + chain)
        }
        return (rows, scored)
    }

    /// The logits after `context` alone (a root-only tree), what plain decoding and drafters need.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: `vocabularySize` logits.
    /// - Throws: whatever `score(context:tree:layers:)` throws.
    public func nextLogits(context: [Int32], layers: LayerSelection? = nil) throws -> [Float] {
        try score(context: context, tree: TokenTree(), layers: layers)[0]
    }
}
