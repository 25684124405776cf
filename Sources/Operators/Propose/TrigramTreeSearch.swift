import Foundation

/// ADED's draft maker (Liu et al. 2024): a Monte Carlo tree search over a tri-gram matrix that
/// balances the matrix's likeliest continuations against ones it has tried less, and returns the
/// paths it visited most as a draft tree.
///
/// As in the authors' reference (their `mcts_sub.rs`): a search node is a pair of tokens; each
/// iteration descends by PUCT — mean value + (c₁ + ln((N + c₂ + 1) / c₂)) · p · √N / (1 + n), with
/// p the transition's probability, N the parent's visits and n the child's, an unvisited child
/// first — expands a leaf by every continuation the matrix holds, rolls out by sampling the
/// matrix to the draft depth, and backs up the value 1 + Σ p over the path's transitions. The
/// reference adds the probability of each pair's own second token as the value's terms, which
/// reads as a slip; the transitions' probabilities are what its text describes, and what is
/// summed here. The `paths` most visited nodes give their paths from the root, each lengthened
/// by the matrix's likeliest next token, merged into one tree.
struct TrigramTreeSearch {
    /// One continuation of a pair and its probability under the matrix.
    struct Transition: Equatable {
        var token: Int32
        var probability: Double
    }

    /// The reference's exploration constants c₁ and c₂ (AlphaZero's PUCT constants).
    static let explorationBase = 1.814
    static let explorationGrowth = 8.0

    /// Iterations per draft.
    let iterations: Int
    /// Tokens of a searched path below the root (each returned path gets one more).
    let depth: Int
    /// Paths returned.
    let paths: Int

    /// A node of the search tree.
    private struct Node {
        var token: Int32
        var previous: Int32
        var parent: Int
        var depth: Int
        var probability: Double
        var children: [Int] = []
        var expanded = false
        var visits = 0
        var value = 0.0
    }

    /// Searches below the pair the context ends with.
    /// - Parameters:
    ///   - first: the context's last token but one.
    ///   - second: its last token.
    ///   - rng: the roll-outs' randomness.
    ///   - transitions: a pair's continuations, most probable first.
    /// - Returns: the paths below the context, most visited first, each with its transitions'
    ///   probabilities; empty when the matrix has no continuation of the context.
    /// - Throws: what `transitions` throws.
    func search(after first: Int32, _ second: Int32, rng: inout Xoshiro256StarStar,
                transitions: (Int32, Int32) throws -> [Transition]) throws -> [[Transition]] {
        var nodes = [Node(token: second, previous: first, parent: -1, depth: 0, probability: 1)]
        for _ in 0..<iterations {
            var at = 0
            // Selection: down the expanded nodes by PUCT.
            while nodes[at].expanded, !nodes[at].children.isEmpty, nodes[at].depth < depth {
                let total = Double(nodes[at].visits)
                at = nodes[at].children.max { a, b in
                    let (sa, sb) = (score(nodes[a], parentVisits: total), score(nodes[b], parentVisits: total))
                    return sa < sb || (sa == sb && a > b)
                }!
            }
            // Expansion: every continuation at once; the likeliest is rolled out first.
            if !nodes[at].expanded, nodes[at].depth < depth {
                nodes[at].expanded = true
                for next in try transitions(nodes[at].previous, nodes[at].token) {
                    nodes[at].children.append(nodes.count)
                    nodes.append(Node(token: next.token, previous: nodes[at].token, parent: at,
                                      depth: nodes[at].depth + 1, probability: next.probability))
                }
                if let child = nodes[at].children.first { at = child }
            }
            // Roll-out: sample the matrix to the draft depth.
            var value = 1.0
            var step = at
            while step > 0 {
                value += nodes[step].probability
                step = nodes[step].parent
            }
            var (previous, token) = (nodes[at].previous, nodes[at].token)
            for _ in nodes[at].depth..<depth {
                let options = try transitions(previous, token)
                guard let next = Self.draw(options, rng: &rng) else { break }
                value += next.probability
                (previous, token) = (token, next.token)
            }
            // Back-up.
            step = at
            while step >= 0 {
                nodes[step].visits += 1
                nodes[step].value += value
                step = nodes[step].parent
            }
        }
        // The most visited nodes' paths (the shallower, then the earlier, among equals).
        let ranked = nodes.indices.dropFirst().sorted {
            (nodes[$0].visits, -nodes[$0].depth, -$0) > (nodes[$1].visits, -nodes[$1].depth, -$1)
        }
        return try ranked.prefix(paths).map { end in
            var path: [Transition] = []
            var step = end
            while step > 0 {
                path.append(Transition(token: nodes[step].token, probability: nodes[step].probability))
                step = nodes[step].parent
            }
            path.reverse()
            if let next = try transitions(nodes[end].previous, nodes[end].token).first { path.append(next) }
            return path
        }
    }

    /// A child's PUCT score.
    private func score(_ node: Node, parentVisits total: Double) -> Double {
        guard node.visits > 0 else { return .infinity }
        let exploration = Self.explorationBase + Foundation.log((total + Self.explorationGrowth + 1) / Self.explorationGrowth)
        return node.value / Double(node.visits) + exploration * node.probability * total.squareRoot() / Double(1 + node.visits)
    }

    /// A continuation drawn in proportion to its probability.
    static func draw(_ options: [Transition], rng: inout Xoshiro256StarStar) -> Transition? {
        let total = options.reduce(0) { $0 + $1.probability }
        guard total > 0 else { return nil }
        var u = Distribution.unitDouble(using: &rng) * total
        for option in options {
            u -= option.probability
            if u < 0 { return option }
        }
        return options.last
    }
}
