import Foundation

/// Text read from a file or standard input, exactly as its bytes spell it.
enum TextInput {
    /// The UTF-8 text of `data`, every scalar kept — a leading byte-order mark included, as
    /// Hugging Face tokenizers keep it (Foundation's `String(data:encoding:)` drops it, which
    /// changed the first tokens of a prompt) — or `nil` when the bytes are not valid UTF-8.
    /// - Parameter data: the bytes.
    /// - Returns: the text, or `nil`.
    static func utf8(_ data: Data) -> String? {
        String(validating: data, as: UTF8.self)
    }
}
