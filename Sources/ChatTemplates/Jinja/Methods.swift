/// The Python methods templates call on strings, dicts and lists (`content.strip()`,
/// `message.get('x')`, `tools.items()`). Methods that would mutate a list or dict exist but
/// fail when called, with the message of Jinja's immutable sandbox.
enum Methods {
    static let mutatingList: Set<String> = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"]
    static let mutatingDict: Set<String> = ["pop", "popitem", "setdefault", "update", "clear"]

    static func bound(_ base: Value, _ name: String) throws -> Value? {
        switch base {
        case .string(let s), .markup(let s): return stringMethod(s, name)
        case .dict(let d): return dictMethod(d, name)
        case .list(let a), .tuple(let a):
            if case .list = base, mutatingList.contains(name) { return unsafe(name, "list") }
            return listMethod(a, name)
        default: return nil
        }
    }

    private static func unsafe(_ name: String, _ type: String) -> Value {
        .function(Function(name) { _, _ in
            throw JinjaError(.security, "access to attribute '\(name)' of '\(type)' object is unsafe.")
        })
    }

    private static func method(_ name: String, _ body: @escaping (Arguments) throws -> Value) -> Value {
        .function(Function(name) { args, _ in try body(args) })
    }

    private static func optionalString(_ v: Value?, _ what: String) throws -> String? {
        switch v {
        case nil, .none?: return nil
        case .string(let s)?: return s
        case let other?: throw JinjaError.type("\(what) arg must be None or str, not \(other.pythonTypeName)")
        }
    }

    private static func string(_ v: Value?, _ what: String) throws -> String {
        guard case .string(let s)? = v else { throw JinjaError.type("\(what) must be str, not \(v?.pythonTypeName ?? "nothing")") }
        return s
    }

    private static func stringMethod(_ s: String, _ name: String) -> Value? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return method(name) { args in
                let chars = try optionalString(args.get(0, "chars"), name)
                return .string(PythonText.strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return method(name) { args in
                let sep = try optionalString(args.get(0, "sep"), name)
                let maxSplit = args.get(1, "maxsplit")?.integer ?? -1
                if name == "rsplit", let sep { return .list(try PythonText.rsplit(s, sep, maxSplit: maxSplit).map { .string($0) }) }
                return .list(try PythonText.split(s, sep, maxSplit: maxSplit).map { .string($0) })
            }
        case "splitlines": return method(name) { _ in .list(PythonText.splitLines(s).map { .string($0) }) }
        case "startswith", "endswith":
            return method(name) { args in
                let prefixes: [Value]
                switch args.get(0, "prefix") {
                case .string(let p)?: prefixes = [.string(p)]
                case .tuple(let t)?: prefixes = t
                default: throw JinjaError.type("\(name) first arg must be str or a tuple of str")
                }
                return .bool(try prefixes.contains { p in
                    let text = try string(p, name)
                    return name == "startswith" ? s.unicodeScalars.starts(with: text.unicodeScalars)
                        : s.unicodeScalars.reversed().starts(with: text.unicodeScalars.reversed())
                })
            }
        case "upper": return method(name) { _ in .string(PythonText.upper(s)) }
        case "lower": return method(name) { _ in .string(PythonText.lower(s)) }
        case "title": return method(name) { _ in .string(PythonText.title(s)) }
        case "capitalize": return method(name) { _ in .string(PythonText.capitalize(s)) }
        case "replace":
            return method(name) { args in
                .string(PythonText.replace(s, try string(args.get(0, "old"), "replace() argument 1"),
                                           try string(args.get(1, "new"), "replace() argument 2"), count: args.get(2, "count")?.integer ?? -1))
            }
        case "find", "rfind", "index", "rindex":
            return method(name) { args in
                let k = PythonText.find(s, try string(args.get(0, "sub"), name), reverse: name.hasPrefix("r"))
                if k < 0, name.hasSuffix("index") { throw JinjaError(.value, "substring not found") }
                return .int(k)
            }
        case "count": return method(name) { args in .int(PythonText.count(s, try string(args.get(0, "sub"), name))) }
        case "format": return method(name) { args in .string(try PythonText.format(s, args)) }
        case "join":
            return method(name) { args in
                guard let items = args.get(0, "iterable") else { throw JinjaError.type("join() takes exactly one argument (0 given)") }
                let parts: [Value]
                switch items {
                case .list(let a), .tuple(let a): parts = a
                case .dict(let d): parts = d.keys
                case .string(let t): parts = t.unicodeScalars.map { .string(String($0)) }
                default: throw JinjaError.type("can only join an iterable")
                }
                return .string(try parts.enumerated().map { k, v in
                    guard case .string(let t) = v else { throw JinjaError.type("sequence item \(k): expected str instance, \(v.pythonTypeName) found") }
                    return t
                }.joined(separator: s))
            }
        case "isdigit", "isnumeric", "isdecimal":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
        case "isalpha": return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isalnum":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }) }
        case "isspace": return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(PythonText.isSpace)) }
        case "isupper": return method(name) { _ in .bool(s.contains { $0.isCased } && s == s.uppercased()) }
        case "islower": return method(name) { _ in .bool(s.contains { $0.isCased } && s == s.lowercased()) }
        case "removeprefix":
            return method(name) { args in
                let p = try string(args.get(0, "prefix"), name)
                return .string(s.unicodeScalars.starts(with: p.unicodeScalars) ? String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(p.unicodeScalars.count))) : s)
            }
        case "removesuffix":
            return method(name) { args in
                let p = try string(args.get(0, "suffix"), name)
                return .string(s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
                    ? String(String.UnicodeScalarView(s.unicodeScalars.dropLast(p.unicodeScalars.count))) : s)
            }
        case "zfill":
            return method(name) { args in
                let width = args.get(0, "width")?.integer ?? 0
                let n = s.unicodeScalars.count
                guard width > n else { return .string(s) }
                let pad = String(repeating: "0", count: width - n)
                if let f = s.first, f == "-" || f == "+" { return .string(String(f) + pad + s.dropFirst()) }
                return .string(pad + s)
            }
        default: return nil
        }
    }

    private static func dictMethod(_ d: Dict, _ name: String) -> Value? {
        switch name {
        case "items": return method(name) { _ in .list(d.items.map { .tuple([$0, $1]) }) }
        case "keys": return method(name) { _ in .list(d.keys) }
        case "values": return method(name) { _ in .list(d.values) }
        case "get":
            return method(name) { args in
                guard let key = args.get(0, "key") else { throw JinjaError.type("get expected at least 1 argument, got 0") }
                return d[key] ?? args.get(1, "default") ?? Value.none
            }
        case "copy": return method(name) { _ in .dict(d) }
        default:
            return mutatingDict.contains(name) ? unsafe(name, "dict") : nil
        }
    }

    private static func listMethod(_ a: [Value], _ name: String) -> Value? {
        switch name {
        case "index":
            return method(name) { args in
                guard let v = args.get(0, "value"), let k = a.firstIndex(where: { $0.pythonEquals(v) }) else {
                    throw JinjaError(.value, "\(args.get(0, "value")?.pythonRepr ?? "value") is not in list")
                }
                return .int(k)
            }
        case "count":
            return method(name) { args in
                let v = args.get(0, "value") ?? Value.none
                return .int(a.filter { $0.pythonEquals(v) }.count)
            }
        case "copy": return method(name) { _ in .list(a) }
        default: return nil
        }
    }
}
