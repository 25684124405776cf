/// One message of the compiler about a graph file: `path:line:col: error: message`.
///
/// The compiler collects every diagnostic of a file rather than stopping at the first, so
/// diagnostics are values, and a compile fails when any of them is an error.
public struct Diagnostic: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How serious a diagnostic is.
    public enum Severity: String, Sendable, Hashable {
        /// The graph cannot be lowered.
        case error
        /// The graph runs, but probably not as meant.
        case warning
        /// More context for the diagnostic it is attached to.
        case note
    }

    /// How serious it is.
    public var severity: Severity
    /// Where it points.
    public var location: SourceLocation
    /// What is wrong and, where possible, what to do about it.
    public var message: String
    /// Further locations that explain it (the first definition of a duplicate, the `use:` that
    /// brought a subgraph in), printed after it.
    public var notes: [Diagnostic]

    /// Creates a diagnostic.
    /// - Parameters:
    ///   - severity: error, warning or note.
    ///   - location: where it points.
    ///   - message: the sentence to print.
    ///   - notes: attached notes.
    public init(_ severity: Severity, at location: SourceLocation, _ message: String, notes: [Diagnostic] = []) {
        self.severity = severity
        self.location = location
        self.message = message
        self.notes = notes
    }

    /// An error diagnostic.
    static func error(_ location: SourceLocation, _ message: String, notes: [Diagnostic] = []) -> Diagnostic {
        Diagnostic(.error, at: location, message, notes: notes)
    }

    /// A warning diagnostic.
    static func warning(_ location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(.warning, at: location, message)
    }

    /// A note, to attach to another diagnostic.
    static func note(_ location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(.note, at: location, message)
    }

    /// The diagnostic and its notes, one `path:line:col: severity: message` line each.
    public var description: String {
        ([self] + notes).map { "\($0.location): \($0.severity.rawValue): \($0.message)" }.joined(separator: "\n")
    }

    /// Reading order: by location, then errors before warnings, then by message so the order is total.
    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        if a.location != b.location { return a.location < b.location }
        if a.severity != b.severity { return a.severity.rank < b.severity.rank }
        return a.message < b.message
    }
}

extension Diagnostic.Severity {
    var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var containsErrors: Bool { contains { $0.severity == .error } }

    /// Sorted and without repeats (a subgraph used twice reports its own mistakes once).
    func normalized() -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return sorted().filter { seen.insert($0).inserted }
    }
}
