/// Why a regex, grammar or JSON Schema was refused, and where.
///
/// One error type for the module. `location` says where in the input the problem is: a byte offset
/// into a regex (`regex:12`), a `line:column` in a grammar file, or a JSON pointer into a schema
/// (`#/properties/age`). `feature` names the unsupported keyword or regex construct, so callers can
/// tally refusals.
public struct ConstraintError: Error, CustomStringConvertible, Equatable {
    /// The kind of refusal.
    public enum Code: String, Sendable {
        /// The regex uses a construct we do not implement (backreference, lookaround, …).
        case unsupportedRegexFeature
        /// The regex is malformed.
        case invalidRegex
        /// The grammar text is malformed or references an undefined rule.
        case invalidGrammar
        /// The schema uses a keyword (or a form of it) we cannot enforce exactly.
        case unsupportedKeyword
        /// The schema itself is malformed (a keyword with a value of the wrong type).
        case invalidSchema
        /// The JSON text is malformed.
        case invalidJSON
        /// The input, or the work it needs, passes one of the documented limits (automaton states,
        /// parser work per step): refused rather than exhausting time or memory.
        case limitExceeded
    }

    /// The kind of refusal.
    public var code: Code
    /// Where: `regex:OFFSET`, `LINE:COLUMN`, or a JSON pointer.
    public var location: String
    /// The unsupported keyword or construct, when the refusal is about one.
    public var feature: String?
    /// What is wrong, in words a user can act on.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind.
    ///   - location: where.
    ///   - feature: the keyword or construct refused, if any.
    ///   - message: the explanation.
    public init(_ code: Code, at location: String, feature: String? = nil, _ message: String) {
        self.code = code
        self.location = location
        self.feature = feature
        self.message = message
    }

    /// `LOCATION: error: MESSAGE`, the compiler-diagnostic form.
    public var description: String { "\(location): error: \(message)" }
}
