/// The one error type of the Operators module: what went wrong, where, in words a user can act on.
///
/// Operators run inside a graph, so `location` names the thing at fault (a parameter, a tree node,
/// a position of a scored tree); the Engine prefixes it with the graph node's own source location.
public struct OperatorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kind of mistake, for callers that react differently to each.
    public enum Code: String, Sendable {
        /// A parameter is outside its documented range.
        case invalidParameter = "invalid parameter"
        /// A token tree breaks an invariant (parent after child, bad depth, token outside the vocabulary).
        case invalidTree = "invalid token tree"
        /// A probability distribution is malformed (wrong size, negative or non-finite entries, zero mass).
        case invalidDistribution = "invalid distribution"
        /// Logits or distributions do not line up with the tree or vocabulary they belong to.
        case shapeMismatch = "shape mismatch"
        /// A scorer was asked about a context it cannot score.
        case unscorableContext = "unscorable context"
    }

    /// The kind of mistake.
    public var code: Code
    /// Where: a parameter name, `node 3`, `position 0`…
    public var location: String
    /// What is wrong and what would be right.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of mistake.
    ///   - location: the parameter, node or position at fault.
    ///   - message: what is wrong and what would be right.
    public init(_ code: Code, at location: String, _ message: String) {
        self.code = code
        self.location = location
        self.message = message
    }

    /// `location: error: code: message`, the shape the Engine embeds in graph diagnostics.
    public var description: String { "\(location): error: \(code.rawValue): \(message)" }
}

extension OperatorError {
    /// Checks a parameter against its allowed range, the way every operator validates its settings.
    /// - Parameters:
    ///   - name: the parameter's name as the graph language spells it.
    ///   - value: the value given.
    ///   - range: the allowed values, described in `expected` for the message.
    ///   - expected: the allowed range in words (`"in (0, 1]"`).
    /// - Throws: `OperatorError.invalidParameter` when `value` is outside `range` or not finite.
    static func require<T: Comparable>(_ name: String, _ value: T, in range: some RangeExpression<T>, _ expected: String) throws {
        let finite = (value as? Double).map(\.isFinite) ?? (value as? Float).map(\.isFinite) ?? true
        guard finite, range.contains(value) else {
            throw OperatorError(.invalidParameter, at: name, "\(value) is not allowed; expected a value \(expected)")
        }
    }
}
