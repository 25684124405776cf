import ModelRuntime

/// A `TreeScorer` over a runtime model and one hypothesis's KV sequence: scores the root and a
/// whole token tree in one forward pass, and keeps the cache in step with the committed context
/// on its own.
///
/// Each call feeds the committed tokens the cache lacks — at least the last one, whose row is the
/// root, so a context already cached whole has its last token re-fed — followed by the tree, so
/// the root and every node are scored in one pass. A root-only call lacking a few tokens feeds them
/// all in that pass (a chain returning its last row); otherwise the missing tokens but the last go
/// through a prefill pass first. After a tree, the next call looks for the committed
/// tokens among the tree's paths: the accepted path's keys and values are kept in place with
/// `KVSequence.keepPath` and only the target's own token is fed again — the rejected nodes are
/// rolled back. A context that leaves the cached prefix (a different hypothesis) truncates to
/// the common prefix. A scorer belongs to one hypothesis and is not thread-safe; `fork()` gives
/// a beam its own scorer sharing the cached blocks.
///
/// Partial passes (a `LayerSelection`: a self-speculative draft from the first layers, or with
/// layers skipped) share the sequence with full passes: they read the full-depth keys and values
/// of the committed context, and the positions they write hold only their layers. Those positions
/// are reused by the next partial pass over the same or fewer layers (a draft chain feeds one token
/// per call) and truncated before the next full pass, which feeds them again at full depth — in
/// a draft-then-verify step that is the one or two committed tokens verification re-feeds anyway.
public final class ModelSequenceScorer: TreeScorer, @unchecked Sendable {
    /// Runs the forward passes.
    public let service: any ForwardService
    /// The hypothesis's cache.
    public let sequence: KVSequence
    /// The tokens in `sequence` at full depth, positions `0..<cached.count`.
    private var cached: [Int32] = []
    /// Tokens written after `cached` by partial passes, and the layers they all hold.
    private var partial: (tokens: [Int32], layers: LayerSelection)?
    /// The tree stored after `cached` by the last call, in tree order.
    private var pendingTree: TokenTree?
    /// Where this scorer's calls are counted (shared by the scorers of one model in one run).
    public let usage: ModelUsage

    /// A scorer with an empty cache.
    /// - Parameters:
    ///   - service: the model's forward service.
    ///   - usage: where calls are counted (a fresh counter by default).
    public init(service: any ForwardService, usage: ModelUsage = ModelUsage()) {
        self.service = service
        self.sequence = service.model.makeSequence()
        self.usage = usage
    }

    private init(service: any ForwardService, sequence: KVSequence, cached: [Int32],
                 partial: (tokens: [Int32], layers: LayerSelection)?, usage: ModelUsage) {
        self.service = service
        self.sequence = sequence
        self.cached = cached
        self.partial = partial
        self.usage = usage
    }

    /// Most missing tokens a root-only call feeds in its scoring pass instead of a prefill pass.
    static let foldedTokens = 8

    /// The model's vocabulary size.
    public var vocabularySize: Int { service.model.config.vocabularySize }

    /// The model's decoder layers.
    public var layerCount: Int? { service.model.config.layerCount }

    /// A scorer for a new hypothesis continuing this one, sharing its cached blocks.
    /// - Parameter context: the new hypothesis's committed tokens, when known. A tree the last pass
    ///   scored then stays in the fork's cache along the path `context` committed (its keys and
    ///   values moved in place, copy-on-write), so a hypothesis that advanced by several drafted
    ///   tokens — a speculative beam step — does not feed them again; this scorer keeps the tree
    ///   for its other forks. Without it the tree is dropped first.
    /// - Returns: the fork.
    public func fork(continuing context: [Int32]? = nil) -> ModelSequenceScorer {
        guard let context, let tree = pendingTree else {
            settleTree(keeping: [])
            return ModelSequenceScorer(service: service, sequence: sequence.fork(), cached: cached, partial: partial, usage: usage)
        }
        let child = ModelSequenceScorer(service: service, sequence: sequence.fork(), cached: cached, partial: partial, usage: usage)
        child.pendingTree = tree
        child.settle(tree, for: context)
        return child
    }

