extension TokenTree {
    /// Position ids of the nodes when the tree is scored after `contextLength` committed tokens: a
    /// node sits where it would be had its path been committed, so siblings share a position.
    /// - Parameter contextLength: tokens before the root.
    /// - Returns: one position per node.
    public func positions(after contextLength: Int) -> [Int] {
        nodes.map { contextLength + $0.depth - 1 }
    }

    /// The tree attention mask (SpecInfer's topology-aware causal mask): row `i` marks the nodes
    /// node `i` may attend to — its ancestors and itself. Every node also attends to the whole
    /// context, which the mask leaves implicit.
    /// - Returns: `count` rows of `count` flags, row-major by node index.
    public func attentionMask() -> [[Bool]] {
        var mask = [[Bool]](repeating: [Bool](repeating: false, count: count), count: count)
        for (i, node) in nodes.enumerated() {
            if node.parent != TokenTree.root { mask[i] = mask[node.parent] }  // parents precede children
            mask[i][i] = true
        }
        return mask
    }
}
