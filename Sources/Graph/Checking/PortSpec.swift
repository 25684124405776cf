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

extension PortSpec {
    /// The port every op of the propose family has: the node runs only when every tree these
    /// nodes proposed in the same step is empty, and otherwise gives an empty tree without running.
    /// A fallback drafter — CopySpec's copy, else the draft model — then costs nothing on the steps
    /// the first drafter covers. Not an op's parameter: the engine reads it for any drafter.
    public static let unless = PortSpec("unless", .tokenTree, multiplicity: .many, optional: true,
                                        doc: "Run only when every tree these drafters proposed this step is empty; otherwise propose nothing without running (a fallback drafter).")
}
