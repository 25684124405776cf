import Constraints
import Graph
import NGramStore
import Tokenization

/// What a node may bind when it is built, besides its own parameters: the process's shared
/// resources, as the engine running the plan provides them. Resources are loaded once per
/// process and shared by every session that names them.
public protocol OperatorEnvironment: Sendable {
    /// The plan whose nodes are being built (its `stores` and `constraints` declarations).
    var plan: Plan { get }
    /// The store declared under `name` in the plan's `stores`.
    /// - Parameters:
    ///   - name: the store's qualified name.
    ///   - writable: whether the node writes to it (`store.learn`); the declaration must say
    ///     `learn: true`.
    /// - Returns: the open store, checked against the target's tokenizer.
    /// - Throws: a located error when the store cannot be opened or may not be written.
    func store(named name: String, writable: Bool) throws -> NGramStore
    /// The store declared under `name`, opened read-only for drafting: an LMDB n-gram store or a
    /// suffix-array store, whichever the file is.
    /// - Parameter name: the store's qualified name.
    /// - Returns: the open store, checked against the target's tokenizer.
    /// - Throws: a located error when the store cannot be opened.
    func retrievalStore(named name: String) throws -> any RetrievalStore
    /// The target model's vocabulary as constraints mask it: each token's bytes (special tokens
    /// none, so they are never allowed) and the run's end-of-sequence tokens.
    /// - Returns: the shared vocabulary and its byte trie.
    /// - Throws: when the target has no tokenizer or no end-of-sequence token.
    func constraintVocabulary() throws -> TokenVocabulary
    /// The target model's sampling defaults (`GenerationDefaults.sampling`: its
    /// `generation_config.json` or GGUF `general.sampling.*`), by `sample` parameter name. A
    /// `sample` node takes them for the parameters its graph does not write.
    var samplingDefaults: [String: Double] { get }
    /// The target model's tokenizer, for ops whose parameters hold text they splice into the
    /// tokens (a score node's distorted instruction); `nil` when the target has none.
    var tokenizer: Tokenizer? { get }
    /// Binds a graph a node runs inside itself (`Plan.Node.graphs`): its models load as the
    /// outer graph's do, so a model both name shares one runtime.
    /// - Parameters:
    ///   - plan: the inner graph's plan.
    ///   - node: the node that runs it.
    /// - Returns: the runner.
    /// - Throws: a located error when the inner graph cannot be bound (a model that does not
    ///   load, a vocabulary other than the target's).
    func innerGraph(_ plan: Plan, for node: Plan.Node) throws -> any InnerGraphRunner
}

extension OperatorEnvironment {
    /// The LMDB store (environments that open no suffix arrays: tests, tools).
    public func retrievalStore(named name: String) throws -> any RetrievalStore { try store(named: name, writable: false) }
    /// No defaults (environments without a target model: tests, tools).
    public var samplingDefaults: [String: Double] { [:] }
    /// No tokenizer (environments without a target model: tests, tools).
    public var tokenizer: Tokenizer? { nil }
    /// No inner graphs (environments without an engine: tests, tools).
    public func innerGraph(_ plan: Plan, for node: Plan.Node) throws -> any InnerGraphRunner {
        throw OperatorError(.invalidParameter, at: DraftGraphOp.graph.name, "this environment runs no inner graphs; run the graph with the engine")
    }
}

/// Mutable state a node keeps for one hypothesis across the steps of a run (a constraint's
/// parser). Only the task running the (hypothesis, node) pair touches it during a step.
public protocol HypothesisState: AnyObject, Sendable {
    /// A copy for a hypothesis that extends this one (a beam forked from its parent).
    /// - Returns: an independent copy.
    func fork() -> any HypothesisState
}

/// A node that acts once a run has ended: stores learn the run's text, the dynamic n-gram tier
/// remembers it.
public protocol RunObserver: Sendable {
    /// Called on the session's thread after the run's last step.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - output: the tokens the run emitted (after stop conditions trimmed them).
    /// - Throws: what the effect throws (a store that cannot be written); the run's output stands.
    func runFinished(prompt: [Int32], output: [Int32]) throws
}

/// What one step committed, as a node that adapts sees it: the verified tree, the accepted path,
/// and the tokens the history grew by (after stop conditions).
public struct StepCommit: Sendable {
    /// The verified tree; each node carries the source tag of the drafter that proposed it (the
    /// drafting node's name).
    public let tree: TokenTree
    /// Accepted node indices, root side first.
    public let acceptedNodes: [Int]
    /// The tokens the step added to the history.
    public let tokens: [Int32]

    /// Creates a commit.
    /// - Parameters:
    ///   - tree: the verified tree.
    ///   - acceptedNodes: accepted node indices, root side first.
    ///   - tokens: the committed tokens.
    public init(tree: TokenTree, acceptedNodes: [Int], tokens: [Int32]) {
        self.tree = tree
        self.acceptedNodes = acceptedNodes
        self.tokens = tokens
    }

    /// Tree nodes a drafter proposed this step.
    /// - Parameter source: the drafter's source tag.
    /// - Returns: the count.
    public func proposed(by source: String) -> Int { tree.nodes.count { $0.source == source } }

    /// Accepted nodes a drafter proposed (for a chain, the accepted length of its draft).
    /// - Parameter source: the drafter's source tag.
    /// - Returns: the count.
    public func accepted(from source: String) -> Int { acceptedNodes.count { tree.nodes[$0].source == source } }
}

/// A node that learns from each step's commit (a drafter adapting its length or its layers to
/// the acceptance it gets). Called on the session's thread after the step, for runs that commit
/// one hypothesis's selection, with the node's state for that hypothesis.
public protocol CommitObserver: Sendable {
    /// Receives one step's commit.
    /// - Parameters:
    ///   - commit: what the step verified and committed.
    ///   - state: the node's state for the hypothesis (`HypothesisOperator.makeState()`).
    func committed(_ commit: StepCommit, state: (any HypothesisState)?)
}
