/// A token inside `{{ }}` or `{% %}`.
enum Token: Equatable {
    case name(String)
    case string(String)
    case int(Int)
    case double(Double)
    /// Punctuation and operators: `+ - * / // % ** ~ ( ) [ ] { } . , : | = == != < > <= >=`.
    case op(String)
}

/// A piece of template source: literal text, an expression tag or a statement tag.
enum Segment {
    case text(String)
    case output([Token], line: Int)
    case statement([Token], line: Int)
}

/// Splits a template into segments with Jinja2's whitespace rules as transformers configures them
/// (`trim_blocks=True, lstrip_blocks=True`):
/// - `lstrip_blocks`: spaces and tabs before a `{%` or `{#` at the start of a line are dropped;
/// - `trim_blocks`: the first newline after `%}` or `#}` is dropped;
/// - `{%-`/`{{-`/`{#-` drop all whitespace before the tag, `-%}`/`-}}`/`-#}` all whitespace after;
///   `{%+` and `+%}` turn the two rules off for that tag;
/// - `{% raw %}…{% endraw %}` is text, its tags following the same rules.
struct Lexer {
    let scalars: [Unicode.Scalar]
    let sourceName: String
    private var i = 0
    private var line = 1
    /// Jinja's `line_starting`: the last tag ended with a newline (or nothing was read yet), so
    /// text without a newline before the next tag still starts a line for `lstrip_blocks`.
    private var lineStarting = true
    private var segments: [Segment] = []

    init(source: String, name: String) {
        scalars = Array(source.unicodeScalars)
        sourceName = name
    }

    static func segments(of source: String, name: String) throws -> [Segment] {
        var lexer = Lexer(source: source, name: name)
        try lexer.run()
        return lexer.segments
    }

    private func fail(_ message: String, at line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(.syntax, source: sourceName, line: line ?? self.line, message)
    }

    private func at(_ k: Int, _ text: String) -> Bool {
        var k = k
        for c in text.unicodeScalars {
            guard k < scalars.count, scalars[k] == c else { return false }
            k += 1
        }
        return true
    }

    private mutating func advance(to k: Int) {
        while i < k {
            if scalars[i] == "\n" { line += 1 }
            i += 1
        }
    }

    private mutating func run() throws {
        while i < scalars.count {
            // The next tag opener.
            var k = i
            var kind: Character = " "
            while k + 1 < scalars.count {
                if scalars[k] == "{", scalars[k + 1] == "{" || scalars[k + 1] == "%" || scalars[k + 1] == "#" {
                    kind = Character(scalars[k + 1])
                    break
                }
                k += 1
            }
            if kind == " " {
                appendText(String(String.UnicodeScalarView(scalars[i...])))
                advance(to: scalars.count)
                return
            }
            let tagLine = line + scalars[i..<k].filter { $0 == "\n" }.count
            let signIndex = k + 2
            let sign: Unicode.Scalar? = signIndex < scalars.count && (scalars[signIndex] == "-" || scalars[signIndex] == "+") ? scalars[signIndex] : nil
            var text = Array(scalars[i..<k])
            if sign == "-" {
                while let last = text.last, last.properties.isWhitespace { text.removeLast() }
            } else if sign != "+", kind != "{" {
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if lineStart > 0 || lineStarting, lineStart < text.count,
                   text[lineStart...].allSatisfy({ $0.properties.isWhitespace }) {
                    text.removeSubrange(lineStart...)
                }
            }
            appendText(String(String.UnicodeScalarView(text)))
            advance(to: signIndex + (sign == nil ? 0 : 1))
            switch kind {
            case "#":
                try comment(line: tagLine)
            case "%":
                if let afterRaw = rawOpening() {
                    try raw(from: afterRaw, line: tagLine)
                } else {
                    segments.append(.statement(try tokens(close: "%", line: tagLine), line: tagLine))
                }
            default:
                segments.append(.output(try tokens(close: "}", line: tagLine), line: tagLine))
            }
        }
    }

