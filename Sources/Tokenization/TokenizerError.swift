/// Why a tokenizer could not be loaded or used: a message with the file and, where it applies, the
/// JSON path of the offending value (`tokenizer.json: $.model.merges[12]: expected two tokens`).
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure it is, for programs that branch on it.
    public enum Code: Sendable, Equatable {
        /// The file could not be read.
        case unreadable
        /// The file is not valid JSON or a value has the wrong shape.
        case malformed
        /// A component (normalizer, pre-tokenizer, model, …) or option this implementation does not support.
        case unsupported
        /// The input text or ids cannot be processed.
        case invalidInput
    }

    /// The kind of failure.
    public var code: Code
    /// The file involved (a path as given), or empty when none.
    public var file: String
    /// The JSON path of the value, `$.a.b[3]`, or `nil` when not about one value.
    public var jsonPath: String?
    /// What is wrong, with what the user can do about it.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - file: the file involved.
    ///   - jsonPath: the JSON path of the offending value, if any.
    ///   - message: what is wrong.
    public init(_ code: Code, file: String, jsonPath: String? = nil, _ message: String) {
        self.code = code
        self.file = file
        self.jsonPath = jsonPath
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if !file.isEmpty { parts.append(file) }
        if let jsonPath { parts.append(jsonPath) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}
