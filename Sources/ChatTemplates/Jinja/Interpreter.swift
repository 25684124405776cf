import Foundation

/// Runs a parsed template: Jinja2's semantics as transformers' `ImmutableSandboxedEnvironment`
/// gives them (no mutation of lists or dicts, no access to internals, `namespace` the one
/// mutable object), within a budget so a hostile template ends with an error.
final class Interpreter {
    /// Bounds on one rendering. A chat template renders a conversation in thousands of steps and
    /// kilobytes; the bounds are orders of magnitude above that and far below what would exhaust
    /// time, memory or the stack.
    struct Limits {
        /// Statements, loop iterations and filter items processed.
        var maximumSteps = 10_000_000
        /// Characters of output (in any buffer: the result, a macro's or a `{% set %}` block's).
        var maximumOutput = 64 << 20
        /// Nested macro calls. Python's recursion limit (1000 frames, several per Jinja call) stops
        /// a recursive macro at about this depth in transformers too.
        var maximumCallDepth = 200
        /// Nesting of lists and dicts that `tojson` and comparisons walk.
        static let maximumDataDepth = 500
    }

    enum Flow { case normal, breakLoop, continueLoop }

    let sourceName: String
    let limits: Limits
    let now: Date
    let timeZone: TimeZone
    var globals: [String: Value] = [:]
    /// Scopes, innermost last; `frames[0]` is the template's top level.
    var frames: [[String: Value]] = [[:]]
    var output = ""
    var steps = 0
    var callDepth = 0

    init(sourceName: String, limits: Limits, now: Date, timeZone: TimeZone) {
        self.sourceName = sourceName
        self.limits = limits
        self.now = now
        self.timeZone = timeZone
        installGlobals()
    }

    /// Renders `nodes`; failures become a `ChatTemplateError` with the template's name and line.
    func render(_ nodes: [Node]) throws -> String {
        do {
            _ = try execute(nodes)
        } catch let error as JinjaError {
            throw ChatTemplateError(error.code, source: sourceName, line: error.line, error.message)
        }
        return output
    }

    func step() throws {
        steps += 1
        if steps > limits.maximumSteps {
            throw JinjaError(.budget, "the template ran more than \(limits.maximumSteps) steps (a loop that does not end?)")
        }
    }

    func emit(_ text: String) throws {
        output += text
        if output.utf8.count > limits.maximumOutput {
            throw JinjaError(.budget, "the template wrote more than \(limits.maximumOutput) bytes")
        }
    }

    // MARK: Statements

    func execute(_ nodes: [Node]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as JinjaError {
            if error.line == 0 { error.line = line }
            throw error
        }
    }

    private func execute(_ node: Node) throws -> Flow {
        try step()
        switch node {
        case .text(let text):
            try emit(text)
        case .output(let e, let line):
            try located(line) { try emit(try evaluate(e).pythonString) }
        case .ifChain(let branches, let otherwise, let line):
            for (condition, body) in branches where try located(line, { try evaluate(condition).truthy }) {
                return try execute(body)
            }
            return try execute(otherwise)
        case .forLoop(let loop, let line):
            return try located(line) { try runLoop(loop, depth: 1) }
        case .set(let target, let e, let line):
            try located(line) { try assign(target, try evaluate(e)) }
        case .setBlock(let target, let body, let filters, let line):
            var value = Value.string(try capture { _ = try execute(body) })
            try located(line) {
                for (name, args, kwargs) in filters {
                    value = try applyFilter(name, value, try evaluateArguments(args, kwargs))
                }
                try assign(target, value)
            }
        case .macro(let macro, _):
            frames[frames.count - 1][macro.name] = .function(makeMacro(macro, caller: nil))
        case .callBlock(let call, let parameters, let body, let line):
            try located(line) {
                let caller = makeMacro(Macro(name: "caller", parameters: parameters, body: body), caller: nil)
                guard case .call(let callee, let args, let kwargs) = call else { throw JinjaError.runtime("call block without a call") }
                var arguments = try evaluateArguments(args, kwargs)
                arguments.keyword.append(("caller", .function(caller)))
                try emit(try invoke(try evaluate(callee), arguments).pythonString)
            }
        case .filterBlock(let filters, let body, let line):
            var value = Value.string(try capture { _ = try execute(body) })
            try located(line) {
                for (name, args, kwargs) in filters {
                    value = try applyFilter(name, value, try evaluateArguments(args, kwargs))
                }
                try emit(value.pythonString)
            }
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .generation(let body):
            return try execute(body)
        }
        return .normal
    }

