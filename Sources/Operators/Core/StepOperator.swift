import Graph

/// What flows along an edge of a running graph, one value per node and hypothesis per step; the
/// cases mirror the compiler's `PortType`s.
public enum StepValue: Sendable {
    /// Proposed continuations (`tokenTree`).
    case tree(TokenTree)
    /// The target's logits at the root and every node of `tree` (`scores`).
    case scores(tree: TokenTree, logits: [[Float]])
    /// Next-token distributions at the root and every node (`distribution`); `greedy` when they
    /// are one-hot argmaxes, so a verifier in `auto` mode verifies greedily.
    case distributions(tree: TokenTree, rows: [[Float]], greedy: Bool)
    /// What a verifier accepted (`selection`).
    case selection(Verdict)
}

/// What a per-hypothesis op sees in one step: the committed history, the values on its input
/// ports, and the models bound to it for this hypothesis.
public struct StepInput {
    /// The hypothesis's committed tokens (prompt and generated) and the prompt's length.
    public var history: LogitsContext
    /// Values of the input ports, by port name, in the order the graph lists the sources.
    public var inputs: [String: [StepValue]]
    /// The models the node's model parameters name, by parameter, each bound to this hypothesis's
    /// KV cache of that model. A node asks each call for what it needs: every layer, the first
    /// `n`, or a skip set (`TreeScorer.score(context:tree:layers:)`). Nodes of different stages
    /// that name the same model share its cache (a self-speculative draft reads the target's).
    public var models: [String: any TreeScorer]
    /// The node's own state for this hypothesis (`HypothesisOperator.makeState()`).
    public var state: (any HypothesisState)?

    /// Creates an input.
    /// - Parameters:
    ///   - history: the committed tokens.
    ///   - inputs: port values by port name.
    ///   - models: the node's models for this hypothesis, by parameter name.
    ///   - state: the node's state for this hypothesis, if it keeps one.
    public init(history: LogitsContext, inputs: [String: [StepValue]], models: [String: any TreeScorer] = [:],
                state: (any HypothesisState)? = nil) {
        self.history = history
        self.inputs = inputs
        self.models = models
        self.state = state
    }

    /// The trees on a port (an unconnected optional port gives none).
    /// - Parameter port: the port's name.
    /// - Returns: its trees.
    /// - Throws: `OperatorError.shapeMismatch` when a value is not a tree.
    func trees(_ port: String) throws -> [TokenTree] {
        try (inputs[port] ?? []).map {
            guard case .tree(let t) = $0 else { throw Self.wrongKind(port, "a token tree") }
            return t
        }
    }

    /// The one value on a port.
    func single(_ port: String) throws -> StepValue {
        guard let values = inputs[port], values.count == 1 else {
            throw OperatorError(.shapeMismatch, at: port, "expected one input value, got \(inputs[port]?.count ?? 0)")
        }
        return values[0]
    }

    /// The model a parameter names, which the engine binds for every model parameter.
    /// - Parameter parameter: the parameter's name.
    /// - Returns: the bound model.
    /// - Throws: `OperatorError.unscorableContext` when none is bound.
    public func model(_ parameter: String) throws -> any TreeScorer {
        guard let model = models[parameter] else { throw OperatorError(.unscorableContext, at: parameter, "no model is bound to this node's '\(parameter)'") }
        return model
    }

    static func wrongKind(_ port: String, _ expected: String) -> OperatorError {
        OperatorError(.shapeMismatch, at: port, "expected \(expected) on this port")
    }
}

/// An op of the graph language: its declaration and how a node of it is built from a plan.
///
/// Adding an op: one file in the folder of its stage (`Propose/`, `Filter/`, …) with a type conforming to `HypothesisOperator`
/// (or `FrontierOperator`), and one line in `OperatorRegistry.operators`.
public protocol StepOperator: Sendable {
    /// The spec the compiler checks nodes against and `decograph ops` prints.
    static var spec: OpSpec { get }
    /// Builds the node's behaviour from its checked parameters and the resources it names.
    /// - Parameters:
    ///   - node: the plan's node (parameters with defaults filled in).
    ///   - environment: the shared stores and vocabulary of the process.
    /// - Throws: `OperatorError.invalidParameter` for values the algorithm refuses, or the
    ///   environment's error for a resource that cannot be bound.
    init(node: Plan.Node, environment: any OperatorEnvironment) throws