    /// Logits for the root and every node of `tree`, in one forward pass over every layer.
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - tree: the proposals below the context's last token.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
        try Self.scoreTogether([(self, context, tree)])[0]
    }

    /// Logits for the root, every node of `tree` and every side row, in one forward pass under
    /// the item's explicit mask (`TokenTree.forwardMask`); the side rows leave the cache with the
    /// tree's rejected nodes.
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - tree: the proposals below the context's last token, with side rows.
    /// - Returns: `tree.count + 1` rows, and one row per side row.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func scoreWithSideRows(context: [Int32], tree: TokenTree) throws -> (rows: [[Float]], side: [[Float]]) {
        let scored = try Self.scoreTogetherWithSideRows([(self, context, tree)])[0]
        return (scored.logits, scored.side)
    }

    /// Logits for the root and every node of `tree` from a selection of the layers.
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - tree: the proposals below the context's last token.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for an empty context or a selection of another
    ///   layer count; the model's error.
    public func score(context: [Int32], tree: TokenTree, layers: LayerSelection?) throws -> [[Float]] {
        try Self.scoreTogether([(self, context, tree)], layers: layers)[0]
    }

    /// How many leading tokens of `context` the cache holds at full depth, at most `limit`.
    private func cachedPrefix(of context: [Int32], limit: Int) -> Int {
        var count = 0
        while count < min(limit, cached.count), cached[count] == context[count] { count += 1 }
        return count
    }

    /// Replays the last tokens of the committed context through a selection of the layers and
    /// returns the rows that predict each of them: how well a self-speculative draft would have
    /// done on text the model actually produced (SWIFT's matchness). Runs on a fork of the cache cut
    /// before the replayed tokens, so the hypothesis's own positions are untouched; counted as a
    /// partial call.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - window: how many of its last tokens to predict (fewer when the cache holds less).
    ///   - layers: the layers to run.
    /// - Returns: `(rows, targets)`: row `i` is the logits predicting `targets[i]`; empty when
    ///   there is nothing to replay.
    /// - Throws: the model's error.
    public func replay(context: [Int32], window: Int, layers: LayerSelection) throws -> (rows: [[Float]], targets: [Int32]) {
        let common = settledPrefix(of: context)
        // Feed tokens start..<count-1: row j predicts context[start + j + 1]; position start - 1
        // must be cached at full depth, so start ≥ 1.
        let start = max(1, context.count - 1 - window)
        guard start <= common, start < context.count - 1 else { return ([], []) }
        let fork = sequence.fork()
        fork.truncate(to: start)
        let fed = Array(context[start..<(context.count - 1)])
        let logits = try service.forward(batch: [ForwardItem(sequence: fork, tokens: fed, outputs: .all)], layers: layers)[0]
        usage.record(layers: layers.layers.count, of: layers.total)
        return ((0..<fed.count).map { Array(logits.row($0)) }, Array(context[(start + 1)...]))
    }

    /// Settles the last tree against `context` (keeping the path it committed) and returns how many
    /// of its leading tokens the cache now holds at full depth: the prefix a pass outside the
    /// hypothesis's own (SWIFT's replay, CLaSp's layer search) may read.
    /// - Parameter context: the committed tokens.
    /// - Returns: the cached prefix's length.
    public func settledPrefix(of context: [Int32]) -> Int {
        if let tree = pendingTree { settle(tree, for: context) }
        return cachedPrefix(of: context, limit: context.count)
    }

    /// Scores several hypotheses' trees in one forward pass (a beam frontier): each scorer must be
    /// a different hypothesis's, all on the same forward service.
    /// - Parameters:
    ///   - requests: each scorer with its context and tree.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: per request, `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for an empty context, scorers of different
    ///   services or a selection of another layer count; the model's error (every request then
    ///   keeps its committed cache).
    public static func scoreTogether(_ requests: [(scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)],
                                     layers: LayerSelection? = nil) throws -> [[[Float]]] {
        let plain = requests.map { request in
            var tree = request.tree
            tree.sideRows = nil
            return (request.scorer, request.context, tree)
        }
        return try together(plain, layers: layers, states: false).map(\.logits)
    }

    /// `scoreTogether` with each tree's side rows scored in the same pass (`TreeStates.side`, empty
    /// for a tree without them).
    /// - Parameter requests: each scorer with its context and tree.
    /// - Returns: per request, its rows and its side rows' logits.
    /// - Throws: as `scoreTogether`.
    public static func scoreTogetherWithSideRows(_ requests: [(scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)]) throws -> [TreeStates] {
        try together(requests, layers: nil, states: false)
    }

    /// Logits and last hidden states for the root and every node of `tree`, in one pass over
    /// every layer, with the states of every committed token the pass feeds (contrastive search
    /// compares a candidate's state with the context's).
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - tree: the proposals below the context's last token.
    /// - Returns: the rows and states.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func scoreWithStates(context: [Int32], tree: TokenTree) throws -> TreeStates {
        try Self.together([(self, context, tree)], layers: nil, states: true)[0]
    }

    /// `scoreTogether`, with the last hidden states when `states`.
    private static func together(_ requests: [(scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)],
                                 layers: LayerSelection?, states: Bool) throws -> [TreeStates] {
        guard let service = requests.first?.scorer.service else { return [] }
        guard requests.allSatisfy({ $0.scorer.service.model === service.model }) else {
            throw OperatorError(.unscorableContext, at: "model", "scorers of different models cannot share a forward pass")
        }
        let total = service.model.config.layerCount
        if let layers, layers.total != total {
            throw OperatorError(.unscorableContext, at: "model", "a selection of \(layers.total) layers for a model of \(total)")
        }
        // A complete selection is a full pass: one representation for both.
        let selection = layers.flatMap { $0.isComplete ? nil : $0 }
        if selection == nil, !states, requests.count == 1,
           let rows = try requests[0].scorer.completeDraft(context: requests[0].context, tree: requests[0].tree) {
            return [TreeStates(logits: rows, side: [])]
        }
        var fresh = try requests.map { try $0.scorer.prepare(context: $0.context, tree: $0.tree, layers: selection) }
        let fedStart = zip(requests, fresh).map { $0.context.count - $1.count }
        // A root-only request lacking a few tokens (a hypothesis a search re-opened) feeds them in
        // this pass as a chain that returns the last row alone: its earlier rows take the
        // prefill's path inside the pass, so no pass of their own. More (a prompt) keep the
        // prefill pass, so the row that is scored comes from the same kernels whatever else
        // shares the pass. A tree's or side rows' item is attended row by row, so its missing
        // tokens but the last always go through the prefill first.
        let chained = zip(requests, fresh).map {
            $0.tree.isEmpty && $0.tree.sideRows == nil && !states && $1.count <= Self.foldedTokens
        }
        let waiting = requests.indices.filter { !chained[$0] }
        var waitingFresh = waiting.map { fresh[$0] }
        let waitingFed = try prefill(waiting.map { requests[$0].scorer }, &waitingFresh, layers: selection, states: states)
        var prefilled = [[[Float]]](repeating: [], count: requests.count)
        for (k, i) in waiting.enumerated() { (fresh[i], prefilled[i]) = (waitingFresh[k], waitingFed[k]) }
        let items = requests.indices.map { i in
            let (request, fresh) = (requests[i], fresh[i])
            let tree = request.tree
            let sequence = request.scorer.sequence
            if chained[i] { return ForwardItem(sequence: sequence, tokens: fresh, outputs: .last) }
            let tokens = fresh + tree.nodes.map(\.token)
            if let side = tree.sideRows {
                // Side rows form no tree: the whole item goes under an explicit mask.
                return ForwardItem(sequence: sequence, tokens: tokens + side.tokens,
                                   mask: tree.forwardMask(fresh: fresh.count, base: sequence.length),
                                   outputs: .all, states: states ? .all : .none)
            }
            var parents = Array(-1..<(fresh.count - 1))
            parents += tree.nodes.map { $0.parent == TokenTree.root ? fresh.count - 1 : fresh.count + $0.parent }
            return ForwardItem(sequence: sequence, tokens: tokens,
                               parents: tree.isEmpty ? nil : parents, outputs: .all, states: states ? .all : .none)
        }
        let logits: [Logits]
        do {
            logits = try service.forward(batch: items, layers: selection)
        } catch {
            for request in requests { request.scorer.rollBackFailedPass() }
            throw error
        }
        // One call of the model whatever the frontier's size (a beam step is one pass).
        var counted: [ObjectIdentifier] = []
        for request in requests where !counted.contains(ObjectIdentifier(request.scorer.usage)) {
            counted.append(ObjectIdentifier(request.scorer.usage))
            request.scorer.usage.record(layers: selection?.layers.count ?? total, of: total)
        }
        return requests.indices.map { i in
            let (request, fresh, logits) = (requests[i], fresh[i], logits[i])
            let scorer = request.scorer
            scorer.didFeed(fresh, layers: selection)
            let sideCount = request.tree.sideRows?.count ?? 0
            if selection == nil, !request.tree.isEmpty {
                // The next call keeps the accepted path and drops the rest, side rows included.
                scorer.pendingTree = request.tree
            } else {
                scorer.pendingTree = nil
                // A partial pass's tree rows, and side rows without a tree, are read once: drop
                // their slots now.
                if !request.tree.isEmpty || sideCount > 0 {
                    scorer.sequence.truncate(to: scorer.cached.count + (scorer.partial?.tokens.count ?? 0))
                }
            }
            let first = chained[i] ? 0 : fresh.count - 1
            let rows = first...first + request.tree.count
            let firstSide = fresh.count + request.tree.count
            let side = (firstSide..<(firstSide + sideCount)).map { Array(logits.row($0)) }
            guard states else { return TreeStates(logits: rows.map { Array(logits.row($0)) }, side: side) }
            return TreeStates(logits: rows.map { Array(logits.row($0)) }, fedStart: fedStart[i],
                              fed: prefilled[i] + (0..<fresh.count).map { Array(logits.state($0)) },
                              nodes: (fresh.count..<(fresh.count + request.tree.count)).map { Array(logits.state($0)) }, side: side)
        }
    }

    /// LayerSkip's cache reuse (Elhoushi et al. 2024): a full pass over a drafted chain whose
    /// root and leading tokens this cache holds from the draft's passes over the model's first E
    /// layers only runs the rest — the chain's last tokens through the first E layers, then every
    /// position through layers E and up from the residuals the draft left (`Model.complete`). The
    /// rows are bitwise the full pass's, so verification decides the same; the cost is one full
    /// pass's weights and E / L less of its compute for the reused rows.
    /// - Returns: the root's and every node's logits, or `nil` (nothing touched) when the cache does
    ///   not hold such a draft (another shape of tree, a skip set, another context).
    func completeDraft(context: [Int32], tree: TokenTree) throws -> [[Float]]? {
        guard pendingTree == nil, tree.sideRows == nil, !tree.isEmpty, let held = partial, let root = context.last,
              sequence.canComplete, sequence.length == cached.count + held.tokens.count, held.tokens.first == root,
              cached.count == context.count - 1, held.tokens.count - 1 <= tree.count,
              tree.nodes.enumerated().allSatisfy({ $0.element.parent == $0.offset - 1 }),
              zip(held.tokens.dropFirst(), tree.nodes).allSatisfy({ $0 == $1.token }),
              context[..<cached.count].elementsEqual(cached) else { return nil }
        let total = service.model.config.layerCount, depth = held.layers.layers.count
        let rest = tree.nodes[(held.tokens.count - 1)...].map(\.token)
        let logits: Logits
        do {
            if !rest.isEmpty {
                // Rows with logits go through the per-token kernel, as in the full pass.
                _ = try service.forward(batch: [ForwardItem(sequence: sequence, tokens: rest, outputs: .all)], layers: held.layers)
                usage.record(layers: depth, of: total)
            }
            logits = try service.model.complete(sequence)
        } catch {
            // The draft's positions may be gone: back to the committed cache.
            partial = nil
            rollBackFailedPass()
            throw error
        }
        usage.recordCompletion(layers: total - depth, of: total)
        cached.append(root)
        partial = nil
        pendingTree = tree
        return (0..<logits.rows).map { Array(logits.row($0)) }
    }

    /// Fills the cache with all but the last token of `context` (the prefill pass, no logits), so
    /// that hypotheses forked from this one share those blocks instead of each feeding them.
    /// - Parameter context: the committed tokens.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func prime(context: [Int32]) throws {
        var fresh = [try prepare(context: context, tree: TokenTree(), layers: nil)]
        try Self.prefill([self], &fresh, layers: nil)
    }

    /// Feeds all but the last of each scorer's missing committed tokens, in one pass without
    /// logits: the prefill. The LM head over a long prompt (rows × vocabulary × hidden) would cost
    /// more than the rest of the pass, and only the last token's row (the root) is read.
    /// - Parameters:
    ///   - scorers: the hypotheses' scorers, one model.
    ///   - fresh: per scorer, the tokens it lacks; left holding the last of each.
    ///   - layers: the layers to run; `nil` runs every layer.
    ///   - states: whether to return the fed tokens' last hidden states.
    /// - Returns: per scorer, the fed tokens' states when `states` (none otherwise).
    /// - Throws: the model's error (every scorer then keeps its committed cache).
    @discardableResult
    private static func prefill(_ scorers: [ModelSequenceScorer], _ fresh: inout [[Int32]], layers: LayerSelection?,
                                states: Bool = false) throws -> [[[Float]]] {
        var fedStates = [[[Float]]](repeating: [], count: scorers.count)
        let waiting = scorers.indices.filter { fresh[$0].count > 1 }
        guard let service = scorers.first?.service, !waiting.isEmpty else { return fedStates }
        let items = waiting.map {
            ForwardItem(sequence: scorers[$0].sequence, tokens: Array(fresh[$0].dropLast()), outputs: .none, states: states ? .all : .none)
        }
        let results: [Logits]
        do {
            results = try service.forward(batch: items, layers: layers)
        } catch {
            for i in waiting { scorers[i].rollBackFailedPass() }
            throw error
        }
        for (i, result) in zip(waiting, results) {
            scorers[i].didFeed(Array(fresh[i].dropLast()), layers: layers)
            fedStates[i] = (0..<result.stateRows).map { Array(result.state($0)) }
            fresh[i] = [fresh[i].last!]
        }
        return fedStates
    }

    /// The logits after `context` from a pass that may stop early (see `EarlyExit`). The
    /// committed tokens the cache lacks before the last are fed at full depth; the last token's
    /// pass decides its depth, and its position counts as full (the layers it skipped hold keys
    /// and values projected from its exit state). Counted as a full call when it runs every
    /// layer, as a partial call of `depth` layers otherwise (the key/value fill, two small
    /// products per skipped layer, is not counted).
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - exit: candidate depths and the decision.
    /// - Returns: the logits and the layers run.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func nextLogits(context: [Int32], exit: EarlyExit) throws -> (logits: [Float], depth: Int) {
        var fresh = [try prepare(context: context, tree: TokenTree(), layers: nil)]
        try Self.prefill([self], &fresh, layers: nil)
        let result: EarlyExitResult
        do {
            result = try service.forward(batch: [ForwardItem(sequence: sequence, tokens: fresh[0], outputs: .last)], exit: exit)
        } catch {
            rollBackFailedPass()
            throw error
        }
        let total = service.model.config.layerCount
        usage.record(layers: result.depth, of: total)
        didFeed(fresh[0], layers: nil)
        return (Array(result.logits[0].row(0)), result.depth)
    }

    /// Records committed tokens a pass appended after the cached ones.
    private func didFeed(_ tokens: [Int32], layers: LayerSelection?) {
        if let layers {
            // `prepare` kept earlier partial tokens only if they hold every layer of this pass.
            partial = (tokens: (partial?.tokens ?? []) + tokens, layers: layers)
        } else {
            cached += tokens
        }
    }

    /// After a failed pass (which may have reserved slots): back to what the cache held before it.
    private func rollBackFailedPass() {
        let kept = cached.count + (partial?.tokens.count ?? 0)
        sequence.truncate(to: min(sequence.length, kept))
    }

    /// Brings the cache in line with `context` for a pass over `layers` (`nil`: every layer) and
    /// returns the committed tokens it still lacks (at least the last, whose row is the root).
    private func prepare(context: [Int32], tree: TokenTree, layers: LayerSelection?) throws -> [Int32] {
        guard !context.isEmpty else {
            throw OperatorError(.unscorableContext, at: "context", "an empty context has no position to score; give a prompt of at least one token")
        }
        if let tree = pendingTree { settle(tree, for: context) }
        // Keep a common prefix, at most all but the last token (its row is the root).
        let keep = cachedPrefix(of: context, limit: context.count - 1)
        if keep < cached.count {
            sequence.truncate(to: keep)
            cached.removeSubrange(keep...)
            partial = nil
        }
        // Partial positions serve a pass over layers they all hold; a full pass recomputes them.
        var kept = 0
        if let held = partial, let layers, held.layers.covers(layers) {
            let room = context.count - 1 - cached.count
            while kept < min(room, held.tokens.count), held.tokens[kept] == context[cached.count + kept] { kept += 1 }
            partial = kept == 0 ? nil : (Array(held.tokens.prefix(kept)), held.layers)
        } else {
            partial = nil
        }
        sequence.truncate(to: cached.count + kept)
        return Array(context[(cached.count + kept)...])
    }

    /// Keeps the tree path the new context committed, drops the rest of the tree.
    private func settle(_ tree: TokenTree, for context: [Int32]) {
        let base = cached.count
        guard context.count > base, context[..<base].elementsEqual(cached) else {
            settleTree(keeping: [])
            return
        }
        settleTree(keeping: tree.path(following: context[base...]))
    }

    private func settleTree(keeping path: [Int]) {
        guard let tree = pendingTree else { return }
        pendingTree = nil
        let base = cached.count
        // keepPath moves only within the slots the forward wrote; its failure (no free block for a
        // copy-on-write) falls back to dropping the tree, which costs a re-feed, never correctness.
        if (try? sequence.keepPath(base: base, path: path)) != nil {
            cached += path.map { tree.nodes[$0].token }
        } else {
            sequence.truncate(to: base)
        }
    }
}
