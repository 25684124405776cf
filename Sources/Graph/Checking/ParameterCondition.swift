/// When a rule of an op spec applies, as a function of the node's own parameter values
/// (`mode == sampling`, `temperature > 0`).
public enum ParameterCondition: Sendable, Hashable, CustomStringConvertible {
    /// Always.
    case always
    /// When the parameter has this value.
    case equals(String, ParameterValue)
    /// When the parameter has another value.
    case notEquals(String, ParameterValue)
    /// When the numeric parameter exceeds this.
    case greaterThan(String, Double)

    /// Whether it holds for a node's checked parameters (defaults included).
    /// - Parameter parameters: the node's parameter values.
    /// - Returns: `true` when the rule applies.
    public func holds(for parameters: [String: ParameterValue]) -> Bool {
        switch self {
        case .always: return true
        case .equals(let name, let value): return parameters[name] == value
        case .notEquals(let name, let value): return parameters[name] != value
        case .greaterThan(let name, let bound): return (parameters[name]?.number).map { $0 > bound } ?? false
        }
    }

    /// `when mode is sampling`, or empty for `always`.
    public var description: String {
        switch self {
        case .always: ""
        case .equals(let name, let value): "when \(name) is \(value)"
        case .notEquals(let name, let value): "when \(name) is not \(value)"
        case .greaterThan(let name, let bound): "when \(name) > \(ParameterValue.float(bound))"
        }
    }

    /// The parameter the condition reads, if any.
    var parameterName: String? {
        switch self {
        case .always: nil
        case .equals(let n, _), .notEquals(let n, _), .greaterThan(let n, _): n
        }
    }
}
