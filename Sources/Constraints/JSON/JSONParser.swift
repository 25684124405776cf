/// Parses JSON text (RFC 8259) into `JSONValue`, with `line:column` errors.
struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// Nesting deeper than this is refused instead of risking the stack (the limit most parsers use).
    static let maxDepth = 512

    /// Parses a whole document.
    static func parse(_ bytes: [UInt8]) throws(ConstraintError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ message: String) -> ConstraintError {
        var line = 1, column = 1
        for b in bytes[..<min(position, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return ConstraintError(.invalidJSON, at: "\(line):\(column)", message)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, ByteSet.jsonWhitespace.contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ word: String) throws(ConstraintError) {
        for b in word.utf8 {
            guard position < bytes.count, bytes[position] == b else { throw error("invalid literal, expected '\(word)'") }
            position += 1
        }
    }

    private mutating func value() throws(ConstraintError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
            position += 1
            skipWhitespace()
            var items: [JSONValue] = []
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value())
                skipWhitespace()
                guard position < bytes.count else { throw error("unterminated array") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
            position += 1
            skipWhitespace()
            var members: [(key: String, value: JSONValue)] = []
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                members.append((key, try value()))
                skipWhitespace()
                guard position < bytes.count else { throw error("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw error("expected ',' or '}'")
            }
        default:
            return .number(try number())
        }
    }

    private mutating func number() throws(ConstraintError) -> String {
        let start = position
        func digits() -> Int {
            let s = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
            return position - s
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, (0x30...0x39).contains(bytes[position]) else { throw error("invalid value") }
        if bytes[position] == UInt8(ascii: "0") { position += 1 } else { _ = digits() }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw error("expected exponent digits") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func hex4() throws(ConstraintError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let d = Unicode.Scalar(bytes[position]).hexDigitValue else {
                throw error("invalid \\u escape")
            }
            v = v * 16 + UInt32(d)
            position += 1
        }
        return v
    }

    private mutating func string() throws(ConstraintError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() throws(ConstraintError) {
            guard !raw.isEmpty else { return }
            guard let s = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
            scalars.append(contentsOf: s.unicodeScalars)
            raw.removeAll()
        }
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let b = bytes[position]
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                try flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush()
                guard position < bytes.count else { throw error("unterminated string") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800...0xDBFF).contains(v) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw error("lone surrogate escape") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate escape") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(v) {
                        throw error("lone surrogate escape")
                    }
                    scalars.append(Unicode.Scalar(v)!)
                default:
                    throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                raw.append(b)
            }
        }
    }
}

extension JSONValue {
    /// Parses JSON text.
    /// - Parameter text: the document.
    /// - Returns: the value.
    /// - Throws: `ConstraintError` with code `invalidJSON` and a `line:column` location.
    public static func parse(_ text: String) throws(ConstraintError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    /// Parses JSON bytes.
    /// - Parameter bytes: the document, UTF-8.
    /// - Returns: the value.
    /// - Throws: `ConstraintError` with code `invalidJSON` and a `line:column` location.
    public static func parse(bytes: [UInt8]) throws(ConstraintError) -> JSONValue {
        try JSONParser.parse(bytes)
    }
}
