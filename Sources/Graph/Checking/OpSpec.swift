/// The declaration of one op: what the compiler checks a node against, what `decograph ops`
/// prints, and what the language reference documents. Each op of the Operators module declares
/// its spec in its own file and the registry lists them.
public struct OpSpec: Sendable, Hashable {
    /// The name written after `op:` (`draft.model`).
    public var name: String
    /// Its step-model family.
    public var family: OpFamily
    /// What it does, in a sentence or two, naming the method or paper.
    public var doc: String
    /// Its parameters.
    public var parameters: [ParameterSpec]
    /// Its input ports.
    public var inputs: [PortSpec]
    /// Its output.
    public var output: OutputSpec
    /// Runtime capabilities it needs.
    public var needs: [CapabilityRule]
    /// When its output only approximates the model it names (an early exit, a small model
    /// standing in for the large one): a graph whose committed tokens depend on such a node is
    /// lossy, and the compiler refuses to call it lossless.
    public var approximates: Approximation?
    /// The op's own checks of a node, beyond each parameter's type and range: rules across
    /// parameters, values its algorithm refuses, definitions it compiles (a constraint), what
    /// its inputs may carry. It runs on the lowered node and plan, without models or stores, when
    /// the graph is compiled — by `decograph check` as by `run` — and is the same code the op runs
    /// when it is bound, so the two never disagree. Throws `NodeProblem`s; any other error is
    /// reported at the node.
    public var validate: (@Sendable (Plan.Node, Plan) throws -> Void)?

    /// Creates a spec.
    /// - Parameters:
    ///   - name: the op's name.
    ///   - family: its family.
    ///   - doc: what it does.
    ///   - parameters: its parameters.
    ///   - inputs: its input ports.
    ///   - output: its output.
    ///   - needs: runtime capabilities it needs.
    ///   - approximates: when its output only approximates its model (see `approximates`).
    ///   - validate: the op's own checks of a node (see `validate`).
    public init(_ name: String, family: OpFamily, doc: String, parameters: [ParameterSpec] = [],
                inputs: [PortSpec] = [], output: OutputSpec, needs: [CapabilityRule] = [],
                approximates: Approximation? = nil, validate: (@Sendable (Plan.Node, Plan) throws -> Void)? = nil) {
        self.name = name
        self.family = family
        self.doc = doc
        self.parameters = parameters
        // Every drafter can be a fallback: the language gives the propose family its `unless` port.
        self.inputs = family == .propose && !inputs.contains { $0.name == PortSpec.unless.name } ? inputs + [.unless] : inputs
        self.output = output
        self.needs = needs
        self.approximates = approximates
        self.validate = validate
    }

    /// Specs are equal when their declarations are; the validation closure is code, not data.
    public static func == (a: OpSpec, b: OpSpec) -> Bool {
        a.name == b.name && a.family == b.family && a.doc == b.doc && a.parameters == b.parameters
            && a.inputs == b.inputs && a.output == b.output && a.needs == b.needs && a.approximates == b.approximates
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(parameters)
        hasher.combine(inputs)
    }

    /// The parameter with this name.
    /// - Parameter name: its key.
    /// - Returns: the parameter, if declared.
    public func parameter(_ name: String) -> ParameterSpec? { parameters.first { $0.name == name } }

    /// The input port with this name.
    /// - Parameter name: its key.
    /// - Returns: the port, if declared.
    public func input(_ name: String) -> PortSpec? { inputs.first { $0.name == name } }
}

/// An op's declaration that its output stands in for a model's rather than computing it.
public struct Approximation: Sendable, Hashable {
    /// When it approximates (`always`, or for some parameter values).
    public var when: ParameterCondition
    /// What is approximated, as a clause (`exits before the last layer when confident`).
    public var reason: String

    /// Creates a declaration.
    /// - Parameters:
    ///   - when: when the output approximates.
    ///   - reason: what is approximated, as a clause.
    public init(when: ParameterCondition = .always, _ reason: String) {
        self.when = when
        self.reason = reason
    }
}
