import Constraints
import Foundation
import Graph
import Support
import Synchronization

/// What the four `constrain.*` ops share: the constraint compiled when the node is built, and the
/// step behaviour — bring the hypothesis's parser in line with its output, prune the proposed tree
/// to what the constraint allows, add the tokens it forces, and attach the allowed-next mask of
/// every row, which `sample` applies before shaping.
///
/// One node is one logits mask *and* one draft filter: placed between the drafters and `score`,
/// the target never scores a forbidden node, and every distribution the verifier sees is masked,
/// so greedy output under a constraint is the same with or without drafters.
public struct ConstraintFilter: Sendable {
    /// The compiled constraint at its start state, with the lock that serialises its use: a
    /// grammar determinises lazily and its mask cache is shared, neither is thread-safe, and the
    /// hypotheses of a beam run their nodes concurrently.
    final class Compiled: @unchecked Sendable {
        let start: Constraint
        let lock = Mutex<Void>(())
        init(_ start: Constraint) { self.start = start }
    }

    let compiled: Compiled
    /// Most forced tokens added to a step's tree.
    let forcedLimit: Int

    /// Compiles the node's constraint.
    /// - Parameters:
    ///   - node: the plan node (reads `forced`).
    ///   - environment: supplies the target's vocabulary.
    ///   - grammar: builds the grammar (errors become located `invalidParameter` errors).
    /// - Throws: `OperatorError.invalidParameter` for a constraint that does not compile, or the
    ///   environment's error.
    init(node: Plan.Node, environment: any OperatorEnvironment, grammar: (Plan.Node, Plan) throws -> Grammar) throws {
        let vocabulary = try environment.constraintVocabulary()
        compiled = Compiled(Constraint(grammar: try grammar(node, environment.plan), vocabulary: vocabulary))
        forcedLimit = try node[Self.forced]
    }

    /// The validation every `constrain.*` op declares: its definition compiles to a byte-level
    /// grammar — the vocabulary-independent part of binding, so `decograph check` reports a
    /// malformed pattern, schema or grammar without loading a model — and the run can end.
    /// - Parameter grammar: the op's compilation of its definition.
    /// - Returns: the closure for `OpSpec(validate:)`.
    static func validation(_ grammar: @escaping @Sendable (Plan.Node, Plan) throws -> Grammar) -> @Sendable (Plan.Node, Plan) throws -> Void {
        OpValidation.checks { node, plan in
            if plan.limits.ignoreEOS, plan.limits.stopTokenIDs.isEmpty {
                throw OperatorError(.invalidParameter, at: "node",
                                    "a constraint needs an end-of-sequence token to end the output; the graph ignores EOS and lists no stop_token_ids")
            }
            _ = try grammar(node, plan)
        }
    }

    /// Builds a grammar from the definition given in `parameter`, locating its errors there.
    /// - Parameters:
    ///   - definition: the parameter that gave the definition and its text.
    ///   - build: the compilation.
    /// - Returns: the grammar.
    /// - Throws: `OperatorError.invalidParameter` at the parameter, with the position inside the
    ///   definition (`regex:12`, a grammar's `line:column`, a schema's JSON pointer).
    static func compile(_ definition: (parameter: String, text: String), _ build: (String) throws -> Grammar) throws -> Grammar {
        do {
            return try build(definition.text)
        } catch let error as ConstraintError {
            throw OperatorError(.invalidParameter, at: definition.parameter, "\(error.location): \(error.message)")
        }
    }

    /// A hypothesis's state at the start of a run: the start state, sharing the node's mask cache
    /// so masks computed in earlier runs are reused.
    func makeState() -> any HypothesisState {
        compiled.lock.withLock { _ in ConstraintState(compiled.start.restarted()) }
    }

    /// One step: sync, filter, mask.
    func run(_ input: StepInput) throws -> StepValue {
        let state = try Self.constraintState(input.state)
        let tree = try input.trees("tree").first ?? TokenTree()
        let generated = input.history.tokens[input.history.promptCount...]
        // A budget the constraint ran out of (docs/constraints.md, limits) ends the run with its
        // reason, not as a forbidden token or a dead end.
        func stopped() -> OperatorError? {
            state.constraint.failure.map { OperatorError(.invalidParameter, at: $0.location, "the constraint stopped: \($0.message)") }
        }
        return try compiled.lock.withLock { _ in
            do { try state.sync(generated: generated) } catch { throw stopped() ?? error }
            let filtered = state.filter(tree, forcedLimit: forcedLimit)
            if let failure = stopped() { throw failure }
            if let root = filtered.allowedNext?.first, let mask = root, mask.allowedCount == 0 {
                throw OperatorError(.invalidTree, at: "output token \(generated.count)",
                                    "the constraint allows no token after the output so far (a dead end in its grammar)")
            }
            return .tree(filtered)
        }
    }

