/// A fact about the values on a port that a later op may need, such as whether a token tree
/// carries the drafter's probabilities. Properties flow forward through ops that keep them.
public struct PortProperty: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The property's name.
    public var rawValue: String
    /// Creates a property.
    /// - Parameter rawValue: its name.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Every proposed token carries q(x), the probability its drafter proposed it with.
    public static let draftProbabilities = PortProperty(rawValue: "draftProbabilities")
    /// Proposals are a deterministic function of the context, so a one-hot q is exact.
    public static let deterministic = PortProperty(rawValue: "deterministic")
}

/// A requirement of an input port: when the condition holds, every node feeding the port must
/// carry at least one of the properties. This is how unsound combinations are found.
public struct PropertyRequirement: Sendable, Hashable {
    /// The properties, any one of which suffices.
    public var anyOf: [PortProperty]
    /// When the requirement applies.
    public var when: ParameterCondition
    /// Why it is needed, for the error message (`speculative sampling divides by q(x)`).
    public var reason: String

    /// Creates a requirement.
    /// - Parameters:
    ///   - anyOf: properties of which one must hold.
    ///   - when: when it applies.
    ///   - reason: why, as a clause.
    public init(anyOf: [PortProperty], when: ParameterCondition = .always, reason: String) {
        self.anyOf = anyOf
        self.when = when
        self.reason = reason
    }
}

/// A property an op's output has when a condition on its parameters holds.
public struct PropertyRule: Sendable, Hashable {
    /// The property.
    public var property: PortProperty
    /// When the output has it.
    public var when: ParameterCondition

    /// Creates a rule.
    /// - Parameters:
    ///   - property: the property supplied.
    ///   - when: when it is supplied.
    public init(_ property: PortProperty, when: ParameterCondition = .always) {
        self.property = property
        self.when = when
    }
}
