/// An explicit attention pattern over one forward item's new tokens, for rows that are neither a
/// chain nor a tree: each row has its own position and attends to the whole cached prefix, to a
/// chosen set of earlier rows of the item, and to itself.
///
/// A tree (`ForwardItem.parents`) fixes a row's position at its depth and its attention at its
/// ancestors, so two rows at the same position can never see each other's different pasts in
/// any pattern but a tree's. Lookahead decoding's Jacobi window (Fu et al. 2024) is such a
/// pattern: the token at level l of column w sits at position (root + l + w) and sees the level-0
/// tokens of the columns before it and its own column's earlier levels — the same row is seen by
/// rows of several columns, each with a different ancestry, which no parent array can express.
public struct ForwardMask: Sendable, Equatable {
    /// Per new token, its absolute position (RoPE and the sliding window's reference point); at
    /// least the sequence's cached length.
    public var positions: [Int]
    /// Per new token, the earlier new tokens it attends to (indices below its own), besides the
    /// cached prefix and itself.
    public var visible: [[Int]]

    /// Creates a mask; `Model.forward` validates it against its item.
    /// - Parameters:
    ///   - positions: each new token's absolute position.
    ///   - visible: each new token's earlier new tokens that it attends to.
    public init(positions: [Int], visible: [[Int]]) {
        self.positions = positions
        self.visible = visible
    }

    /// The mask a chain followed by a tree would have: what `ForwardItem.parents` means, spelled
    /// out (for composing a tree with rows that are not one).
    /// - Parameters:
    ///   - parents: per new token, its parent among them or -1 for the last cached token.
    ///   - base: the sequence's cached length.
    /// - Returns: each token at `base` + its depth, attending to its ancestors.
    public init(parents: [Int], base: Int) {
        var positions: [Int] = [], visible: [[Int]] = []
        for parent in parents {
            positions.append(parent < 0 ? base : positions[parent] + 1)
            visible.append(parent < 0 ? [] : visible[parent] + [parent])
        }
        self.init(positions: positions, visible: visible)
    }

    /// The rows as text, one line per row and one column per new token: `x` where the row
    /// attends to the column's token (itself included), `.` where it does not. The cached prefix,
    /// which every row sees, is left out. Lines may carry a label each (a token's role).
    /// - Parameter labels: per row, a prefix printed before its line (padded to one width).
    /// - Returns: the rendering, lines joined by newlines.
    public func rendered(labels: [String]? = nil) -> String {
        let width = labels?.map(\.count).max() ?? 0
        return visible.indices.map { i in
            let seen = Set(visible[i] + [i])
            let cells = String(visible.indices.map { seen.contains($0) ? "x" : "." })
            guard let labels else { return cells }
            let label = i < labels.count ? labels[i] : ""
            return label + String(repeating: " ", count: width - label.count) + " " + cells
        }.joined(separator: "\n")
    }
}
