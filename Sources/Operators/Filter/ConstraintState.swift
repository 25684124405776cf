import Constraints

/// A constraint bound to one hypothesis: the parser state after the hypothesis's generated tokens,
/// kept in step with its history, and the step's draft filter and masks.
///
/// The constraint covers the generated output only (not the prompt). Each step it is brought in
/// line with the history — the tokens that differ from what it has seen are rolled back and the
/// new ones advanced — so it stays right whatever committed them (a verifier's accepted path, a
/// beam forked from its parent).
///
/// A constraint's grammar and mask cache are shared with its copies and not thread-safe: the op
/// that owns the states serialises every call on them (`ConstraintFilter`).
public final class ConstraintState: HypothesisState, @unchecked Sendable {
    /// The parser state after `consumed`.
    public private(set) var constraint: Constraint
    /// The generated tokens the constraint has accepted, in order.
    public private(set) var consumed: [Int32] = []
    /// Per consumed token: whether its row's mask allowed it alone (the model had no choice).
    private var singleChoice: [Bool] = []
    /// The last tree `filter` returned (its masks) and the output length it was built at: the
    /// tokens committed from it are read down its rows to know which were single choices.
    private var lastFiltered: (tree: TokenTree, base: Int)?

    /// Of the consumed tokens, how many were the only token their row's mask allowed (as far as
    /// the trees this state filtered reach: tokens committed along a path they scored).
    public var singleChoiceCount: Int { singleChoice.lazy.filter { $0 }.count }

    /// Starts a hypothesis at the constraint's start state.
    /// - Parameter constraint: a constraint at its start state.
    public init(_ constraint: Constraint) { self.constraint = constraint }

    private init(constraint: Constraint, consumed: [Int32], singleChoice: [Bool], lastFiltered: (tree: TokenTree, base: Int)?) {
        self.constraint = constraint
        self.consumed = consumed
        self.singleChoice = singleChoice
        self.lastFiltered = lastFiltered
    }

    /// A copy for a forked hypothesis (the parser is a value; the copies share its mask cache).
    public func fork() -> any HypothesisState {
        ConstraintState(constraint: constraint, consumed: consumed, singleChoice: singleChoice, lastFiltered: lastFiltered)
    }

    /// Brings the state in line with the hypothesis's generated tokens.
    /// - Parameter generated: the tokens after the prompt.
    /// - Throws: `OperatorError.invalidTree` when a committed token is one the constraint forbids
    ///   (something outside the constraint chose it).
    public func sync<C: Collection>(generated: C) throws where C.Element == Int32 {
        var common = 0
        for (a, b) in zip(consumed, generated) {
            guard a == b else { break }
            common += 1
        }
        if common < consumed.count {
            constraint.rollback(tokens: consumed.count - common)
            consumed.removeSubrange(common...)
            singleChoice.removeSubrange(common...)
        }
        // The new tokens' rows in the last filtered tree, while the committed path follows it.
        var row: Int? = nil
        var children: [[Int]] = []
        if let last = lastFiltered, last.base == common {
            row = TokenTree.root
            children = last.tree.childLists()
        }
        for token in generated.dropFirst(common) {
            guard constraint.advance(Int(token)) else {
                throw OperatorError(.invalidTree, at: "output token \(consumed.count)",
                                    "token \(token) was committed but the constraint forbids it there; a constraint must filter every tree the target scores")
            }
            consumed.append(token)
            var single = false
            if let r = row, let tree = lastFiltered?.tree {
                if let masks = tree.allowedNext, r + 1 < masks.count, let mask = masks[r + 1] { single = mask.allowedCount == 1 }
                row = children[r + 1].first { tree.nodes[$0].token == token }
            }
            singleChoice.append(single)
        }
    }

    /// The proposal pruned to what the constraint allows, extended with the tokens it forces, and
    /// the allowed-next mask of every row.
    ///
    /// A node stays when its parent stays and the constraint allows its token after the path to
    /// it; pruned nodes would be rejected by any verifier (the target's masked distribution gives
    /// them no probability), so pruning them only saves scoring. Then the chain of tokens the
    /// constraint forces from the root (the only allowed choice, one after another) is merged in
    /// as deterministic nodes tagged `forced`: the target scores them in the same pass, and under
    /// the mask they are always accepted.
    /// - Parameters:
    ///   - tree: the proposal (an empty tree for a constraint that only masks).
    ///   - forcedLimit: the most forced tokens added.
    /// - Returns: the tree with `allowedNext` set, nodes in depth-first order.
    public func filter(_ tree: TokenTree, forcedLimit: Int) -> TokenTree {
        var out = TokenTree()
        var masks: [TokenMask?] = [constraint.mask()]
        let children = tree.childLists()
        // Depth-first: the constraint advances along the path to each kept node and rolls back.
        func visit(_ old: Int, under parent: Int) {
            for child in children[old + 1] {
                let node = tree.nodes[child]
                guard constraint.advance(Int(node.token)) else { continue }
                defer { constraint.rollback(tokens: 1) }
                // An accepted EOS: the run stops here, nothing follows (no mask).
                let mask = constraint.isFinished ? nil : constraint.mask()
                // A state that allows nothing at all is a dead end no verifier may accept into.
                if let mask, mask.allowedCount == 0 { continue }
                let index = out.nodes.count
                out.appendTrusted(node, parent: parent)
                masks.append(mask)
                if mask != nil { visit(child, under: index) }
            }
        }
        visit(TokenTree.root, under: TokenTree.root)
        if forcedLimit > 0 {
            // Forced: a row whose mask allows exactly one token, and not EOS (the output could not
            // end there). The mask of each row is the one the tree needs anyway, so the chain
            // costs no mask beyond those of the nodes it adds.
            let kept = out.childLists()
            var current = TokenTree.root
            var advanced = 0
            var mask = masks[0]
            while advanced < forcedLimit, let m = mask, m.allowedCount == 1, let t = m.allowed.first,
                  !constraint.vocabulary.endOfSequence.contains(t), constraint.advance(t) {
                advanced += 1
                let token = Int32(t)
                if current + 1 < kept.count, let existing = kept[current + 1].first(where: { out.nodes[$0].token == token }) {
                    current = existing
                    mask = masks[existing + 1]
                } else {
                    current = out.appendTrusted(TokenTree.Node(token: token, parent: current, depth: 0, source: "forced"), parent: current)
                    mask = constraint.isFinished ? nil : constraint.mask()
                    masks.append(mask)
                }
            }
            constraint.rollback(tokens: advanced)
        }
        out.allowedNext = masks
        // The side rows are the drafter's own guesses (never committed): the constraint prunes
        // only what the verifier may accept.
        out.sideRows = tree.sideRows
        lastFiltered = (out, consumed.count)
        return out
    }
}

extension TokenMask {
    /// Forbids, in a row of logits, every token the mask does not allow (tokens past the mask's
    /// vocabulary, such as a model's padding rows, included).
    /// - Parameter logits: one row, rewritten in place.
    public func forbidOthers(in logits: inout [Float]) {
        let allowed = Swift.min(count, logits.count)
        logits.withUnsafeMutableBufferPointer { row in
            for t in 0..<allowed where !contains(t) { row[t] = -.infinity }
            for t in allowed..<row.count { row[t] = -.infinity }
        }
    }
}