    /// Runs `body` writing into a fresh buffer and returns what it wrote.
    func capture(_ body: () throws -> Void) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    func assign(_ target: Target, _ value: Value) throws {
        switch target {
        case .name(let name):
            frames[frames.count - 1][name] = value
        case .tuple(let targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw JinjaError(.value, items.count > targets.count ? "too many values to unpack (expected \(targets.count))"
                                                                  : "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v) }
        case .attribute(let name, let attribute):
            guard case .namespace(let ns) = lookup(name) else {
                throw JinjaError(.runtime, "cannot assign attribute on non-namespace object")
            }
            if attribute.hasPrefix("_") {
                throw JinjaError(.security, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attribute)'. Please rename the attribute.")
            }
            ns.attributes[.string(attribute)] = value
        }
    }

    private func runLoop(_ loop: ForLoop, depth: Int) throws -> Flow {
        let source = try evaluate(loop.iterable)
        var items = try iterate(source)
        frames.append([:])
        defer { frames.removeLast() }
        if let condition = loop.condition {
            // The filter sees each item bound to the loop variables, before `loop` exists.
            var kept: [Value] = []
            for item in items {
                try step()
                try assign(loop.target, item)
                if try evaluate(condition).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            frames[frames.count - 1] = [:]
            return try execute(loop.otherwise)
        }
        let outer = frames[frames.count - 1]
        for (index, item) in items.enumerated() {
            try step()
            frames[frames.count - 1] = outer
            try assign(loop.target, item)
            frames[frames.count - 1]["loop"] = loopObject(items, index, depth: depth, loop: loop)
            let flow = try execute(loop.body)
            if flow == .breakLoop { break }
        }
        return .normal
    }

    private func loopObject(_ items: [Value], _ index: Int, depth: Int, loop: ForLoop) -> Value {
        let n = items.count
        var d = Dict()
        d[.string("index")] = .int(index + 1)
        d[.string("index0")] = .int(index)
        d[.string("revindex")] = .int(n - index)
        d[.string("revindex0")] = .int(n - index - 1)
        d[.string("first")] = .bool(index == 0)
        d[.string("last")] = .bool(index == n - 1)
        d[.string("length")] = .int(n)
        d[.string("depth")] = .int(depth)
        d[.string("depth0")] = .int(depth - 1)
        d[.string("previtem")] = index > 0 ? items[index - 1] : .undefined(hint: "there is no previous item")
        d[.string("nextitem")] = index + 1 < n ? items[index + 1] : .undefined(hint: "there is no next item")
        d[.string("cycle")] = .function(Function("cycle") { args, _ in
            guard !args.positional.isEmpty else { throw JinjaError.type("no items for cycling given") }
            return args.positional[index % args.positional.count]
        })
        if loop.recursive {
            d[.string("__call__")] = .function(Function("loop") { [unowned self] args, _ in
                guard let inner = args.positional.first else { throw JinjaError.type("loop() takes one argument") }
                var nested = loop
                nested.iterable = .literal(inner)
                return .string(try self.capture { _ = try self.runLoop(nested, depth: depth + 1) })
            })
        }
        return .dict(d)
    }

    private func makeMacro(_ macro: Macro, caller: Function?) -> Function {
        Function(macro.name) { [unowned self] arguments, _ in
            self.callDepth += 1
            defer { self.callDepth -= 1 }
            if self.callDepth > self.limits.maximumCallDepth {
                throw JinjaError(.budget, "macros call each other more than \(self.limits.maximumCallDepth) levels deep")
            }
            var scope: [String: Value] = [:]
            for (k, (name, defaultValue)) in macro.parameters.enumerated() {
                if let v = arguments.get(k, name) {
                    scope[name] = v
                } else if let defaultValue {
                    scope[name] = try self.evaluate(defaultValue)
                } else {
                    scope[name] = .undefined(hint: "parameter '\(name)' was not provided")
                }
            }
            if arguments.positional.count > macro.parameters.count {
                throw JinjaError.type("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)")
            }
            for (name, _) in arguments.keyword where !macro.parameters.contains(where: { $0.0 == name }) {
                if name == "caller" { continue }
                throw JinjaError.type("macro '\(macro.name)' takes no keyword argument '\(name)'")
            }
            if let callerValue = arguments.keyword.first(where: { $0.0 == "caller" })?.1 { scope["caller"] = callerValue }
            let savedFrames = self.frames
            self.frames = [self.frames[0], scope]
            defer { self.frames = savedFrames }
            return .string(try self.capture { _ = try self.execute(macro.body) })
        }
    }

    func lookup(_ name: String) -> Value {
        for frame in frames.reversed() {
            if let v = frame[name] { return v }
        }
        return globals[name] ?? .undefined(hint: "'\(name)' is undefined")
    }

    // MARK: Expressions

    func evaluate(_ e: Expr) throws -> Value {
        switch e {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items): return .list(try items.map(evaluate))
        case .tuple(let items): return .tuple(try items.map(evaluate))
        case .dict(let pairs):
            var d = Dict()
            for (k, v) in pairs { d[try evaluate(k)] = try evaluate(v) }
            return .dict(d)
        case .attribute(let base, let name):
            return try attribute(try evaluate(base), name)
        case .subscript(let base, let index):
            return try item(try evaluate(base), try evaluate(index))
        case .slice(let base, let start, let stop, let stepExpr):
            return try slice(try evaluate(base), try start.map(evaluate), try stop.map(evaluate), try stepExpr.map(evaluate))
        case .call(let callee, let args, let kwargs):
            let f = try evaluate(callee)
            return try invoke(f, try evaluateArguments(args, kwargs))
        case .filter(let base, let name, let args, let kwargs):
            let value = try evaluate(base)
            return try applyFilter(name, value, try evaluateArguments(args, kwargs))
        case .test(let base, let name, let args, let negated):
            let value = try evaluate(base)
            let result = try applyTest(name, value, try args.map(evaluate))
            return .bool(result != negated)
        case .negate(let inner):
            let v = try evaluate(inner)
            switch v {
            case .int(let i): return .int(-i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .double(let d): return .double(-d)
            case .undefined: throw v.undefinedError()
            default: throw JinjaError.type("bad operand type for unary -: '\(v.pythonTypeName)'")
            }
        case .plus(let inner):
            let v = try evaluate(inner)
            if v.numeric == nil { throw v.isUndefined ? v.undefinedError() : JinjaError.type("bad operand type for unary +: '\(v.pythonTypeName)'") }
            return v
        case .not(let inner):
            return .bool(!(try evaluate(inner).truthy))
        case .and(let a, let b):
            let left = try evaluate(a)
            return left.truthy ? try evaluate(b) : left
        case .or(let a, let b):
            let left = try evaluate(a)
            return left.truthy ? left : try evaluate(b)
        case .binary(let op, let a, let b):
            return try Operators.binary(op, try evaluate(a), try evaluate(b))
        case .compare(let first, let rest):
            var left = try evaluate(first)
            for (op, rhs) in rest {
                let right = try evaluate(rhs)
                if !(try Operators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition).truthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined(hint: "the inline if-expression evaluated to false and no else section was defined.")
        }
    }

    func evaluateArguments(_ args: [Expr], _ kwargs: [(String, Expr)]) throws -> Arguments {
        Arguments(positional: try args.map(evaluate), keyword: try kwargs.map { ($0.0, try evaluate($0.1)) })
    }

    func invoke(_ f: Value, _ arguments: Arguments) throws -> Value {
        switch f {
        case .function(let function):
            return try function.call(arguments, self)
        case .dict(let d):
            if case .function(let function)? = d["__call__"] { return try function.call(arguments, self) }
            throw JinjaError.type("'dict' object is not callable")
        case .undefined:
            throw f.undefinedError()
        default:
            throw JinjaError.type("'\(f.pythonTypeName)' object is not callable")
        }
    }

    /// The items a `for` loop, `list` or tuple unpacking sees.
    func iterate(_ v: Value) throws -> [Value] {
        switch v {
        case .undefined: return []
        case .list(let a), .tuple(let a), .generator(let a): return a
        case .dict(let d): return d.keys
        case .string(let s), .markup(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw JinjaError.type("'\(v.pythonTypeName)' object is not iterable")
        }
    }

    /// `obj.name`: Python attributes (methods) first, then items, as Jinja's `getattr` does.
    func attribute(_ base: Value, _ name: String) throws -> Value {
        if case .undefined = base { throw base.undefinedError() }
        if let method = try Methods.bound(base, name) { return method }
        switch base {
        case .dict(let d):
            if let v = d[name] { return v }
        case .namespace(let ns):
            if let v = ns.attributes[name] { return v }
        default:
            break
        }
        return .undefined(hint: "\(PythonText.stringRepr(base.jinjaObjectTypeName)) has no attribute \(PythonText.stringRepr(name))")
    }

    /// `obj[key]`: items first, then attributes for a string key, as Jinja's `getitem` does.
    func item(_ base: Value, _ key: Value) throws -> Value {
        switch base {
        case .undefined:
            throw base.undefinedError()
        case .dict(let d):
            if let v = d[key] { return v }
        case .list(let a), .tuple(let a):
            if let i = key.integer {
                let index = i < 0 ? i + a.count : i
                if index >= 0, index < a.count { return a[index] }
            }
        case .string(let s), .markup(let s):
            if let i = key.integer {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? i + scalars.count : i
                if index >= 0, index < scalars.count { return .string(String(scalars[index])) }
            }
        case .namespace(let ns):
            if case .string(let name) = key, let v = ns.attributes[name] { return v }
        default:
            break
        }
        if case .string(let name) = key, let method = try Methods.bound(base, name) { return method }
        return .undefined(hint: "\(PythonText.stringRepr(base.jinjaObjectTypeName)) has no attribute \(key.pythonRepr)")
    }

    /// Python slicing of lists, tuples and strings.
    func slice(_ base: Value, _ start: Value?, _ stop: Value?, _ stepValue: Value?) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = v.integer else { throw JinjaError.type("slice indices must be integers or None or have an __index__ method") }
            return i
        }
        let step = try bound(stepValue) ?? 1
        guard step != 0 else { throw JinjaError(.value, "slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            var lo = try bound(start), hi = try bound(stop)
            if step > 0 {
                var a = lo ?? 0, b = hi ?? n
                if a < 0 { a = max(0, a + n) } else { a = min(a, n) }
                if b < 0 { b = max(0, b + n) } else { b = min(b, n) }
                lo = a; hi = b
                return a < b ? Array(stride(from: a, to: b, by: step)) : []
            }
            var a = lo ?? n - 1, b = hi ?? -n - 1
            if a < 0 { a = max(-1, a + n) } else { a = min(a, n - 1) }
            if b < 0 { b = max(-1, b + n) } else { b = min(b, n - 1) }
            return a > b ? Array(stride(from: a, to: b, by: step)) : []
        }
        switch base {
        case .list(let a): return .list(try indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(try indices(a.count).map { a[$0] })
        case .string(let s), .markup(let s):
            let scalars = Array(s.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(scalars.count).map { scalars[$0] })))
        case .undefined: throw base.undefinedError()
        default: throw JinjaError.type("'\(base.pythonTypeName)' object is not subscriptable")
        }
    }

    // MARK: Globals

    private func installGlobals() {
        globals["range"] = .function(Function("range") { args, _ in
            let ints = try args.positional.map { v -> Int in
                guard let i = v.integer else { throw JinjaError.type("'\(v.pythonTypeName)' object cannot be interpreted as an integer") }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw JinjaError.type("range expected at most 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw JinjaError(.value, "range() arg 3 must not be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            // Jinja's sandbox refuses ranges above MAX_RANGE (100000) with this message.
            if count > 100_000 {
                throw JinjaError(.runtime, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
            }
            return .list(stride(from: start, to: stop, by: step).map { .int($0) })
        })
        globals["namespace"] = .function(Function("namespace") { args, _ in
            let ns = Namespace()
            for v in args.positional {
                guard case .dict(let d) = v else { throw JinjaError.type("'\(v.pythonTypeName)' object is not iterable") }
                for (k, value) in d.items { ns.attributes[k] = value }
            }
            for (k, v) in args.keyword {
                if k.hasPrefix("_") {
                    throw JinjaError(.security, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(k)'. Please rename the attribute.")
                }
                ns.attributes[.string(k)] = v
            }
            return .namespace(ns)
        })
        globals["dict"] = .function(Function("dict") { args, _ in
            var d = Dict()
            for v in args.positional {
                if case .dict(let other) = v {
                    for (k, value) in other.items { d[k] = value }
                } else {
                    for pair in try self.iterate(v) {
                        let kv = try self.iterate(pair)
                        guard kv.count == 2 else { throw JinjaError(.value, "dictionary update sequence element has length \(kv.count); 2 is required") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in args.keyword { d[.string(k)] = v }
            return .dict(d)
        })
        globals["raise_exception"] = .function(Function("raise_exception") { args, _ in
            throw JinjaError(.raised, (args.get(0, "message") ?? Value.none).pythonString)
        })
        globals["strftime_now"] = .function(Function("strftime_now") { [unowned self] args, _ in
            guard case .string(let format)? = args.get(0, "format") else { throw JinjaError.type("strftime() argument 1 must be str") }
            return .string(try PythonText.strftime(format, self.now, self.timeZone))
        })
    }
}
