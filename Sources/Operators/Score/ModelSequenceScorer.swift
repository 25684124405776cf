import ModelRuntime

/// A `TreeScorer` over a runtime model and one hypothesis's KV sequence: scores the root and a
/// whole token tree in one forward pass, and keeps the cache in step with the committed context
/// on its own.
///
/// Each call feeds the committed tokens the cache lacks — at least the last one, whose row is the
/// root, so a context already cached whole has its last token re-fed — followed by the tree, so
/// the root and every node are scored in one pass. After a tree, the next call looks for the committed
/// tokens among the tree's paths: the accepted path's keys and values are kept in place with
/// `KVSequence.keepPath` and only the target's own token is fed again — the rejected nodes are
/// rolled back. A context that leaves the cached prefix (a different hypothesis) truncates to
/// the common prefix. A scorer belongs to one hypothesis and is not thread-safe; `fork()` gives
/// a beam its own scorer sharing the cached blocks.
public final class ModelSequenceScorer: TreeScorer, @unchecked Sendable {
    /// Runs the forward passes.
    public let service: any ForwardService
    /// The hypothesis's cache.
    public let sequence: KVSequence
    /// The tokens in `sequence`, positions `0..<cached.count`.
    private var cached: [Int32] = []
    /// The tree stored after `cached` by the last call, in tree order.
    private var pendingTree: TokenTree?
    /// Forward passes run by this scorer.
    public private(set) var forwardCalls = 0

    /// A scorer with an empty cache.
    /// - Parameter service: the model's forward service.
    public init(service: any ForwardService) {
        self.service = service
        self.sequence = service.model.makeSequence()
    }

    private init(service: any ForwardService, sequence: KVSequence, cached: [Int32]) {
        self.service = service
        self.sequence = sequence
        self.cached = cached
    }

    /// The model's vocabulary size.
    public var vocabularySize: Int { service.model.config.vocabularySize }

    /// A scorer for a new hypothesis continuing this one, sharing its cached blocks.
    /// - Returns: the fork.
    public func fork() -> ModelSequenceScorer {
        settleTree(keeping: [])
        return ModelSequenceScorer(service: service, sequence: sequence.fork(), cached: cached)
    }

    /// Logits for the root and every node of `tree`, in one forward pass.
    /// - Parameters:
    ///   - context: the committed tokens (non-empty).
    ///   - tree: the proposals below the context's last token.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for an empty context; the model's error.
    public func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
        try Self.scoreTogether([(self, context, tree)])[0]
    }

    /// Scores several hypotheses' trees in one forward pass (a beam frontier): each scorer must be
    /// a different hypothesis's, all on the same forward service.
    /// - Parameter requests: each scorer with its context and tree.
    /// - Returns: per request, `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for an empty context or scorers of different
    ///   services; the model's error (every request then keeps its committed cache).
    public static func scoreTogether(_ requests: [(scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)]) throws -> [[[Float]]] {
        guard let service = requests.first?.scorer.service else { return [] }
        guard requests.allSatisfy({ $0.scorer.service.model === service.model }) else {
            throw OperatorError(.unscorableContext, at: "model", "scorers of different models cannot share a forward pass")
        }
        var fresh = try requests.map { try $0.scorer.prepare(context: $0.context, tree: $0.tree) }
        // Prefill: committed tokens before the root need no logits, and the LM head over a long
        // prompt (rows × vocabulary × hidden) would cost more than the rest of the pass.
        let prefill = requests.indices.filter { fresh[$0].count > 1 }
        if !prefill.isEmpty {
            let items = prefill.map { ForwardItem(sequence: requests[$0].scorer.sequence, tokens: Array(fresh[$0].dropLast()), outputs: .none) }
            do {
                _ = try service.forward(batch: items)
            } catch {
                for i in prefill { requests[i].scorer.sequence.truncate(to: min(requests[i].scorer.sequence.length, requests[i].scorer.cached.count)) }
                throw error
            }
            for i in prefill {
                requests[i].scorer.cached += fresh[i].dropLast()
                fresh[i] = [fresh[i].last!]
            }
        }
        let items = zip(requests, fresh).map { request, fresh in
            let tree = request.tree
            var parents = Array(-1..<(fresh.count - 1))
            parents += tree.nodes.map { $0.parent == TokenTree.root ? fresh.count - 1 : fresh.count + $0.parent }
            return ForwardItem(sequence: request.scorer.sequence, tokens: fresh + tree.nodes.map(\.token),
                               parents: tree.isEmpty ? nil : parents, outputs: .all)
        }
        let logits: [Logits]
        do {
            logits = try service.forward(batch: items)
        } catch {
            // The pass may have reserved slots; each cache still holds its `cached`, nothing after.
            for request in requests {
                request.scorer.sequence.truncate(to: min(request.scorer.sequence.length, request.scorer.cached.count))
            }
            throw error
        }
        return zip(requests, zip(fresh, logits)).map { request, entry in
            let (fresh, logits) = entry
            let scorer = request.scorer
            scorer.forwardCalls += 1
            scorer.cached += fresh
            scorer.pendingTree = request.tree.isEmpty ? nil : request.tree
            return (fresh.count - 1...fresh.count - 1 + request.tree.count).map { Array(logits.row($0)) }
        }
    }

    /// Brings the cache in line with `context` and returns the committed tokens it still lacks
    /// (at least the last, whose row is the root).
    private func prepare(context: [Int32], tree: TokenTree) throws -> [Int32] {
        guard !context.isEmpty else {
            throw OperatorError(.unscorableContext, at: "context", "an empty context has no position to score; give a prompt of at least one token")
        }
        if let tree = pendingTree { settle(tree, for: context) }
        // Keep a common prefix, at most all but the last token (its row is the root).
        var keep = 0
        let limit = min(cached.count, context.count - 1)
        while keep < limit, cached[keep] == context[keep] { keep += 1 }
        if keep < cached.count {
            sequence.truncate(to: keep)
            cached.removeSubrange(keep...)
        }
        return Array(context[keep...])
    }

    /// Keeps the tree path the new context committed, drops the rest of the tree.
    private func settle(_ tree: TokenTree, for context: [Int32]) {
        let base = cached.count
        guard context.count > base, context[..<base].elementsEqual(cached) else {
            settleTree(keeping: [])
            return
        }
        let children = tree.childLists()
        var path: [Int] = []
        var position = 0
        for token in context[base...] {
            guard let child = children[position].first(where: { tree.nodes[$0].token == token }) else { break }
            path.append(child)
            position = child + 1
        }
        settleTree(keeping: path)
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
