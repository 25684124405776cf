import Support

/// YAML written inline in a graph (a JSON Schema under `schema:`) as JSON text.
extension YAMLNode {
    /// Why a YAML value has no JSON spelling.
    public struct JSONConversionError: Error, CustomStringConvertible, Sendable {
        /// Where the value is written.
        public var location: SourceLocation
        /// What is wrong.
        public var message: String
        public var description: String { "\(location): error: \(message)" }
    }

    /// The node as JSON, resolving plain scalars with YAML 1.2's core schema: `null`/`~`/empty are
    /// null, `true`/`false` booleans, decimal, `0x` and `0o` integers and decimal floats numbers;
    /// every quoted or block scalar and every other plain scalar is a string. Mapping keys are strings.
    /// - Returns: compact JSON text.
    /// - Throws: `JSONConversionError` for `.inf` and `.nan`, which JSON cannot hold.
    public func jsonText() throws(JSONConversionError) -> String {
        var out = ""
        try appendJSON(to: &out)
        return out
    }

    private func appendJSON(to out: inout String) throws(JSONConversionError) {
        switch kind {
        case .mapping(let entries):
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += "," }
                JSONString.append(entry.key.scalar ?? "", to: &out)
                out += ":"
                try entry.value.appendJSON(to: &out)
            }
            out += "}"
        case .sequence(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                try item.appendJSON(to: &out)
            }
            out += "]"
        case .scalar(let text, let plain):
            guard plain else { return JSONString.append(text, to: &out) }
            if isNull { return out += "null" }
            switch text {
            case "true", "True", "TRUE": return out += "true"
            case "false", "False", "FALSE": return out += "false"
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
                throw JSONConversionError(location: location, message: "'\(text)' is a YAML number JSON cannot hold")
            default: break
            }
            if let number = Self.jsonNumber(text) { return out += number }
            JSONString.append(text, to: &out)
        }
    }

    /// The JSON spelling of a YAML core-schema number, or `nil` when `text` is not one.
    static func jsonNumber(_ text: String) -> String? {
        var body = Substring(text)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        if body.hasPrefix("0x") || body.hasPrefix("0o") {
            guard let value = Int(body.dropFirst(2), radix: body.hasPrefix("0x") ? 16 : 8) else { return nil }
            return sign + String(value)
        }
        // [0-9]+ ( . [0-9]* )? | . [0-9]+ , then an optional exponent.
        let bytes = Array(body.utf8)
        var i = 0, intDigits = 0, fracDigits = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1; intDigits += 1 }
        var hasPoint = false
        if i < bytes.count, bytes[i] == 46 {
            hasPoint = true
            i += 1
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1; fracDigits += 1 }
        }
        guard intDigits + fracDigits > 0 else { return nil }
        var exponent = ""
        if i < bytes.count, bytes[i] == 101 || bytes[i] == 69 {
            var j = i + 1
            var expSign = ""
            if j < bytes.count, bytes[j] == 43 || bytes[j] == 45 { expSign = bytes[j] == 45 ? "-" : ""; j += 1 }
            let start = j
            while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57 { j += 1 }
            guard j > start else { return nil }
            exponent = "e" + expSign + String(decoding: bytes[start..<j], as: UTF8.self)
            i = j
        }
        guard i == bytes.count else { return nil }
        var integer = intDigits == 0 ? "0" : String(decoding: bytes[0..<intDigits], as: UTF8.self)
        // JSON allows no leading zeros: YAML's core schema reads `007` as 7.
        while integer.count > 1, integer.first == "0" { integer.removeFirst() }
        var number = sign + integer
        if hasPoint, fracDigits > 0 {
            number += "." + String(decoding: bytes[(intDigits + 1)..<(intDigits + 1 + fracDigits)], as: UTF8.self)
        } else if hasPoint {
            number += ".0"
        }
        return number + exponent
    }
}
