/// When a rule of an op spec applies, as a function of the node's own parameter values
/// (`mode == sampling`, `temperature > 0`).
public indirect enum ParameterCondition: Sendable, Hashable, CustomStringConvertible {
    /// Always.
    case always
    /// When the parameter has this value.
    case equals(String, ParameterValue)
    /// When the parameter has another value.
    case notEquals(String, ParameterValue)
    /// When the numeric parameter exceeds this.
    case greaterThan(String, Double)
    /// When the (optional) parameter is given.
    case given(String)
    /// When every one of the conditions holds.
    case allOf([ParameterCondition])
    /// When at least one of the conditions holds.
    case anyOf([ParameterCondition])

    /// Whether it holds for a node's checked parameters (defaults included).
    /// - Parameter parameters: the node's parameter values.
    /// - Returns: `true` when the rule applies.
    public func holds(for parameters: [String: ParameterValue]) -> Bool {
        switch self {
        case .always: return true
        case .equals(let name, let value): return parameters[name] == value
        case .notEquals(let name, let value): return parameters[name] != value
        case .greaterThan(let name, let bound): return (parameters[name]?.number).map { $0 > bound } ?? false
        case .given(let name): return parameters[name] != nil
        case .allOf(let conditions): return conditions.allSatisfy { $0.holds(for: parameters) }
        case .anyOf(let conditions): return conditions.contains { $0.holds(for: parameters) }
        }
    }

    /// `when mode is sampling`, or empty for `always`.
    public var description: String {
        switch self {
        case .always: ""
        case .equals(let name, let value): "when \(name) is \(value)"
        case .notEquals(let name, let value): "when \(name) is not \(value)"
        case .greaterThan(let name, let bound): "when \(name) > \(ParameterValue.float(bound))"
        case .given(let name): "when \(name) is given"
        case .allOf(let conditions): Self.joined(conditions, " and ")
        case .anyOf(let conditions): Self.joined(conditions, " or ")
        }
    }

    /// `when a and b`: one "when" for the whole combination.
    private static func joined(_ conditions: [ParameterCondition], _ separator: String) -> String {
        let clauses = conditions.map(\.description).filter { !$0.isEmpty }.map { $0.hasPrefix("when ") ? String($0.dropFirst(5)) : $0 }
        return clauses.isEmpty ? "" : "when " + clauses.joined(separator: separator)
    }

    /// The parameters the condition reads.
    var parameterNames: [String] {
        switch self {
        case .always: []
        case .equals(let n, _), .notEquals(let n, _), .greaterThan(let n, _), .given(let n): [n]
        case .allOf(let conditions), .anyOf(let conditions): conditions.flatMap(\.parameterNames)
        }
    }
}
