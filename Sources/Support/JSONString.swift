/// JSON string literals, written one way everywhere: the canonical spelling that
/// `constrain.json_schema`'s `strings: canonical` accepts.
public enum JSONString {
    /// Appends `text` as a JSON string literal: `"` and `\` escaped, control characters as their
    /// short escapes (`\n`, `\t`, …) or lowercase `\u00xx`, everything else as it is.
    /// - Parameters:
    ///   - text: the string.
    ///   - out: where the literal goes.
    public static func append(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` as a JSON string literal (see `append(_:to:)`).
    /// - Parameter text: the string.
    /// - Returns: the literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }
}
