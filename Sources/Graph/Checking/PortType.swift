/// What flows along an edge between nodes. Operators may define more kinds; these are the
/// kinds of the step model (propose → filter → score → shape → select).
public struct PortType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The name printed in messages and references.
    public var rawValue: String
    /// Creates a port type.
    /// - Parameter rawValue: its name.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Proposed continuations of each hypothesis: tokens, parent indices, optional draft
    /// probabilities, source tags.
    public static let tokenTree = PortType(rawValue: "tokenTree")
    /// The target model's logits at the root and at every node of a token tree.
    public static let scores = PortType(rawValue: "scores")
    /// Next-token distributions after logits processing, at the root and every tree node.
    public static let distribution = PortType(rawValue: "distribution")
    /// The accepted tokens of each hypothesis for this step.
    public static let selection = PortType(rawValue: "selection")
    /// The next set of hypotheses (beam, lattice), with their scores.
    public static let frontier = PortType(rawValue: "frontier")
}
