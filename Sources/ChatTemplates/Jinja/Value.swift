import Foundation

/// A value inside a running template, modelled on the Python values Jinja2 works with, because
/// a chat template's output depends on Python's conversions (`str(None)` is `None`, `str([1])`
/// is `[1]`, `1 == 1.0`, dict order is insertion order).
enum Value {
    /// Jinja's `Undefined`: prints as nothing, is false, iterates as empty; anything else is an
    /// error whose message `hint` gives (`'x' is undefined`, `'dict object' has no attribute 'y'`).
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    /// What Jinja's `map`, `select`, `reject`, `selectattr` and `rejectattr` return: a Python
    /// generator, iterable once, with no length, and not JSON-serializable (templates that pass
    /// one to `tojson` fail in transformers, and must fail here alike).
    case generator([Value])
    /// `markupsafe.Markup` (from `safe` or `escape`): `+` with a plain string escapes that string.
    case markup(String)
    case dict(Dict)
    /// `namespace()`: the one mutable object templates get.
    case namespace(Namespace)
    /// A macro, a global function or a bound method.
    case function(Function)
}

/// Python's dict: insertion-ordered, keys compared as Python compares them.
struct Dict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []

    init() {}

    init(_ pairs: [(Value, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    var count: Int { keys.count }

    subscript(key: Value) -> Value? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    subscript(name: String) -> Value? { self[.string(name)] }

    /// Linear: template dicts (messages, tool schemas) have a handful of members.
    func index(of key: Value) -> Int? { keys.firstIndex { $0.pythonEquals(key) } }

    var items: [(Value, Value)] { Array(zip(keys, values)) }
}

/// `namespace(...)`: attributes set with `{% set ns.attr = ... %}` survive leaving the loop
/// scope, which is why templates use it; a class, so all references see the change.
final class Namespace {
    var attributes = Dict()
}

/// A callable: positional and keyword arguments in, a value out.
final class Function {
    let name: String
    let call: (_ arguments: Arguments, _ interpreter: Interpreter) throws -> Value

    init(_ name: String, _ call: @escaping (_ arguments: Arguments, _ interpreter: Interpreter) throws -> Value) {
        self.name = name
        self.call = call
    }
}

/// The arguments of a call, filter or test (the filtered value itself not included).
struct Arguments {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    /// The argument at `index` or named `name`, else nil.
    func get(_ index: Int, _ name: String) -> Value? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }

    /// Refuses more positional arguments than a callee takes.
    func expectAtMost(_ count: Int, _ callee: String) throws {
        if positional.count > count {
            throw JinjaError.type("\(callee)() takes at most \(count) positional argument\(count == 1 ? "" : "s") (\(positional.count) given)")
        }
    }
}

extension Value {
    var isUndefined: Bool { if case .undefined = self { return true }; return false }
    var isNone: Bool { if case .none = self { return true }; return false }

    /// The text of a string or Markup (Markup is a `str` subclass in Python).
    var text: String? {
        switch self {
        case .string(let s), .markup(let s): return s
        default: return nil
        }
    }

    /// Python's truth value; undefined is false.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .markup(let s): return !s.isEmpty
        case .namespace, .function, .generator: return true
        }
    }

    /// Python's `type(x).__name__`, as Python's own error messages name types.
    var pythonTypeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .generator: return "generator"
        case .markup: return "Markup"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// How Jinja names a value's type in "has no attribute" messages (`jinja2.utils.object_type_repr`).
    var jinjaObjectTypeName: String {
        switch self {
        case .none: return "None"
        case .namespace: return "jinja2.utils.Namespace object"
        default: return "\(pythonTypeName) object"
        }
    }

    /// The error of an undefined value used where a value is needed.
    func undefinedError() -> JinjaError {
        if case .undefined(let hint) = self { return JinjaError(.undefined, hint) }
        return JinjaError(.undefined, "undefined")
    }

    /// Python's `==` (numbers across int/float/bool, containers element-wise; undefined equals only undefined).
    func pythonEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)), (.markup(let a), .markup(let b)), (.string(let a), .markup(let b)), (.markup(let a), .string(let b)):
            return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && a.items.allSatisfy { k, v in b[k].map { $0.pythonEquals(v) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.function(let a), .function(let b)): return a === b
        default:
            if let x = numeric, let y = other.numeric { return x == y }
            return false
        }
    }

    /// A number (booleans count, as in Python), as a Double for comparisons.
    var numeric: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// An integer (booleans count, as in Python).
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }

    /// Python's `str(x)` with Jinja's undefined printing as nothing.
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr(x)` (what `str` of a container shows for its members).
    var pythonRepr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return PythonText.floatRepr(d)
        case .string(let s): return PythonText.stringRepr(s)
        case .markup(let s): return "Markup(\(PythonText.stringRepr(s)))"
        case .generator: return "<generator object>"
        case .list(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .tuple(let a): return a.count == 1 ? "(\(a[0].pythonRepr),)" : "(" + a.map(\.pythonRepr).joined(separator: ", ") + ")"
        case .dict(let d): return "{" + d.items.map { "\($0.pythonRepr): \($1.pythonRepr)" }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace " + Value.dict(n.attributes).pythonRepr + ">"
        case .function(let f): return "<function \(f.name)>"
        }
    }
}
