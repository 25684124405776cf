/// The ops a compiler knows, by name. The Operators module builds the real one; tests build
/// their own. Immutable and `Sendable`, so one registry serves every concurrent compile.
public struct OpRegistry: Sendable {
    /// The specs in registration order (the order `decograph ops` prints).
    public let specs: [OpSpec]
    private let byName: [String: Int]

    /// Creates a registry.
    /// - Parameter specs: the ops; a name registered twice keeps its first spec and is reported
    ///   by `validate()`.
    public init(_ specs: [OpSpec]) {
        self.specs = specs
        var byName: [String: Int] = [:]
        for (i, spec) in specs.enumerated() where byName[spec.name] == nil { byName[spec.name] = i }
        self.byName = byName
    }

    /// The spec of an op.
    /// - Parameter name: the op's name.
    /// - Returns: its spec, if registered.
    public func spec(named name: String) -> OpSpec? { byName[name].map { specs[$0] } }

    /// Every registered name.
    public var names: [String] { specs.map(\.name) }

    /// Mistakes in the specs themselves (a default outside its range, a rule naming an unknown
    /// parameter or port, a name registered twice), one sentence each; the Operators module
    /// tests that its registry returns none.
    /// - Returns: the problems found, empty when the registry is consistent.
    public func validate() -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for spec in specs {
            if !seen.insert(spec.name).inserted { problems.append("op '\(spec.name)' is registered twice") }
            var keys = Set<String>()
            for key in spec.parameters.map(\.name) + spec.inputs.map(\.name) {
                if key == "op" || !keys.insert(key).inserted {
                    problems.append("op '\(spec.name)' declares the key '\(key)' twice or reuses 'op'")
                }
            }
            for p in spec.parameters {
                if let d = p.defaultValue, let problem = ValueChecker.problem(with: d, for: p) {
                    problems.append("op '\(spec.name)': default of '\(p.name)' \(problem)")
                }
            }
            let conditions = spec.output.provides.map(\.when) + spec.needs.map(\.when)
                + spec.inputs.flatMap { $0.requires.map(\.when) }
            for c in conditions {
                for n in c.parameterNames where spec.parameter(n) == nil {
                    problems.append("op '\(spec.name)': a rule reads parameter '\(n)', which it does not declare")
                }
            }
            for port in spec.output.propagates where spec.input(port) == nil {
                problems.append("op '\(spec.name)': output propagates from '\(port)', which is not an input port")
            }
        }
        return problems
    }
}
