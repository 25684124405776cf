/// Constraints as draft filters: which proposed tokens a speculative step may keep, decided before the
/// target model scores them (pruned nodes cost no verification).
extension Constraint {
    /// How many of `tokens`, in order from the current state, the constraint accepts.
    ///
    /// `mutating` only because the parser's stack is used as scratch; the state is unchanged.
    /// - Parameter tokens: a draft continuation.
    /// - Returns: the length of its longest allowed prefix.
    public mutating func acceptedPrefixLength(_ tokens: [Int]) -> Int {
        var n = 0
        for t in tokens {
            guard advance(t) else { break }
            n += 1
        }
        rollback(tokens: n)
        return n
    }

    /// Which nodes of a draft tree the constraint allows: a node is allowed when its parent is and its
    /// token may follow the path to it.
    ///
    /// `mutating` only because the parser's stack is used as scratch; the state is unchanged.
    /// - Parameters:
    ///   - tokens: the token of each node.
    ///   - parents: each node's parent index, or -1 for children of the current state; a parent comes
    ///     before its children.
    /// - Returns: one flag per node.
    public mutating func allowedTreeNodes(tokens: [Int], parents: [Int]) -> [Bool] {
        var allowed = [Bool](repeating: false, count: tokens.count)
        var path: [Int] = []          // nodes currently advanced, root first
        for i in tokens.indices {
            let p = i < parents.count ? parents[i] : -1
            guard p < i else { continue }
            if p >= 0 && !allowed[p] { continue }
            // The ancestors of i, root first.
            var ancestors: [Int] = []
            var a = p
            while a >= 0 { ancestors.append(a); a = parents[a] }
            ancestors.reverse()
            var common = 0
            while common < min(path.count, ancestors.count), path[common] == ancestors[common] { common += 1 }
            rollback(tokens: path.count - common)
            path.removeSubrange(common...)
            for a in ancestors[common...] {
                advance(tokens[a])
                path.append(a)
            }
            if advance(tokens[i]) {
                allowed[i] = true
                rollback(tokens: 1)
            }
        }
        rollback(tokens: path.count)
        return allowed
    }
}