    /// The shortest valid completion of the hypothesis's output (see `OutputCloser`).
    func closingTokens(state: (any HypothesisState)?, output: [Int32]) throws -> [Int32]? {
        let state = try Self.constraintState(state)
        return try compiled.lock.withLock { _ in
            try state.sync(generated: output)
            var probe = state.constraint
            return probe.closingTokens()?.map(Int32.init)
        }
    }

    /// The output's tokens that were the only one their row's mask allowed (see `OutputCloser`).
    func forcedChoices(state: (any HypothesisState)?, output: [Int32]) throws -> Int {
        let state = try Self.constraintState(state)
        return try compiled.lock.withLock { _ in
            try state.sync(generated: output)
            return state.singleChoiceCount
        }
    }

    /// The node's constraint state for a hypothesis.
    static func constraintState(_ state: (any HypothesisState)?) throws -> ConstraintState {
        guard let state = state as? ConstraintState else {
            throw OperatorError(.shapeMismatch, at: "state", "the node's constraint state is missing")
        }
        return state
    }

    /// The parameters and port every `constrain.*` op has. 8 forced tokens by default: a JSON key
    /// or a fixed literal is rarely longer.
    static let forced = OpParameter<Int>(
        "forced", default: 8, range: .closed(0, 64),
        doc: "Most tokens the constraint forces (the only allowed choice, one after another) added to the tree as deterministic drafts: the target scores them in the same pass and always accepts them. 0 turns it off.")
    static let treePort = PortSpec(
        "tree", .tokenTree, optional: true,
        doc: "Proposals to prune before they are scored; without one the node proposes only the forced tokens.")
    static let output = OutputSpec(
        .tokenTree, provides: [PropertyRule(.constraintMasks)], propagates: ["tree"],
        doc: "The allowed part of the proposal plus the forced tokens, with the allowed-next mask of every row; `sample` forbids every other token.")
    /// The `constraint` parameter of a `constrain.*` op: a declaration under `constraints:` to
    /// use instead of an inline definition, which must be of the op's kind.
    struct Declared: Sendable {
        /// The kind the op compiles (`regex`, `json_schema`, `grammar`).
        let kind: String
        /// The parameter.
        let parameter: OpParameter<String?>
        /// The parameter's key.
        var name: String { parameter.name }
    }

    /// The `constraint` parameter of the op for `kind`.
    static func declared(_ kind: String) -> Declared {
        Declared(kind: kind, parameter: OpParameter("constraint", .constraintRef,
                                                    doc: "A constraint of kind \(kind) declared under `constraints:`, instead of an inline definition."))
    }

    /// The declaration the node's `constraint` parameter names, checked to be of the op's kind.
    /// - Returns: its fields and the resolved `path`, or `nil` when the node names none.
    static func declaration(of node: Plan.Node, plan: Plan, _ declared: Declared) throws -> Plan.Resource? {
        guard let name = try node[declared.parameter] else { return nil }
        guard let resource = plan.constraints.first(where: { $0.name == name }) else {
            throw OperatorError(.invalidParameter, at: declared.name, "constraint '\(name)' is not declared")
        }
        guard case .string(let written)? = resource.fields["kind"], written == declared.kind else {
            throw OperatorError(.invalidParameter, at: declared.name,
                                "constraint '\(name)' is not of kind \(declared.kind); use the constrain.* op of its kind")
        }
        return resource
    }

    /// Where a constraint's definition is written, read only once the node is known to give
    /// exactly one.
    enum Source {
        /// Text written in the graph.
        case text(String)
        /// YAML written in the graph (an inline JSON Schema), as JSON.
        case yaml(YAMLNode, parameter: String)
        /// A file, named by `parameter`.
        case file(String, parameter: String)

