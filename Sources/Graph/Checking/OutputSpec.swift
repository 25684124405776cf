/// The output of an op: its type and which properties it has.
public struct OutputSpec: Sendable, Hashable {
    /// What it produces.
    public var type: PortType
    /// Properties it supplies itself.
    public var provides: [PropertyRule]
    /// Input ports whose properties it keeps: a property passes when every node feeding these
    /// ports has it (a merged tree has draft probabilities only if all its drafters gave them).
    public var propagates: [String]
    /// For an op that extends what it propagates with nodes of its own (a drafter lengthening
    /// another's tree): the properties of the nodes it adds. An inherited property then passes
    /// only when the added nodes have it too, and with no propagated port connected the output
    /// has these; `nil` for an op that adds nothing of its own to what it propagates.
    public var adds: [PortProperty]?
    /// One sentence.
    public var doc: String

    /// Creates an output.
    /// - Parameters:
    ///   - type: what it produces.
    ///   - provides: properties it supplies.
    ///   - propagates: input ports whose properties pass through.
    ///   - adds: the properties of the nodes the op adds to what it propagates, if it adds any.
    ///   - doc: what it is.
    public init(_ type: PortType, provides: [PropertyRule] = [], propagates: [String] = [], adds: [PortProperty]? = nil,
                doc: String) {
        self.type = type
        self.provides = provides
        self.propagates = propagates
        self.adds = adds
        self.doc = doc
    }
}

extension OutputSpec {
    /// The properties a node's output inherits from what feeds its propagated ports.
    /// - Parameter sources: the properties of each node feeding a propagated port.
    /// - Returns: those every source has (and, for an op that adds nodes, that its nodes have
    ///   too); with no source, the added nodes' own.
    func inherited(from sources: [Set<PortProperty>]) -> Set<PortProperty> {
        guard let first = sources.first else { return Set(adds ?? []) }
        let common = sources.dropFirst().reduce(first) { $0.intersection($1) }
        return adds.map { common.intersection($0) } ?? common
    }
}
