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

/// An input port of an op: a key in the node whose value names the node(s) it reads.
public struct PortSpec: Sendable, Hashable {
    /// How many nodes a port reads.
    public enum Multiplicity: String, Sendable, Hashable {
        /// Exactly one node name.
        case one
        /// One or more node names (a list, or one name).
        case many
    }

    /// When the value read was produced.
    public enum Timing: String, Sendable, Hashable {
        /// In this step: an edge of the step's dataflow (cycles are errors).
        case sameStep
        /// In the previous step (a beam reading its last frontier): not an edge of the schedule.
        case previousStep
    }

    /// The key (`from`, `tree`).
    public var name: String
    /// What it reads.
    public var type: PortType
    /// One node or several.
    public var multiplicity: Multiplicity
    /// Whether the node may leave it unconnected.
    public var optional: Bool
    /// Same step, or the previous step's value.
    public var timing: Timing
    /// Requirements on what feeds it.
    public var requires: [PropertyRequirement]
    /// One sentence.
    public var doc: String

    /// Creates an input port.
    /// - Parameters:
    ///   - name: its key.
    ///   - type: what it reads.
    ///   - multiplicity: one node or several.
    ///   - optional: whether it may be unconnected.
    ///   - timing: same step or previous step.
    ///   - requires: requirements on its sources.
    ///   - doc: what it is for.
    public init(_ name: String, _ type: PortType, multiplicity: Multiplicity = .one, optional: Bool = false,
                timing: Timing = .sameStep, requires: [PropertyRequirement] = [], doc: String) {
        self.name = name
        self.type = type
        self.multiplicity = multiplicity
        self.optional = optional
        self.timing = timing
        self.requires = requires
        self.doc = doc
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

/// The output of an op: its type and which properties it has.
public struct OutputSpec: Sendable, Hashable {
    /// What it produces.
    public var type: PortType
    /// Properties it supplies itself.
    public var provides: [PropertyRule]
    /// Input ports whose properties it keeps: a property passes when every node feeding these
    /// ports has it (a merged tree has draft probabilities only if all its drafters gave them).
    public var propagates: [String]
    /// One sentence.
    public var doc: String

    /// Creates an output.
    /// - Parameters:
    ///   - type: what it produces.
    ///   - provides: properties it supplies.
    ///   - propagates: input ports whose properties pass through.
    ///   - doc: what it is.
    public init(_ type: PortType, provides: [PropertyRule] = [], propagates: [String] = [], doc: String) {
        self.type = type
        self.provides = provides
        self.propagates = propagates
        self.doc = doc
    }
}
