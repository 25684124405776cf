import Graph

/// The one error type of the Engine: what failed, where in the graph, in words a user can act on.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    /// Where: a graph node's or model's declaration, when the failure belongs to one.
    public var location: SourceLocation?
    /// What went wrong.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - location: the graph location at fault, if any.
    ///   - message: what went wrong.
    public init(at location: SourceLocation? = nil, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:col: error: message`, or the message alone without a location.
    public var description: String {
        guard let location else { return "error: \(message)" }
        return "\(location): error: \(message)"
    }
}