    /// Whether a node reads its models on a context of its own (a score node under a distorted
    /// instruction), so the engine gives it KV sequences no other node shares: sharing would
    /// truncate the common prefix back and forth every step.
    /// - Parameter node: the plan's node.
    /// - Returns: `true` for a private context.
    static func hasOwnContext(_ node: Plan.Node) -> Bool
}

extension StepOperator {
    /// Nodes read the hypothesis's committed context.
    public static func hasOwnContext(_ node: Plan.Node) -> Bool { false }
}

/// An op that runs once per hypothesis per step (drafters, scoring, shaping, verification).
public protocol HypothesisOperator: StepOperator {
    /// Runs one step for one hypothesis.
    /// - Parameters:
    ///   - input: history, port values, and the bound model.
    ///   - rng: the node's own seeded generator for this hypothesis (one per node, so concurrent
    ///     nodes never share one and a run is reproducible whatever the schedule).
    /// - Returns: the node's output value.
    /// - Throws: `OperatorError` or the model's error.
    func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue

    /// The node's state for a new hypothesis at the start of a run, or `nil` for a stateless node.
    /// - Returns: the state `run` will find in `StepInput.state`.
    /// - Throws: when the state cannot be built.
    func makeState() throws -> (any HypothesisState)?
    /// Whether `makeState()` gives a state: known from the type, so the compiler can refuse a graph
    /// whose search would jump between hypotheses that such state cannot follow.
    static var keepsHypothesisState: Bool { get }
    /// Whether that state brings itself in line with whatever history a step hands it (a
    /// constraint's parser rolls back to the common prefix and advances), so a search may jump.
    static var stateFollowsHistory: Bool { get }
}

extension HypothesisOperator {
    /// Stateless by default.
    public func makeState() throws -> (any HypothesisState)? { nil }
    /// Stateless by default.
    public static var keepsHypothesisState: Bool { false }
    /// A state is tied to the path it grew along unless the op says otherwise.
    public static var stateFollowsHistory: Bool { false }
}

/// An op whose runs over a frontier's hypotheses are better done together (`score`: one forward
/// pass for every beam, so the weights stream once; `draft.model`: each draft position one pass for
/// every sample). The engine hands it the whole frontier in one task whenever there is more than
/// one hypothesis.
public protocol FrontierBatchedOperator: HypothesisOperator {
    /// Runs one step for every hypothesis at once.
    /// - Parameters:
    ///   - inputs: each hypothesis's input, in frontier order.
    ///   - rngs: each hypothesis's generator for this node, in the same order.
    /// - Returns: each hypothesis's output value, in the same order.
    /// - Throws: `OperatorError` or the model's error.
    func run(batch inputs: [StepInput], rngs: inout [Xoshiro256StarStar]) throws -> [StepValue]
}

/// A search over the whole frontier: the running hypotheses of a step are scored separately, then
/// one frontier op chooses the next frontier.
public protocol FrontierOperator: StepOperator {
    /// Starts a search.
    /// - Parameters:
    ///   - prompt: the prompt.
    ///   - maxNewTokens: the run's token budget.
    ///   - eosTokens: tokens that finish a hypothesis.
    ///   - seed: the run's seed, for a search that draws.
    /// - Returns: the search state.
    /// - Throws: `OperatorError.invalidParameter` for settings the search refuses.
    func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch
    /// Whether the search may continue a hypothesis from an earlier step rather than only children
    /// of the last one (a best-first lattice): the engine then forks it from the running hypothesis
    /// sharing the longest prefix, which is sound only for nodes without per-hypothesis state.
    var reopensHypotheses: Bool { get }
    /// Whether a re-opening search steps through its hypotheses' drafted trees (`search.mcts`'s
    /// greedy roll-outs): the engine's check then lets drafters whose state follows history feed it.
    var readsDraftedTrees: Bool { get }
}

