import Foundation
import Support

/// Python's text conversions and `str` methods, as chat templates see them through Jinja2.
enum PythonText {
    /// `repr(float)`: the shortest round-tripping digits, exponent from 1e16 up and below 1e-4.
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        var text = "\(d)"
        if let e = text.firstIndex(of: "e") {
            // Swift writes 1e-05 and 1e+16 as Python does; make sure the mantissa has no ".0".
            let mantissa = text[..<e], exponent = text[text.index(after: e)...]
            let m = mantissa.hasSuffix(".0") ? String(mantissa.dropLast(2)) : String(mantissa)
            var exp = String(exponent)
            let sign = exp.hasPrefix("-") ? "-" : "+"
            exp = exp.trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
            if exp.count < 2 { exp = "0" + exp }
            text = m + "e" + sign + exp
        }
        return text
    }

    /// `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func stringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote {
                    out += "\\" + String(quote)
                } else if u.value < 0x20 || u.value == 0x7F {
                    out += String(format: "\\x%02x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + String(quote)
    }

    /// Python's `str.isspace` characters (`str.strip()`/`split()` without arguments use them).
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `str.strip/lstrip/rstrip(chars)`.
    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func strips(_ u: Unicode.Scalar) -> Bool { set.map { $0.contains(u) } ?? isSpace(u) }
        let scalars = Array(s.unicodeScalars)
        var lo = 0, hi = scalars.count
        if leading { while lo < hi, strips(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo, strips(scalars[hi - 1]) { hi -= 1 } }
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }

    /// `str.split(sep, maxsplit)`; without `sep`, runs of whitespace separate and ends are dropped.
    static func split(_ s: String, _ separator: String?, maxSplit: Int = -1) throws -> [String] {
        let scalars = Array(s.unicodeScalars)
        var parts: [String] = []
        guard let separator else {
            var k = 0
            while k < scalars.count {
                while k < scalars.count, isSpace(scalars[k]) { k += 1 }
                guard k < scalars.count else { break }
                if maxSplit >= 0, parts.count == maxSplit {
                    var end = scalars.count
                    while end > k, isSpace(scalars[end - 1]) { end -= 1 }
                    parts.append(String(String.UnicodeScalarView(scalars[k..<end])))
                    return parts
                }
                let start = k
                while k < scalars.count, !isSpace(scalars[k]) { k += 1 }
                parts.append(String(String.UnicodeScalarView(scalars[start..<k])))
            }
            return parts
        }
        let sep = Array(separator.unicodeScalars)
        guard !sep.isEmpty else { throw JinjaError(.value, "empty separator") }
        var start = 0, k = 0
        while k + sep.count <= scalars.count {
            if maxSplit >= 0, parts.count == maxSplit { break }
            if scalars[k..<(k + sep.count)].elementsEqual(sep) {
                parts.append(String(String.UnicodeScalarView(scalars[start..<k])))
                k += sep.count
                start = k
            } else {
                k += 1
            }
        }
        parts.append(String(String.UnicodeScalarView(scalars[start...])))
        return parts
    }

    /// `str.rsplit(sep, maxsplit)` with a separator.
    static func rsplit(_ s: String, _ separator: String, maxSplit: Int) throws -> [String] {
        guard maxSplit >= 0 else { return try split(s, separator) }
        let reversed = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
        let sepReversed = String(String.UnicodeScalarView(separator.unicodeScalars.reversed()))
        return try split(reversed, sepReversed, maxSplit: maxSplit).reversed()
            .map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    }

    /// `str.replace(old, new, count)`, scalar by scalar as Python compares.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        let scalars = Array(s.unicodeScalars), o = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var k = 0, done = 0
        if o.isEmpty {
            for u in scalars {
                if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars); done += 1 }
                out.append(u)
            }
            if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        while k < scalars.count {
            if (count < 0 || done < count), k + o.count <= scalars.count, scalars[k..<(k + o.count)].elementsEqual(o) {
                out.append(contentsOf: new.unicodeScalars)
                k += o.count
                done += 1
            } else {
                out.append(scalars[k])
                k += 1
            }
        }
        return String(out)
    }

    /// `str.find` / `str.rfind` in scalars; -1 when absent.
    static func find(_ s: String, _ needle: String, reverse: Bool = false) -> Int {
        let a = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
        guard n.count <= a.count else { return -1 }
        let range = Array(0...(a.count - n.count))
        for k in reverse ? range.reversed() : range where a[k..<(k + n.count)].elementsEqual(n) { return k }
        return -1
    }

    /// `str.count(sub)` (non-overlapping).
    static func count(_ s: String, _ needle: String) -> Int {
        let a = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
        if n.isEmpty { return a.count + 1 }
        var k = 0, c = 0
        while k + n.count <= a.count {
            if a[k..<(k + n.count)].elementsEqual(n) { c += 1; k += n.count } else { k += 1 }
        }
        return c
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    /// `str.capitalize()`: the first character upper case, the rest lower case.
    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return String(first).uppercased() + s.dropFirst().lowercased()
    }

    /// `str.title()`: a letter after a non-letter starts a word.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s {
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = c.isLetter
        }
        return out
    }

    /// `str.splitlines()`: Python's line boundaries, `\r\n` as one.
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var k = 0
        while k < scalars.count {
            let u = scalars[k]
            switch u.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = String.UnicodeScalarView()
                if u == "\r", k + 1 < scalars.count, scalars[k + 1] == "\n" { k += 1 }
            default:
                current.append(u)
            }
            k += 1
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// `str.format(*args, **kwargs)` for `{}`, `{0}`, `{name}`, `{name.attr}` and `{{ }}` escapes
    /// (format specs other than none and `!r`/`!s` are refused).
    static func format(_ s: String, _ arguments: Arguments) throws -> String {
        var out = ""
        var auto = 0
        var k = s.startIndex
        while k < s.endIndex {
            let c = s[k]
            if c == "{" {
                let n = s.index(after: k)
                if n < s.endIndex, s[n] == "{" { out.append("{"); k = s.index(after: n); continue }
                guard let close = s[n...].firstIndex(of: "}") else { throw JinjaError(.value, "Single '{' encountered in format string") }
                var field = String(s[n..<close])
                var conversion = "s"
                if let bang = field.firstIndex(of: "!") {
                    conversion = String(field[field.index(after: bang)...])
                    field = String(field[..<bang])
                }
                if field.contains(":") { throw JinjaError(.value, "format specifications are not supported: '{\(field)}'") }
                let value: Value
                if field.isEmpty {
                    guard auto < arguments.positional.count else { throw JinjaError(.runtime, "Replacement index \(auto) out of range for positional args tuple") }
                    value = arguments.positional[auto]
                    auto += 1
                } else if let index = Int(field) {
                    guard index < arguments.positional.count else { throw JinjaError(.runtime, "Replacement index \(index) out of range for positional args tuple") }
                    value = arguments.positional[index]
                } else {
                    guard let kw = arguments.keyword.first(where: { $0.0 == field }) else { throw JinjaError(.runtime, "'\(field)'") }
                    value = kw.1
                }
                out += conversion == "r" ? value.pythonRepr : value.pythonString
                k = s.index(after: close)
            } else if c == "}" {
                let n = s.index(after: k)
                guard n < s.endIndex, s[n] == "}" else { throw JinjaError(.value, "Single '}' encountered in format string") }
                out.append("}")
                k = s.index(after: n)
            } else {
                out.append(c)
                k = s.index(after: k)
            }
        }
        return out
    }

    /// `json.dumps(value, ensure_ascii=, indent=, separators=, sort_keys=)` as transformers' `tojson` calls it.
    static func jsonDumps(_ value: Value, ensureASCII: Bool, indent: String?, separators: (String, String)?, sortKeys: Bool) throws -> String {
        let (itemSeparator, keySeparator) = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        func string(_ s: String) {
            // Python's escapes with ensure_ascii=False are Support's canonical JSON strings; with
            // ensure_ascii=True everything above '~' becomes \uXXXX (surrogate pairs past the BMP).
            guard ensureASCII else { return JSONString.append(s, to: &out) }
            for u in JSONString.quoted(s).unicodeScalars {
                if u.value <= 0x7E {
                    out.unicodeScalars.append(u)
                } else if u.value > 0xFFFF {
                    let v = u.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out += String(format: "\\u%04x", u.value)
                }
            }
        }
        func key(_ k: Value) throws -> String {
            switch k {
            case .string(let s): return s
            case .int, .double: return k.pythonRepr
            case .bool(let b): return b ? "true" : "false"
            case .none: return "null"
            default: throw JinjaError.type("keys must be str, int, float, bool or None, not \(k.pythonTypeName)")
            }
        }
        func emit(_ v: Value, _ level: Int) throws {
            if level > Interpreter.Limits.maximumDataDepth { throw JinjaError(.value, "Circular reference detected") }
            let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) }
            let closing = indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
            switch v {
            case .none: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d):
                out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : floatRepr(d)
            case .string(let s), .markup(let s): string(s)
            case .list(let a), .tuple(let a):
                if a.isEmpty { out += "[]"; return }
                out += "["
                for (n, item) in a.enumerated() {
                    if n > 0 { out += itemSeparator }
                    out += newline ?? ""
                    try emit(item, level + 1)
                }
                out += closing + "]"
            case .dict(let d):
                if d.count == 0 { out += "{}"; return }
                out += "{"
                var pairs = try d.items.map { (try key($0), $1) }
                if sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
                for (n, (k, item)) in pairs.enumerated() {
                    if n > 0 { out += itemSeparator }
                    out += newline ?? ""
                    string(k)
                    out += keySeparator
                    try emit(item, level + 1)
                }
                out += closing + "}"
            default:
                throw JinjaError.type("Object of type \(v.pythonTypeName) is not JSON serializable")
            }
        }
        try emit(value, 0)
        return out
    }

    /// `markupsafe.escape`: the five characters HTML gives meaning to.
    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// `datetime.strftime(format)` for the directives templates use, in the C locale.
    static func strftime(_ format: String, _ date: Date, _ timeZone: TimeZone) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let year = c.year!, month = c.month!, day = c.day!, hour = c.hour!, minute = c.minute!, second = c.second!
        let weekday = c.weekday! - 1
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var out = ""
        var k = format.startIndex
        while k < format.endIndex {
            let ch = format[k]
            k = format.index(after: k)
            guard ch == "%", k < format.endIndex else { out.append(ch); continue }
            var directive = format[k]
            k = format.index(after: k)
            var pad = true
            if directive == "-", k < format.endIndex {
                pad = false
                directive = format[k]
                k = format.index(after: k)
            }
            func number(_ n: Int) -> String { pad ? two(n) : String(n) }
            switch directive {
            case "Y": out += String(year)
            case "y": out += two(year % 100)
            case "m": out += number(month)
            case "d": out += number(day)
            case "e": out += day < 10 ? " \(day)" : "\(day)"
            case "H": out += number(hour)
            case "I": out += number(hour % 12 == 0 ? 12 : hour % 12)
            case "M": out += number(minute)
            case "S": out += number(second)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "B": out += months[month - 1]
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "A": out += days[weekday]
            case "a": out += String(days[weekday].prefix(3))
            case "j":
                let ordinal = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
                out += pad ? String(repeating: "0", count: max(0, 3 - String(ordinal).count)) + String(ordinal) : String(ordinal)
            case "w": out += String(weekday)
            case "%": out += "%"
            default: throw JinjaError(.value, "strftime directive '%\(directive)' is not supported")
            }
        }
        return out
    }
}
