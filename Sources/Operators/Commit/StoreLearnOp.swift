import Graph
import NGramStore

/// `store.learn`: adds each run's accepted output to a persistent n-gram store when the run ends.
public struct StoreLearnOp: HypothesisOperator, RunObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "store.learn", family: .commit,
        doc: "When a run ends, adds its accepted output — led by the prompt's last tokens, or the whole prompt with `prompt: true` — to a persistent n-gram store in one write transaction; draft.ngram reading the store proposes from it in later runs, and other processes see it at their next read.",
        parameters: [store.spec, learnsPrompt.spec],
        inputs: [PortSpec("from", .selection, doc: "The verifier whose committed tokens are learned.")],
        output: OutputSpec(.selection, propagates: ["from"], doc: "The selection, unchanged."),
        validate: OpValidation.checks { node, plan in _ = try StoreLearnOp.store(node, plan: plan) })

    static let store = OpParameter<String>("store", .storeRef, doc: "The store, declared under `stores:` with `learn: true`.")
    static let learnsPrompt = OpParameter<Bool>("prompt", default: false,
                                                doc: "Whether the whole prompt is learned too (a corpus of user text), not only its last tokens as the output's context.")

    let store: NGramStore
    let learnsPrompt: Bool

    /// Builds the node and opens its store for writing.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: opens the store.
    /// - Throws: the environment's error when the store cannot be opened for writing.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        store = try environment.store(named: try Self.store(node, plan: environment.plan), writable: true)
        learnsPrompt = try node[Self.learnsPrompt]
    }

    /// The store the node learns into, checked to be declared writable (its validation when the
    /// graph is compiled: a store opened read-only cannot learn).
    /// - Returns: the store's qualified name.
    /// - Throws: `OperatorError.invalidParameter` at `store`.
    static func store(_ node: Plan.Node, plan: Plan) throws -> String {
        let name = try node[store]
        if let declaration = plan.stores.first(where: { $0.name == name }), declaration.fields["learn"] != .bool(true) {
            throw OperatorError(.invalidParameter, at: store.name, "store '\(name)' is written by this node, so its declaration needs learn: true")
        }
        try StoreDeclarations.refuseLearningSuffixArray(name, plan: plan, at: store.name)
        return name
    }

    /// Passes the selection through; learning waits for the end of the run, when the output is final.
    /// - Parameters:
    ///   - input: the selection.
    ///   - rng: unused.
    /// - Returns: the selection.
    /// - Throws: `OperatorError.shapeMismatch` for a missing input.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        try input.single("from")
    }

    /// Learns the run's text in one write transaction.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - output: the tokens it emitted.
    /// - Throws: `NGramStoreError` when the store cannot be written (nothing of the run is kept then).
    public func runFinished(prompt: [Int32], output: [Int32]) throws {
        guard !output.isEmpty else { return }
        let lead = learnsPrompt ? prompt : Array(prompt.suffix(store.parameters.contextLength))
        var learner = StoreLearner(store: store, batchContexts: .max)
        try learner.learn(tokens: lead + output)
        try learner.flush()
    }
}
