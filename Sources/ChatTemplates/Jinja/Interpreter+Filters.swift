import Foundation

/// Jinja2's built-in filters and tests that chat templates use, with transformers' `tojson`.
extension Interpreter {
    func applyFilter(_ name: String, _ value: Value, _ args: Arguments) throws -> Value {
        switch name {
        case "tojson":
            // transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
            var indent: String?
            switch args.get(1, "indent") {
            case .int(let n)?: indent = String(repeating: " ", count: max(0, n))
            case .string(let s)?: indent = s
            default: indent = nil
            }
            var separators: (String, String)?
            if let sep = args.get(2, "separators"), !sep.isNone {
                let parts = try iterate(sep)
                guard parts.count == 2, case .string(let a) = parts[0], case .string(let b) = parts[1] else {
                    throw JinjaError(.value, "separators must be a pair of strings")
                }
                separators = (a, b)
            }
            return .string(try PythonText.jsonDumps(value, ensureASCII: args.get(0, "ensure_ascii")?.truthy ?? false, indent: indent,
                                                    separators: separators, sortKeys: args.get(3, "sort_keys")?.truthy ?? false))
        case "length", "count":
            switch value {
            case .undefined: return .int(0)
            case .string(let s), .markup(let s): return .int(s.unicodeScalars.count)
            case .list(let a), .tuple(let a): return .int(a.count)
            case .dict(let d): return .int(d.count)
            default: throw JinjaError.type("object of type '\(value.pythonTypeName)' has no len()")
            }
        case "trim":
            return .string(PythonText.strip(value.pythonString, try optionalStringArgument(args.get(0, "chars")), leading: true, trailing: true))
        case "string": return .string(value.pythonString)
        case "safe":
            return .markup(value.pythonString)
        case "e", "escape", "forceescape":
            if case .markup = value, name != "forceescape" { return value }
            return .markup(PythonText.htmlEscape(value.pythonString))
        case "upper": return .string(PythonText.upper(value.pythonString))
        case "lower": return .string(PythonText.lower(value.pythonString))
        case "capitalize": return .string(PythonText.capitalize(value.pythonString))
        case "title": return .string(jinjaTitle(value.pythonString))
        case "replace":
            guard let old = args.get(0, "old"), let new = args.get(1, "new") else { throw JinjaError.type("replace() needs 'old' and 'new'") }
            return .string(PythonText.replace(value.pythonString, old.pythonString, new.pythonString, count: args.get(2, "count")?.integer ?? -1))
        case "default", "d":
            let fallback = args.get(0, "default_value") ?? .string("")
            let boolean = args.get(1, "boolean")?.truthy ?? false
            if value.isUndefined || (boolean && !value.truthy) { return fallback }
            return value
        case "join":
            var items = try iterate(value)
            if let attribute = args.get(1, "attribute"), !attribute.isNone {
                items = try items.map { try attributePath($0, attribute) }
            }
            return .string(items.map(\.pythonString).joined(separator: (args.get(0, "d") ?? .string("")).pythonString))
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.items.map { .tuple([$0, $1]) })
            default: throw JinjaError.runtime("Can only get item pairs from a mapping.")
            }
        case "list": return .list(try iterate(value))
        case "first":
            return try iterate(value).first ?? .undefined(hint: "No first item, sequence was empty.")
        case "last":
            if case .generator = value { throw JinjaError.type("'generator' object is not reversible") }
            return try iterate(value).last ?? .undefined(hint: "No last item, sequence was empty.")
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try iterate(value).reversed())
        case "unique":
            let caseSensitive = args.get(0, "case_sensitive")?.truthy ?? false
            let attribute = args.get(1, "attribute")
            var out: [Value] = [], keys: [Value] = []
            for item in try iterate(value) {
                let key = try sortKey(attribute.map { try attributePath(item, $0) } ?? item, caseSensitive: caseSensitive)
                if !keys.contains(where: { $0.pythonEquals(key) }) { keys.append(key); out.append(item) }
            }
            return .list(out)
        case "sort":
            let reverse = args.get(0, "reverse")?.truthy ?? false
            let caseSensitive = args.get(1, "case_sensitive")?.truthy ?? false
            let attribute = args.get(2, "attribute")
            return .list(try sorted(try iterate(value), reverse: reverse) { item in
                try self.sortKey(attribute.map { try self.attributePath(item, $0) } ?? item, caseSensitive: caseSensitive)
            })
        case "dictsort":
            guard case .dict(let d) = value else { throw JinjaError.runtime("You can only sort by either \"key\" or \"value\"") }
            let caseSensitive = args.get(0, "case_sensitive")?.truthy ?? false
            let byValue = args.get(1, "by")?.pythonString == "value"
            let reverse = args.get(2, "reverse")?.truthy ?? false
            let pairs = d.items.map { Value.tuple([$0, $1]) }
            return .list(try sorted(pairs, reverse: reverse) { pair in
                guard case .tuple(let kv) = pair else { return pair }
                return try self.sortKey(byValue ? kv[1] : kv[0], caseSensitive: caseSensitive)
            })
        case "map":
            // Jinja's map, select, reject, selectattr and rejectattr yield nothing for a false value.
            guard value.truthy else { return .generator([]) }
            let items = try iterate(value)
            if let attribute = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = args.keyword.first { $0.0 == "default" }?.1
                return .generator(try items.map { item in
                    let v = try attributePath(item, attribute)
                    if v.isUndefined, let fallback { return fallback }
                    return v
                })
            }
            guard let filterName = args.positional.first?.pythonString else { throw JinjaError.runtime("map requires a filter argument") }
            let rest = Arguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
            return .generator(try items.map { try applyFilter(filterName, $0, rest) })
        case "select", "reject":
            guard value.truthy else { return .generator([]) }
            let keep = name == "select"
            let testName = args.positional.first?.pythonString
            let testArgs = Array(args.positional.dropFirst())
            return .generator(try iterate(value).filter { item in
                try step()
                let passes = try testName.map { try applyTest($0, item, testArgs) } ?? item.truthy
                return passes == keep
            })
        case "selectattr", "rejectattr":
            guard value.truthy else { return .generator([]) }
            let keep = name == "selectattr"
            guard let attribute = args.positional.first else { throw JinjaError.type("\(name) needs an attribute") }
            let testName = args.positional.count > 1 ? args.positional[1].pythonString : nil
            let testArgs = Array(args.positional.dropFirst(2))
            return .generator(try iterate(value).filter { item in
                try step()
                let v = try attributePath(item, attribute)
                let passes = try testName.map { try applyTest($0, v, testArgs) } ?? v.truthy
                return passes == keep
            })
        case "int":
            let fallback = args.get(0, "default") ?? .int(0)
            switch value {
            case .int, .bool: return .int(value.integer!)
            case .double(let d): return d.isFinite ? .int(Int(d)) : fallback
            case .string(let s):
                let t = PythonText.strip(s, nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
                if let i = Int(t, radix: args.get(1, "base")?.integer ?? 10) { return .int(i) }
                if let d = Double(t), d.isFinite { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = args.get(0, "default") ?? .double(0)
            switch value {
            case .int, .bool, .double: return .double(value.numeric!)
            case .string(let s): return Double(PythonText.strip(s, nil, leading: true, trailing: true)).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            switch value {
            case .int(let i): return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw JinjaError.type("bad operand type for abs(): '\(value.pythonTypeName)'")
            }
        case "round":
            guard let x = value.numeric else { throw JinjaError.type("type \(value.pythonTypeName) doesn't define __round__ method") }
            let precision = args.get(0, "precision")?.integer ?? 0
            let method = args.get(1, "method")?.pythonString ?? "common"
            let scale = pow(10.0, Double(precision))
            let rounding: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrAwayFromZero
            return .double((x * scale).rounded(rounding) / scale)
        case "sum":
            var total = args.get(1, "start") ?? .int(0)
            let attribute = args.get(0, "attribute")
            for item in try iterate(value) {
                total = try Operators.binary("+", total, try attribute.map { try attributePath(item, $0) } ?? item)
            }
            return total
        case "min", "max":
            let items = try iterate(value)
            let caseSensitive = args.get(0, "case_sensitive")?.truthy ?? false
            let attribute = args.get(1, "attribute")
            let ordered = try sorted(items, reverse: name == "max") { item in
                try self.sortKey(attribute.map { try self.attributePath(item, $0) } ?? item, caseSensitive: caseSensitive)
            }
            return ordered.first ?? .undefined(hint: "No aggregated item, sequence was empty.")
        case "indent":
            let width = args.get(0, "width") ?? .int(4)
            let indentation: String
            if case .string(let s) = width { indentation = s } else { indentation = String(repeating: " ", count: max(0, width.integer ?? 4)) }
            let first = args.get(1, "first")?.truthy ?? false
            let blank = args.get(2, "blank")?.truthy ?? false
            let lines = PythonText.splitLines(value.pythonString + "\n")
            var result: String
            if blank {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.first ?? ""
                let rest = lines.dropFirst()
                if !rest.isEmpty { result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
            }
            return .string(first ? indentation + result : result)
        case "center":
            let s = value.pythonString
            let width = args.get(0, "width")?.integer ?? 80
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            let total = width - n
            // Python's str.center puts the odd extra space on the left when the width is odd.
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        case "wordcount":
            return .int(try PythonText.split(value.pythonString, nil).count)
        case "batch":
            guard let size = args.get(0, "linecount")?.integer, size > 0 else { throw JinjaError(.value, "batch size must be positive") }
            let fill = args.get(1, "fill_with")
            var batches: [Value] = []
            var current: [Value] = []
            for item in try iterate(value) {
                current.append(item)
                if current.count == size { batches.append(.list(current)); current = [] }
            }
            if !current.isEmpty {
                if let fill, !fill.isNone { current += Array(repeating: fill, count: size - current.count) }
                batches.append(.list(current))
            }
            return .list(batches)
        case "attr":
            guard case .string(let a)? = args.get(0, "name") else { throw JinjaError.type("attr needs a name") }
            return try attribute(value, a)
        case "pprint": return .string(value.pythonRepr)
        case "format":
            return .string(try PythonText.format(value.pythonString, args))
        case "striptags":
            return .string(try PythonText.split(value.pythonString.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression), nil).joined(separator: " "))
        default:
            throw JinjaError(.runtime, "No filter named '\(name)'.")
        }
    }

    private func optionalStringArgument(_ v: Value?) throws -> String? {
        switch v {
        case nil, .none?: return nil
        case .string(let s)?: return s
        case let other?: throw JinjaError.type("strip arg must be None or str, not \(other.pythonTypeName)")
        }
    }

    /// Jinja's `title` filter: a word starts after whitespace, `-`, or an opening bracket.
    private func jinjaTitle(_ s: String) -> String {
        var out = ""
        var startOfWord = true
        for c in s {
            out += startOfWord ? c.uppercased() : c.lowercased()
            startOfWord = c.isWhitespace || "-({[<".contains(c)
        }
        return out
    }

    /// `attribute="a.b"` or `attribute=0` of `map`, `selectattr`, `sort`, … (Jinja's `make_attrgetter`).
    func attributePath(_ item: Value, _ attribute: Value) throws -> Value {
        if case .int = attribute { return try self.item(item, attribute) }
        var v = item
        for part in attribute.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
            if let i = Int(part) { v = try self.item(v, .int(i)) } else { v = try self.item(v, .string(String(part))) }
        }
        return v
    }

    /// Jinja compares strings case-insensitively in `sort`, `dictsort`, `unique`, `min`, `max` unless asked not to.
    func sortKey(_ v: Value, caseSensitive: Bool) throws -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    /// A stable sort (as Python's) by `key`, failing as Python does on values it cannot order.
    func sorted(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), value: $0.element) }
        var failure: Error?
        let ordered = keyed.sorted { a, b in
            do {
                let o = try Operators.ordering(a.key, b.key)
                if o != 0 { return reverse ? o > 0 : o < 0 }
            } catch {
                failure = failure ?? error
            }
            return a.offset < b.offset
        }
        if let failure { throw failure }
        return ordered.map(\.value)
    }

    func applyTest(_ name: String, _ value: Value, _ args: [Value]) throws -> Bool {
        func argument() throws -> Value {
            guard let a = args.first else { throw JinjaError.type("test '\(name)' needs an argument") }
            return a
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "string": return value.text != nil
        case "mapping": if case .dict = value { return true }; return false
        case "number": return value.numeric != nil
        case "integer": if case .int = value { return true }; return false
        case "float": if case .double = value { return true }; return false
        case "boolean": if case .bool = value { return true }; return false
        case "true": if case .bool(true) = value { return true }; return false
        case "false": if case .bool(false) = value { return true }; return false
        case "iterable":
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict, .generator: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict: return true
            default: return false
            }
        case "callable": if case .function = value { return true }; return false
        case "odd", "even":
            guard let i = value.integer else { throw JinjaError.type("not all arguments converted during string formatting") }
            return (abs(i) % 2 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = value.integer, let n = try argument().integer else { throw JinjaError.type("divisibleby needs integers") }
            guard n != 0 else { throw JinjaError(.value, "integer division or modulo by zero") }
            return i % n == 0
        case "eq", "equalto", "==": return value.pythonEquals(try argument())
        case "ne", "!=": return !value.pythonEquals(try argument())
        case "lt", "lessthan", "<": return try Operators.compare("<", value, try argument())
        case "le", "<=": return try Operators.compare("<=", value, try argument())
        case "gt", "greaterthan", ">": return try Operators.compare(">", value, try argument())
        case "ge", ">=": return try Operators.compare(">=", value, try argument())
        case "in": return try Operators.contains(try argument(), value)
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "lower": if case .string(let s) = value { return s == s.lowercased() }; return false
        case "upper": if case .string(let s) = value { return s == s.uppercased() }; return false
        case "escaped": return false
        default: throw JinjaError(.runtime, "No test named '\(name)'.")
        }
    }
}