        /// The definition's text.
        /// - Throws: `OperatorError.invalidParameter` for an unreadable file or YAML that JSON cannot hold.
        func read() throws -> String {
            switch self {
            case .text(let text):
                return text
            case .yaml(let node, let parameter):
                do {
                    return try node.jsonText()
                } catch {
                    throw OperatorError(.invalidParameter, at: parameter, "\(error)")
                }
            case .file(let path, let parameter):
                guard FileManager.default.fileExists(atPath: path) else {
                    throw OperatorError(.invalidParameter, at: parameter, "'\(path)' does not exist (a path is relative to the directory of the graph file that names it)")
                }
                if let kind = RegularFile.otherKind(at: path) {
                    throw OperatorError(.invalidParameter, at: parameter, "'\(path)' is \(kind), not a regular file")
                }
                do {
                    return try String(contentsOfFile: path, encoding: .utf8)
                } catch {
                    throw OperatorError(.invalidParameter, at: parameter, "cannot read '\(path)' as UTF-8 text")
                }
            }
        }
    }

    /// The file a node's `path`-like parameter names, resolved against the directory of the graph
    /// file that declares the node.
    /// - Returns: the source, or `nil` when the node leaves the parameter out.
    static func file(_ node: Plan.Node, _ parameter: OpParameter<String?>) throws -> Source? {
        try node[parameter].map { .file(node.resolving(path: $0), parameter: parameter.name) }
    }

    /// The one definition a node gives, among the parameters that can hold one, read.
    /// - Parameter sources: each parameter's name and what it gives.
    /// - Returns: the parameter that gave it and the definition's text.
    /// - Throws: `OperatorError.invalidParameter` when none or several are given, or the one given
    ///   cannot be read.
    static func one(_ sources: [(String, Source?)]) throws -> (parameter: String, text: String) {
        let given = sources.filter { $0.1 != nil }
        guard given.count == 1, let source = given[0].1 else {
            let names = sources.map { "'\($0.0)'" }.joined(separator: ", ")
            throw OperatorError(.invalidParameter, at: (given.dropFirst().first ?? sources[0]).0,
                                given.isEmpty ? "give one of \(names)" : "give only one of \(names), not \(given.map { "'\($0.0)'" }.joined(separator: " and "))")
        }
        return (given[0].0, try source.read())
    }
}

/// A `constrain.*` op: its step behaviour is its `ConstraintFilter`'s, so each op file holds only
/// its declaration and how its definition compiles.
public protocol ConstraintOperator: OutputCloser {
    /// The compiled constraint.
    var filter: ConstraintFilter { get }
}

extension ConstraintOperator {
    /// The hypothesis's parser at the constraint's start state.
    public func makeState() throws -> (any HypothesisState)? { filter.makeState() }
    /// A constraint keeps each hypothesis's parser.
    public static var keepsHypothesisState: Bool { true }
    /// The parser syncs with each step's history (rolling back to the common prefix), so it
    /// follows a search that re-opens an older hypothesis.
    public static var stateFollowsHistory: Bool { true }

    /// Syncs the parser with the output, filters the tree and sets its masks.
    /// - Parameters:
    ///   - input: the history and the proposal.
    ///   - rng: unused.
    /// - Returns: `.tree` with `allowedNext` set.
    /// - Throws: `OperatorError` when the committed output breaks the constraint or reaches a dead end.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue { try filter.run(input) }

    /// The shortest valid completion of the output (see `OutputCloser`).
    /// - Parameters:
    ///   - state: the hypothesis's constraint state.
    ///   - output: its generated tokens.
    /// - Returns: the closing tokens, or nil when none is found within the constraint's bounds.
    /// - Throws: `OperatorError` when the output breaks the constraint.
    public func closingTokens(state: (any HypothesisState)?, output: [Int32]) throws -> [Int32]? {
        try filter.closingTokens(state: state, output: output)
    }

    /// The output's tokens that were the only one allowed (see `OutputCloser`).
    /// - Parameters:
    ///   - state: the hypothesis's constraint state.
    ///   - output: its generated tokens.
    /// - Returns: the count.
    /// - Throws: `OperatorError` when the output breaks the constraint.
    public func forcedChoices(state: (any HypothesisState)?, output: [Int32]) throws -> Int {
        try filter.forcedChoices(state: state, output: output)
    }
}
