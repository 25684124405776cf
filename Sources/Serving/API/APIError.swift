import Support

/// An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with an
/// HTTP status, so OpenAI clients raise their usual exceptions (`BadRequestError`, …).
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// OpenAI's error type (`invalid_request_error`, `authentication_error`, …).
    public var type: String
    /// What went wrong and what to do.
    public var message: String
    /// The request field at fault, when one is.
    public var param: String?
    /// A machine-readable code (`context_length_exceeded`, `model_not_found`), when there is one.
    public var code: String?
    /// Extra headers (`Retry-After` on 429).
    public var headers: [(String, String)] = []

    public var description: String { "\(status) \(type): \(message)" }

    /// A 400 about a request field.
    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, type: "invalid_request_error", message: message, param: param, code: code)
    }

    /// The error object's JSON text.
    var json: String {
        var out = "{\"error\":{\"message\":"
        JSONString.append(message, to: &out)
        out += ",\"type\":"
        JSONString.append(type, to: &out)
        out += ",\"param\":" + (param.map(JSONString.quoted) ?? "null")
        out += ",\"code\":" + (code.map(JSONString.quoted) ?? "null") + "}}"
        return out
    }

    /// The HTTP response carrying it.
    var response: HTTPResponse { .json(status, json, headers: headers) }
}
