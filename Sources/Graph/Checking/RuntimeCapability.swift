/// A feature of the model runtime that a plan needs; an engine refuses a plan needing one it
/// lacks, before the first step rather than in the middle of one.
public struct RuntimeCapability: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The capability's name.
    public var rawValue: String
    /// Creates a capability.
    /// - Parameter rawValue: its name.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: RuntimeCapability, b: RuntimeCapability) -> Bool { a.rawValue < b.rawValue }

    /// Scoring a token tree in one forward pass under a tree attention mask.
    public static let tokenTrees = RuntimeCapability(rawValue: "tokenTrees")
    /// Forking a sequence's KV cache into several hypotheses that share blocks.
    public static let fork = RuntimeCapability(rawValue: "fork")
    /// Dropping rejected tokens from the tail of a KV cache.
    public static let rollback = RuntimeCapability(rawValue: "rollback")
    /// Running only the first layers of a model (self-speculative drafting).
    public static let partialDepth = RuntimeCapability(rawValue: "partialDepth")
}

/// A runtime capability an op needs when a condition on its parameters holds.
public struct CapabilityRule: Sendable, Hashable {
    /// The capability.
    public var capability: RuntimeCapability
    /// When it is needed.
    public var when: ParameterCondition

    /// Creates a rule.
    /// - Parameters:
    ///   - capability: what is needed.
    ///   - when: when it is needed.
    public init(_ capability: RuntimeCapability, when: ParameterCondition = .always) {
        self.capability = capability
        self.when = when
    }
}
