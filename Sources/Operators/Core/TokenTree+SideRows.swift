import ModelRuntime

/// Rows a drafter asks the target to score in the same pass as its tree, under an attention
/// pattern that is not a tree, and that are never committed: Lookahead decoding's Jacobi window
/// (Fu et al. 2024). Each row sits at its own position after the root and attends to the
/// committed context (the root included), to the earlier side rows it lists, and to itself — never
/// to the tree's nodes. The scorer fills `logits` (`ScoreOp`), and the rows' keys and values leave
/// the cache with the tree's rejected nodes.
public struct SideRows: Sendable, Equatable {
    /// The rows' tokens.
    public private(set) var tokens: [Int32]
    /// Per row, its position after the root's (at least 1: the root's own slot is committed).
    public private(set) var offsets: [Int]
    /// Per row, the earlier side rows it attends to.
    public private(set) var visible: [[Int]]
    /// Per row, the target's logits after it, once a `score` node has scored the rows.
    public var logits: [[Float]]?

    /// Rows after checking them: an offset of at least 1 each, every attended row earlier in the
    /// list and earlier in position.
    /// - Parameters:
    ///   - tokens: the rows' tokens.
    ///   - offsets: each row's position after the root's.
    ///   - visible: each row's attended earlier rows.
    /// - Throws: `OperatorError.invalidTree` naming the row.
    public init(tokens: [Int32], offsets: [Int], visible: [[Int]]) throws {
        guard offsets.count == tokens.count, visible.count == tokens.count else {
            throw OperatorError(.invalidTree, at: "side rows", "\(offsets.count) offsets and \(visible.count) attention sets for \(tokens.count) tokens")
        }
        for (i, offset) in offsets.enumerated() {
            guard offset >= 1, tokens[i] >= 0 else {
                throw OperatorError(.invalidTree, at: "side row \(i)", "offset \(offset) and token \(tokens[i]): a side row sits after the root (offset ≥ 1) and holds a token")
            }
            for j in visible[i] where !(0..<i ~= j) || offsets[j] >= offset {
                throw OperatorError(.invalidTree, at: "side row \(i)", "attends to row \(j); a row attends only to earlier rows at earlier positions")
            }
        }
        self.tokens = tokens
        self.offsets = offsets
        self.visible = visible
    }

    /// Number of rows.
    public var count: Int { tokens.count }

    /// A row's own sequence after the committed context: the tokens it attends to in position
    /// order, then itself. Defined only when they sit at consecutive positions after the root (a
    /// chain, as every row of Lookahead's window does); `nil` otherwise.
    /// - Parameter row: a row index.
    /// - Returns: the tokens a chain pass would feed after the context to score the row.
    public func chain(of row: Int) -> [Int32]? {
        let seen = (visible[row] + [row]).sorted { offsets[$0] < offsets[$1] }
        guard seen.map({ offsets[$0] }) == Array(1...seen.count) else { return nil }
        return seen.map { tokens[$0] }
    }
}

extension TokenTree {
    /// The explicit attention of one forward item that feeds `fresh` committed tokens (the last is
    /// the root), then the tree's nodes, then its side rows: each committed token sees those before
    /// it; each node sits at the root's position + its depth and sees the committed tokens and its
    /// ancestors; each side row sits at the root's position + its offset and sees the committed
    /// tokens and the side rows it lists.
    /// - Parameters:
    ///   - fresh: how many committed tokens the item feeds (at least 1, the root).
    ///   - base: the sequence's cached length before the item.
    /// - Returns: the mask over `fresh + count + sideRows.count` tokens.
    public func forwardMask(fresh: Int, base: Int) -> ForwardMask {
        var parents = Array(-1..<(fresh - 1))
        parents += nodes.map { $0.parent == TokenTree.root ? fresh - 1 : fresh + $0.parent }
        var mask = ForwardMask(parents: parents, base: base)
        if let side = sideRows {
            let committed = Array(0..<fresh), first = fresh + count
            for i in 0..<side.count {
                mask.positions.append(base + fresh - 1 + side.offsets[i])
                mask.visible.append(committed + side.visible[i].map { first + $0 })
            }
        }
        return mask
    }
}
