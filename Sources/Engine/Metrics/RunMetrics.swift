/// What one run measured, as a whole and per node.
public struct RunMetrics: Sendable, Codable, Equatable {
    /// Time spent in one node over the run.
    public struct NodeMetrics: Sendable, Codable, Equatable {
        /// The node's qualified name.
        public var name: String
        /// Its op.
        public var op: String
        /// Times it ran (once per hypothesis per step).
        public var calls: Int
        /// Wall-clock seconds summed over its calls.
        public var seconds: Double
    }

    /// What the run asked of one model.
    public struct ModelMetrics: Sendable, Codable, Equatable {
        /// The model's name in the graph.
        public var name: String
        /// Calls that ran every layer (a frontier scored in one pass is one call).
        public var fullCalls: Int
        /// Calls that ran a selection of the layers (self-speculative drafts).
        public var partialCalls: Int
        /// All calls' cost in full passes: a pass over k of n layers counts k / n.
        public var layerEquivalents: Double
    }

    /// What a graph run inside a node (`draft.graph`) did over the run: its own steps, the tokens it
    /// committed (rolled-back ones included) and its target's calls.
    public struct InnerRun: Sendable, Codable, Equatable {
        /// The outer node's qualified name.
        public var node: String
        /// Inner steps run.
        public var steps = 0
        /// Tokens the inner graph committed, those the outer verifier rolled back included.
        public var tokens = 0
        /// Full-depth calls of the inner graph's target (the draft model).
        public var targetCalls = 0
        /// The inner graph's mean accepted tokens per call of its target.
        public var meanAcceptedTokens: Double { targetCalls == 0 ? 0 : Double(tokens) / Double(targetCalls) }
    }

    /// Empty metrics, to add runs into.
    public init() {}

    /// Steps run.
    public var steps = 0
    /// Full-depth calls of the target model (a frontier's hypotheses are one batched call; an
    /// amateur's calls in contrastive decoding and a self-speculative draft's partial calls are not).
    public var targetCalls = 0
    /// Per model the graph names, in the order the plan binds them.
    public var models: [ModelMetrics] = []
    /// Per node that runs a graph inside itself, that graph's own figures; its models' calls are
    /// in `models`, named `node/model`.
    public var innerRuns: [InnerRun] = []
    /// Tokens emitted.
    public var tokens = 0
    /// Draft tokens proposed at each depth (index 0 is depth 1), counted once per step whose tree
    /// reaches that depth.
    public var proposedByPosition: [Int] = []
    /// Of those, steps whose accepted path reached that depth.
    public var acceptedByPosition: [Int] = []
    /// Per node, in plan order.
    public var nodes: [NodeMetrics] = []
    /// Wall-clock seconds of the run (prompt processing included).
    public var seconds = 0.0
    /// Emitted tokens that were the only token a constraint allowed at their position (counted by
    /// `OutputCloser` nodes along the rows they masked; 0 without one).
    public var singleChoiceTokens = 0
    /// Tokens a constraint appended to close an output the budget cut (`finished: closed`).
    public var closingTokens = 0
    /// Hypothesis-steps of a search: every step adds its frontier's size (beams or samples scored),
    /// the decoding work behind the answer; equal to `steps` for a single hypothesis.
    public var frontierTokens = 0
    /// The largest frontier a step scored.
    public var widestFrontier = 0

    /// Mean accepted tokens per target call (MAT): emitted tokens / target calls; 1 for plain decoding.
    public var meanAcceptedTokens: Double { targetCalls == 0 ? 0 : Double(tokens) / Double(targetCalls) }

    /// Acceptance rate at each draft depth.
    public var acceptanceByPosition: [Double] {
        zip(acceptedByPosition, proposedByPosition).map { $1 == 0 ? 0 : Double($0) / Double($1) }
    }

    /// Hypotheses scored per step: 1 for a single hypothesis, the mean frontier for a search.
    public var hypothesesPerStep: Double { steps == 0 ? 0 : Double(frontierTokens) / Double(steps) }

    /// Wall-clock milliseconds per step: a search's cost per step against `hypothesesPerStep`.
    public var millisecondsPerStep: Double { steps == 0 ? 0 : seconds * 1000 / Double(steps) }

    /// Emitted tokens per second.
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }

    /// Adds another run's model calls and inner runs, matched by name (a benchmark's sum over
    /// prompts).
    /// - Parameter other: the other run's metrics.
    public mutating func addCalls(of other: RunMetrics) {
        Self.merge(&models, other.models, key: \.name) {
            $0.fullCalls += $1.fullCalls
            $0.partialCalls += $1.partialCalls
            $0.layerEquivalents += $1.layerEquivalents
        }
        Self.merge(&innerRuns, other.innerRuns, key: \.node) {
            $0.steps += $1.steps
            $0.tokens += $1.tokens
            $0.targetCalls += $1.targetCalls
        }
    }

    /// Adds each entry of `more` into the entry of `list` with the same key, or appends it.
    private static func merge<Entry>(_ list: inout [Entry], _ more: [Entry], key: KeyPath<Entry, String>, add: (inout Entry, Entry) -> Void) {
        for entry in more {
            if let i = list.firstIndex(where: { $0[keyPath: key] == entry[keyPath: key] }) {
                add(&list[i], entry)
            } else {
                list.append(entry)
            }
        }
    }

    /// Records one verified step's tree depth and accepted length.
    mutating func recordAcceptance(depth: Int, accepted: Int) {
        while proposedByPosition.count < depth {
            proposedByPosition.append(0)
            acceptedByPosition.append(0)
        }
        for d in 0..<depth {
            proposedByPosition[d] += 1
            if d < accepted { acceptedByPosition[d] += 1 }
        }
    }

    /// A few lines for standard error.
    public var summary: String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        var lines = ["tokens \(tokens)  steps \(steps)  target calls \(targetCalls)  MAT \(f(meanAcceptedTokens))  "
            + "\(f(tokensPerSecond, 1)) tok/s  \(f(seconds, 3)) s"]
        if singleChoiceTokens > 0 || closingTokens > 0 {
            lines.append("constraint: \(singleChoiceTokens) of \(tokens) tokens had no alternative, \(closingTokens) appended to close the output")
        }
        if models.count > 1 || models.contains(where: { $0.partialCalls > 0 }) {
            lines.append("models: " + models.map { "\($0.name) \($0.fullCalls) full + \($0.partialCalls) partial calls = \(f($0.layerEquivalents, 1)) passes" }.joined(separator: ", "))
        }
        for inner in innerRuns {
            lines.append("inner graph of \(inner.node): \(inner.tokens) tokens in \(inner.steps) steps, \(inner.targetCalls) target calls, MAT \(f(inner.meanAcceptedTokens))")
        }
        if widestFrontier > 1 {
            lines.append("frontier: \(frontierTokens) hypothesis-steps, at most \(widestFrontier) per step (\(f(hypothesesPerStep)) on average), \(f(millisecondsPerStep)) ms per step")
        }
        if !proposedByPosition.isEmpty {
            lines.append("acceptance by draft position: " + acceptanceByPosition.map { f($0) }.joined(separator: " "))
        }
        for node in nodes {
            lines.append("  \(node.name) (\(node.op)): \(node.calls) calls, \(f(node.seconds * 1000, 1)) ms")
        }
        return lines.joined(separator: "\n")
    }
}