    private mutating func appendText(_ text: String) {
        guard !text.isEmpty else { return }
        if case .text(let previous)? = segments.last {
            segments[segments.count - 1] = .text(previous + text)
        } else {
            segments.append(.text(text))
        }
    }

    /// After the closing delimiter at `k` (its first scalar, a `-` or `+` sign excluded): skip it,
    /// then whitespace for `-`, or one newline for trim_blocks on block and comment tags.
    private mutating func closeTag(delimiterAt k: Int, sign: Unicode.Scalar?, trims: Bool) {
        advance(to: k + 2)
        var consumedNewline = false
        if sign == "-" {
            while i < scalars.count, scalars[i].properties.isWhitespace {
                consumedNewline = scalars[i] == "\n"
                advance(to: i + 1)
            }
        } else if sign != "+", trims, i < scalars.count, scalars[i] == "\n" {
            advance(to: i + 1)
            consumedNewline = true
        }
        lineStarting = consumedNewline
    }

    private mutating func comment(line tagLine: Int) throws {
        var k = i
        while k + 1 < scalars.count, !(scalars[k] == "#" && scalars[k + 1] == "}") { k += 1 }
        guard k + 1 < scalars.count else { throw fail("Missing end of comment tag", at: tagLine) }
        let sign: Unicode.Scalar? = k > i && (scalars[k - 1] == "-" || scalars[k - 1] == "+") ? scalars[k - 1] : nil
        closeTag(delimiterAt: k, sign: sign, trims: true)
    }

    /// If the statement at `i` is `raw`, the index after its closing `%}` (and whitespace for `-%}`).
    private func rawOpening() -> Int? {
        var k = i
        while k < scalars.count, scalars[k].properties.isWhitespace { k += 1 }
        guard at(k, "raw") else { return nil }
        k += 3
        while k < scalars.count, scalars[k].properties.isWhitespace { k += 1 }
        if at(k, "-%}") {
            k += 3
            while k < scalars.count, scalars[k].properties.isWhitespace { k += 1 }
            return k
        }
        return at(k, "%}") ? k + 2 : nil
    }

    private mutating func raw(from start: Int, line tagLine: Int) throws {
        advance(to: start)
        var k = i
        while k < scalars.count {
            if at(k, "{%") {
                var m = k + 2
                let sign: Unicode.Scalar? = m < scalars.count && (scalars[m] == "-" || scalars[m] == "+") ? scalars[m] : nil
                if sign != nil { m += 1 }
                while m < scalars.count, scalars[m].properties.isWhitespace { m += 1 }
                if at(m, "endraw") {
                    m += 6
                    while m < scalars.count, scalars[m].properties.isWhitespace { m += 1 }
                    let endSign: Unicode.Scalar? = m < scalars.count && (scalars[m] == "-" || scalars[m] == "+") ? scalars[m] : nil
                    let delimiter = m + (endSign == nil ? 0 : 1)
                    guard at(delimiter, "%}") else { break }
                    var text = Array(scalars[i..<k])
                    if sign == "-" {
                        while let last = text.last, last.properties.isWhitespace { text.removeLast() }
                    } else if sign != "+" {
                        let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                        if lineStart > 0, lineStart < text.count, text[lineStart...].allSatisfy({ $0.properties.isWhitespace }) {
                            text.removeSubrange(lineStart...)
                        }
                    }
                    appendText(String(String.UnicodeScalarView(text)))
                    closeTag(delimiterAt: delimiter, sign: endSign, trims: true)
                    return
                }
            }
            k += 1
        }
        throw fail("Missing end of raw directive", at: tagLine)
    }

