/// Why a chat template could not be parsed or rendered, located in the template's source.
///
/// `message` is the text transformers' renderer gives for the same failure (for `raise_exception`,
/// the template's own words), so a program can compare or show it; `description` adds the place.
public struct ChatTemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kinds of failure, named after the Jinja2/Python exception transformers raises.
    public enum Code: String, Sendable, Equatable {
        /// The template is not valid template syntax (Jinja's `TemplateSyntaxError`).
        case syntax = "TemplateSyntaxError"
        /// The template called `raise_exception(message)` (Jinja's `TemplateError`).
        case raised = "TemplateError"
        /// A value the template used is undefined (Jinja's `UndefinedError`).
        case undefined = "UndefinedError"
        /// An operation on values of the wrong type (Python's `TypeError`).
        case type = "TypeError"
        /// A value of the right type but wrong content (Python's `ValueError`).
        case value = "ValueError"
        /// The sandbox refused an operation (Jinja's `SecurityError`).
        case security = "SecurityError"
        /// The template ran past the render budget (loop steps, output size or call depth).
        case budget = "BudgetExceeded"
        /// Anything else the renderer refuses (unknown filter or test, wrong arguments).
        case runtime = "TemplateRuntimeError"
    }

    public var code: Code
    /// The template's name (a file name, or `tokenizer.chat_template`).
    public var source: String
    /// The 1-based line in the template where the failure happened; 0 when not known.
    public var line: Int
    /// The message, as transformers words it where the two can be compared.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - source: the template's name.
    ///   - line: the 1-based line, 0 when unknown.
    ///   - message: what went wrong.
    public init(_ code: Code, source: String, line: Int, _ message: String) {
        self.code = code
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(source):\(line)" : source
        switch code {
        case .raised: return "\(place): error: the chat template refused the conversation: \(message)"
        default: return "\(place): error: \(code.rawValue): \(message)"
        }
    }
}

/// A failure inside the interpreter before it knows the template's name and line; the
/// interpreter turns it into a `ChatTemplateError` at the statement being executed.
struct JinjaError: Error {
    var code: ChatTemplateError.Code
    var message: String
    /// Set by the innermost statement that saw the error, so outer statements keep that line.
    var line: Int = 0

    init(_ code: ChatTemplateError.Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func type(_ message: String) -> JinjaError { JinjaError(.type, message) }
    static func runtime(_ message: String) -> JinjaError { JinjaError(.runtime, message) }
}
