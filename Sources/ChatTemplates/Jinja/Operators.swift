import Foundation

/// Python's binary operators and comparisons over template values.
enum Operators {
    static func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        if op == "~" { return .string(a.pythonString + b.pythonString) }
        if case .undefined = a { throw a.undefinedError() }
        if case .undefined = b { throw b.undefinedError() }
        switch (op, a, b) {
        case ("+", .markup(let x), _) where b.text != nil:
            if case .markup(let y) = b { return .markup(x + y) }
            return .markup(x + PythonText.htmlEscape(b.text!))
        case ("+", .string(let x), .markup(let y)): return .markup(PythonText.htmlEscape(x) + y)
        case ("+", .string(let x), .string(let y)): return .string(x + y)
        case ("+", .list(let x), .list(let y)): return .list(x + y)
        case ("+", .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case ("+", .string, _), ("+", .list, _), ("+", .tuple, _):
            let kind = a.pythonTypeName
            throw JinjaError.type(kind == "str" ? "can only concatenate str (not \"\(b.pythonTypeName)\") to str"
                                                : "can only concatenate \(kind) (not \"\(b.pythonTypeName)\") to \(kind)")
        case ("*", .string(let s), _) where b.integer != nil: return .string(String(repeating: s, count: max(0, try repetitions(b.integer!, s.count))))
        case ("*", _, .string(let s)) where a.integer != nil: return .string(String(repeating: s, count: max(0, try repetitions(a.integer!, s.count))))
        case ("*", .list(let l), _) where b.integer != nil:
            return .list(Array([[Value]](repeating: l, count: max(0, try repetitions(b.integer!, l.count))).joined()))
        case ("%", .string(let s), _): return .string(try percentFormat(s, b))
        default: break
        }
        if let x = a.integer, let y = b.integer {
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y))
            case "-": return try checked(x.subtractingReportingOverflow(y))
            case "*": return try checked(x.multipliedReportingOverflow(by: y))
            case "/":
                guard y != 0 else { throw JinjaError(.value, "division by zero") }
                return .double(Double(x) / Double(y))
            case "//":
                guard y != 0 else { throw JinjaError(.value, "integer division or modulo by zero") }
                let q = x / y
                return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
            case "%":
                guard y != 0 else { throw JinjaError(.value, "integer division or modulo by zero") }
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case "**":
                if y < 0 { return .double(pow(Double(x), Double(y))) }
                if x == 0 || x == 1 { return .int(y == 0 ? 1 : x) }
                if x == -1 { return .int(y % 2 == 0 ? 1 : -1) }
                // |x| >= 2 overflows within 64 multiplications, so the loop is short.
                var result = 1
                for _ in 0..<y {
                    let (p, o) = result.multipliedReportingOverflow(by: x)
                    if o { throw JinjaError(.value, "integer power too large") }
                    result = p
                }
                return .int(result)
            default: break
            }
        }
        if let x = a.numeric, let y = b.numeric {
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/":
                guard y != 0 else { throw JinjaError(.value, "float division by zero") }
                return .double(x / y)
            case "//":
                guard y != 0 else { throw JinjaError(.value, "float floor division by zero") }
                return .double((x / y).rounded(.down))
            case "%":
                guard y != 0 else { throw JinjaError(.value, "float modulo") }
                let r = x.truncatingRemainder(dividingBy: y)
                return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case "**": return .double(pow(x, y))
            default: break
            }
        }
        throw JinjaError.type("unsupported operand type(s) for \(op): '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
    }

    /// Refuses repetitions whose result would be absurdly large (the output budget would stop it
    /// later, but only after allocating it).
    private static func repetitions(_ n: Int, _ unit: Int) throws -> Int {
        if n > 0, unit > 0, n > (64 << 20) / unit { throw JinjaError(.budget, "a repetition of \(n) × \(unit) items is too large") }
        return n
    }

    private static func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
        if r.overflow { throw JinjaError(.value, "integer overflow") }
        return .int(r.partialValue)
    }

    /// `"..." % args` for `%s`, `%d`, `%r` and `%%`.
    private static func percentFormat(_ s: String, _ args: Value) throws -> String {
        var items: [Value]
        if case .tuple(let t) = args { items = t } else { items = [args] }
        var out = ""
        var k = s.startIndex
        while k < s.endIndex {
            let c = s[k]
            k = s.index(after: k)
            guard c == "%", k < s.endIndex else { out.append(c); continue }
            let d = s[k]
            k = s.index(after: k)
            if d == "%" { out += "%"; continue }
            guard !items.isEmpty else { throw JinjaError.type("not enough arguments for format string") }
            let v = items.removeFirst()
            switch d {
            case "s": out += v.pythonString
            case "r": out += v.pythonRepr
            case "d", "i":
                guard let n = v.numeric else { throw JinjaError.type("%d format: a real number is required, not \(v.pythonTypeName)") }
                out += String(Int(n))
            default: throw JinjaError(.value, "unsupported format character '\(d)'")
            }
        }
        if !items.isEmpty { throw JinjaError.type("not all arguments converted during string formatting") }
        return out
    }

    static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case "==": return a.pythonEquals(b)
        case "!=": return !a.pythonEquals(b)
        case "in": return try contains(b, a)
        case "not in": return !(try contains(b, a))
        default: break
        }
        if case .undefined = a { throw a.undefinedError() }
        if case .undefined = b { throw b.undefinedError() }
        let order = try ordering(a, b, op)
        switch op {
        case "<": return order < 0
        case ">": return order > 0
        case "<=": return order <= 0
        default: return order >= 0
        }
    }

    /// -1, 0 or 1 for values Python can order (numbers, strings, lists and tuples element-wise).
    static func ordering(_ a: Value, _ b: Value, _ op: String = "<") throws -> Int {
        if let x = a.numeric, let y = b.numeric { return x < y ? -1 : x > y ? 1 : 0 }
        switch (a, b) {
        case (.string(let x), .string(let y)), (.markup(let x), .markup(let y)), (.string(let x), .markup(let y)), (.markup(let x), .string(let y)):
            if x.unicodeScalars.elementsEqual(y.unicodeScalars) { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) { $0.value < $1.value } ? -1 : 1
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !p.pythonEquals(q) { return try ordering(p, q, op) }
            return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
        default:
            throw JinjaError.type("'\(op)' not supported between instances of '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
        }
    }

    /// Python's `needle in haystack`.
    static func contains(_ haystack: Value, _ needle: Value) throws -> Bool {
        switch haystack {
        case .undefined: return false
        case .string(let s), .markup(let s):
            guard let n = needle.text else {
                if case .undefined = needle { throw needle.undefinedError() }
                throw JinjaError.type("'in <string>' requires string as left operand, not \(needle.pythonTypeName)")
            }
            return n.isEmpty || PythonText.find(s, n) >= 0
        case .list(let a), .tuple(let a), .generator(let a): return a.contains { $0.pythonEquals(needle) }
        case .dict(let d): return d.index(of: needle) != nil
        case .namespace(let ns): return ns.attributes.index(of: needle) != nil
        default: throw JinjaError.type("argument of type '\(haystack.pythonTypeName)' is not iterable")
        }
    }
}