    /// The tokens of a tag up to its closing `%}` or `}}` (`close` is `%` or `}`), which is only
    /// recognised outside brackets, so `{{ {'a': {'b': 1}} }}` reads whole.
    private mutating func tokens(close: Unicode.Scalar, line tagLine: Int) throws -> [Token] {
        var out: [Token] = []
        var depth = 0
        while true {
            while i < scalars.count, scalars[i].properties.isWhitespace { advance(to: i + 1) }
            guard i < scalars.count else {
                throw fail(close == "%" ? "Unexpected end of template: the tag opened here has no '%}'"
                                        : "Unexpected end of template: the expression opened here has no '}}'", at: tagLine)
            }
            let c = scalars[i]
            if depth == 0 {
                for sign in ["-", "+", ""] where at(i, sign + String(close) + "}") {
                    if sign == "+" && close == "}" { continue }
                    closeTag(delimiterAt: i + sign.unicodeScalars.count, sign: sign.isEmpty ? nil : sign.unicodeScalars.first,
                             trims: close == "%")
                    return out
                }
            }
            if c == "_" || c.properties.isAlphabetic {
                var k = i
                while k < scalars.count, scalars[k] == "_" || scalars[k].properties.isAlphabetic || ("0"..."9").contains(scalars[k]) { k += 1 }
                out.append(.name(String(String.UnicodeScalarView(scalars[i..<k]))))
                advance(to: k)
            } else if ("0"..."9").contains(c) {
                out.append(try number())
            } else if c == "'" || c == "\"" {
                out.append(.string(try string(quote: c)))
            } else {
                let three = ["**", "//", "==", "!=", "<=", ">="]
                if let op = three.first(where: { at(i, $0) }) {
                    out.append(.op(op))
                    advance(to: i + 2)
                } else if "+-*/%~()[]{}.,:|=<>".unicodeScalars.contains(c) {
                    if c == "(" || c == "[" || c == "{" { depth += 1 }
                    if c == ")" || c == "]" || c == "}" { depth -= 1 }
                    out.append(.op(String(c)))
                    advance(to: i + 1)
                } else {
                    throw fail("unexpected char \(PythonText.stringRepr(String(c))) at \(i)")
                }
            }
        }
    }

    private mutating func number() throws -> Token {
        var k = i
        func digits() { while k < scalars.count, ("0"..."9").contains(scalars[k]) || scalars[k] == "_" { k += 1 } }
        digits()
        var isFloat = false
        if k + 1 < scalars.count, scalars[k] == ".", ("0"..."9").contains(scalars[k + 1]) {
            isFloat = true
            k += 1
            digits()
        }
        if k < scalars.count, scalars[k] == "e" || scalars[k] == "E" {
            var m = k + 1
            if m < scalars.count, scalars[m] == "+" || scalars[m] == "-" { m += 1 }
            if m < scalars.count, ("0"..."9").contains(scalars[m]) {
                isFloat = true
                k = m
                digits()
            }
        }
        let text = String(String.UnicodeScalarView(scalars[i..<k])).replacingOccurrences(of: "_", with: "")
        advance(to: k)
        if !isFloat, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw fail("invalid number '\(text)'") }
        return .double(d)
    }

    /// A string literal with Python's escapes (Jinja unescapes literals as Python does).
    private mutating func string(quote: Unicode.Scalar) throws -> String {
        let startLine = line
        var k = i + 1
        var out = String.UnicodeScalarView()
        while true {
            guard k < scalars.count else { throw fail("unexpected end of string", at: startLine) }
            let c = scalars[k]
            if c == quote { break }
            if c == "\\", k + 1 < scalars.count {
                let e = scalars[k + 1]
                k += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "\\", "'", "\"": out.append(e)
                case "\n": break
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard k + width <= scalars.count,
                          let v = UInt32(String(String.UnicodeScalarView(scalars[k..<(k + width)])), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw fail("invalid \\\(e) escape in a string") }
                    out.append(scalar)
                    k += width
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            k += 1
        }
        advance(to: k + 1)
        return String(out)
    }
}
