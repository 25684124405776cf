import Graph

extension Session {
    /// The score-family node whose model is the run's target — the model whose tokenizer, end-of-sequence
    /// tokens and sampling defaults the run takes, and whose calls `RunMetrics.targetCalls` counts.
    ///
    /// A graph may score with several models (contrastive decoding scores an expert and an
    /// amateur), so the first `score` node in the file is not necessarily the target. The target is
    /// the one the output's decision derives from: from the output node, follow each node's first
    /// connected same-step input port — ops list the port their output derives from first (`verify`
    /// ← `sample` ← `contrast`'s `expert` ← `score`) — to a node of the score family. A graph where
    /// that walk finds none falls back to its first score-family node.
    /// - Parameter plan: the plan.
    /// - Returns: the target's `score` node, or `nil` when the plan has none.
    public static func targetScoreNode(of plan: Plan) -> Plan.Node? {
        var index = plan.output
        var visited: Set<Int> = []
        while visited.insert(index).inserted {
            let node = plan.nodes[index]
            if node.family == .score { return node }
            guard let next = node.inputs.first(where: { $0.timing == .sameStep && !$0.sources.isEmpty })?.sources.first else { break }
            index = next
        }
        return plan.nodes.first { $0.family == .score }
    }
}