extension FrontierOperator {
    /// Searches extend the last step's hypotheses by default.
    public var reopensHypotheses: Bool { false }
    /// Whether a re-opening search steps through its hypotheses' drafted trees (so drafters may
    /// feed it); none does by default.
    public var readsDraftedTrees: Bool { false }
}

/// An op that judges finished outputs (`reward`): not a stage of the step, but called by the
/// searches and rerankers whose node parameter names it, on each output they weigh.
public protocol RewardOperator: StepOperator {
    /// What an output is worth.
    /// - Parameters:
    ///   - tokens: its generated tokens.
    ///   - meanLogProbability: the mean log-probability of its tokens as the caller scored them.
    /// - Returns: the reward (higher is better).
    /// - Throws: `OperatorError` when the judge cannot run (a program that does not start).
    func reward(_ tokens: [Int32], meanLogProbability: Double) throws -> Double
}

/// An op that orders a search's finished hypotheses once the search ends: the graph's output, its
/// `from` the frontier op (`rerank`). It runs once per run, not per step.
public protocol CandidateRanker: StepOperator {
    /// Orders the candidates, best first.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - candidates: the search's finished hypotheses, best first by the search's own score.
    ///   - models: the node's model parameters, each bound to a fresh KV sequence of its model.
    /// - Returns: the candidates in the new order, each `score` replaced by what this op ranks by.
    /// - Throws: `OperatorError` or the model's error.
    func rank(prompt: [Int32], candidates: [FrontierCandidate], models: [String: any TreeScorer]) throws -> [FrontierCandidate]
}

/// The state of a frontier search between steps.
public protocol FrontierSearch: Sendable {
    /// The running hypotheses' generated tokens, in frontier order.
    var running: [[Int32]] { get }
    /// Whether the search has finished.
    var isDone: Bool { get }
    /// The best finished hypothesis's tokens, once there is one.
    var best: [Int32]? { get }
    /// Every finished hypothesis the search keeps, best first (the n-best list; empty for a search
    /// that keeps only its answer).
    var candidates: [FrontierCandidate] { get }
    /// The lattice the search grew, for a search that keeps one.
    var lattice: SearchLattice? { get }
    /// Advances one step.
    /// - Parameter inputs: for each running hypothesis, the value on the op's `from` port.
    /// - Returns: for each new running hypothesis, the index of the hypothesis it extends.
    /// - Throws: `OperatorError` for malformed inputs.
    mutating func advance(_ inputs: [StepValue]) throws -> [Int]
}

extension FrontierSearch {
    /// No lattice by default.
    public var lattice: SearchLattice? { nil }
}

/// One finished hypothesis of a search.
public struct FrontierCandidate: Sendable, Equatable {
    /// Its generated tokens (ending with the EOS token when one ended it).
    public var tokens: [Int32]
    /// What the search ranks it by (beam search: log-probability / length^length_penalty).
    public var score: Float
    /// The sum of its tokens' log-probabilities as the search scored them (penalties included).
    public var logProbability: Float

    /// Creates a candidate.
    public init(tokens: [Int32], score: Float, logProbability: Float) {
        self.tokens = tokens
        self.score = score
        self.logProbability = logProbability
    }

    /// Candidates best first: the higher score, the earlier among equals (a stable sort).
    /// - Parameter candidates: candidates in the order they were found.
    /// - Returns: the same candidates, ranked.
    public static func bestFirst(_ candidates: [FrontierCandidate]) -> [FrontierCandidate] {
        candidates.enumerated().sorted { ($0.element.score, $1.offset) > ($1.element.score, $0.offset) }.map(\.element)
    }

    /// A finished beam hypothesis.
    init(_ hypothesis: BeamSearch.Hypothesis) {
        self.init(tokens: hypothesis.tokens, score: hypothesis.score, logProbability: hypothesis.logProbability)
    }
}
