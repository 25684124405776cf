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
