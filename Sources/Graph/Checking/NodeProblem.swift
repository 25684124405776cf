/// What an op's own validation (`OpSpec.validate`) finds wrong with a node whose parameters each
/// fit their declared type and range: a rule across parameters (`max_match` ≥ `min_match`), a value
/// its algorithm refuses (a temperature that overflows the float the sampler computes in), a
/// constraint that does not compile, an input the op cannot take.
///
/// The compiler reports it at the written value of `parameter` (the node when `nil` or left to its
/// default), so `decograph check` finds what binding the node would refuse, with a location.
public struct NodeProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The parameter at fault, when one is.
    public var parameter: String?
    /// What is wrong and what would be right.
    public var message: String

    /// Creates a problem.
    /// - Parameters:
    ///   - parameter: the parameter at fault, or `nil` for the node as a whole.
    ///   - message: what is wrong and what would be right.
    public init(_ parameter: String?, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { parameter.map { "'\($0)': \(message)" } ?? message }
}
