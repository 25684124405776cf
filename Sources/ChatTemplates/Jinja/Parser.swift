/// Builds the statement tree from the lexer's segments (Jinja2's grammar and operator
/// precedence: `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %` < `**`
/// < unary minus < filters, tests, calls, attributes and subscripts).
struct Parser {
    /// Deeper nesting of expressions or blocks is refused: real templates nest a few levels, and
    /// the bound keeps a hostile template from exhausting the stack of this recursive parser.
    static let maximumNesting = 200

    private let segments: [Segment]
    private let sourceName: String
    private var s = 0
    // The statement or expression tag being parsed.
    private var tokens: [Token] = []
    private var t = 0
    private var line = 1
    private var nesting = 0

    init(segments: [Segment], sourceName: String) {
        self.segments = segments
        self.sourceName = sourceName
    }

    static func parse(_ source: String, name: String) throws -> [Node] {
        var parser = Parser(segments: try Lexer.segments(of: source, name: name), sourceName: name)
        let (nodes, end) = try parser.body(until: [])
        if let end { throw parser.fail("Encountered unknown tag '\(end)'.") }
        return nodes
    }

    private func fail(_ message: String) -> ChatTemplateError {
        ChatTemplateError(.syntax, source: sourceName, line: line, message)
    }

    // MARK: Statements

    /// Nodes up to a statement whose keyword is in `ends` (returned, its tokens left to read), or to the end.
    private mutating func body(until ends: Set<String>) throws -> ([Node], String?) {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > Self.maximumNesting { throw fail("blocks nest deeper than \(Self.maximumNesting) levels") }
        var nodes: [Node] = []
        while s < segments.count {
            let segment = segments[s]
            s += 1
            switch segment {
            case .text(let text):
                nodes.append(.text(text))
            case .output(let toks, let l):
                begin(toks, l)
                let e = try expression()
                try finish()
                nodes.append(.output(e, line: l))
            case .statement(let toks, let l):
                begin(toks, l)
                guard case .name(let keyword)? = next() else { throw fail("tag name expected") }
                if ends.contains(keyword) { return (nodes, keyword) }
                nodes.append(try statement(keyword, line: l))
            }
        }
        if !ends.isEmpty {
            throw fail("Unexpected end of template. Jinja was looking for the following tags: "
                       + ends.sorted().map { "'\($0)'" }.joined(separator: " or ") + ".")
        }
        return (nodes, nil)
    }

    private mutating func begin(_ toks: [Token], _ l: Int) {
        tokens = toks
        t = 0
        line = l
    }

    private mutating func statement(_ keyword: String, line l: Int) throws -> Node {
        switch keyword {
        case "if":
            var branches: [(Expr, [Node])] = []
            var condition = try expression()
            try finish()
            while true {
                let (nodes, end) = try body(until: ["elif", "else", "endif"])
                branches.append((condition, nodes))
                if end == "elif" {
                    condition = try expression()
                    try finish()
                    continue
                }
                var otherwise: [Node] = []
                if end == "else" {
                    try finish()
                    (otherwise, _) = try body(until: ["endif"])
                }
                try finish()
                return .ifChain(branches, otherwise: otherwise, line: l)
            }
        case "for":
            let target = try assignTarget(allowAttribute: false)
            try expectName("in")
            let iterable = try expression(allowConditional: false)
            var condition: Expr?
            var recursive = false
            if accept(.name("if")) { condition = try expression() }
            if accept(.name("recursive")) { recursive = true }
            try finish()
            var (nodes, end) = try body(until: ["else", "endfor"])
            var otherwise: [Node] = []
            if end == "else" {
                try finish()
                (otherwise, end) = try body(until: ["endfor"])
            }
            try finish()
            return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: nodes,
                                    otherwise: otherwise, recursive: recursive), line: l)
        case "set":
            let target = try assignTarget(allowAttribute: true)
            if accept(.op("=")) {
                let value = try tupleOrExpression()
                try finish()
                return .set(target, value, line: l)
            }
            let filters = try filterChain()
            try finish()
            let (nodes, _) = try body(until: ["endset"])
            try finish()
            return .setBlock(target, body: nodes, filters: filters, line: l)
        case "macro":
            guard case .name(let name)? = next() else { throw fail("macro name expected") }
            let parameters = try parameterList()
            try finish()
            let (nodes, _) = try body(until: ["endmacro"])
            skipRest()
            return .macro(Macro(name: name, parameters: parameters, body: nodes), line: l)
        case "call":
            var parameters: [(String, Expr?)] = []
            if peek() == .op("(") { parameters = try parameterList() }
            let call = try expression()
            try finish()
            let (nodes, _) = try body(until: ["endcall"])
            try finish()
            return .callBlock(call: call, parameters: parameters, body: nodes, line: l)
        case "filter":
            let filters = try filterChain()
            try finish()
            let (nodes, _) = try body(until: ["endfilter"])
            try finish()
            return .filterBlock(filters: filters, body: nodes, line: l)
        case "generation":
            try finish()
            let (nodes, _) = try body(until: ["endgeneration"])
            try finish()
            return .generation(nodes)
        case "break":
            try finish()
            return .breakLoop(line: l)
        case "continue":
            try finish()
            return .continueLoop(line: l)
        default:
            throw fail("Encountered unknown tag '\(keyword)'.")
        }
    }

    /// `(a, b=default, ...)` of a macro or call block.
    private mutating func parameterList() throws -> [(String, Expr?)] {
        try expect(.op("("))
        var parameters: [(String, Expr?)] = []
        while !accept(.op(")")) {
            if !parameters.isEmpty { try expect(.op(",")) }
            if accept(.op(")")) { break }
            guard case .name(let p)? = next() else { throw fail("parameter name expected") }
            parameters.append((p, accept(.op("=")) ? try expression() : nil))
        }
        return parameters
    }

    /// The filters after `{% set x | f %}` or `{% filter f | g %}`.
    private mutating func filterChain() throws -> [(String, [Expr], [(String, Expr)])] {
        var filters: [(String, [Expr], [(String, Expr)])] = []
        if peek() != nil, peek() != .op("|") {
            filters.append(try filterCall())
        }
        while accept(.op("|")) { filters.append(try filterCall()) }
        return filters
    }

    private mutating func filterCall() throws -> (String, [Expr], [(String, Expr)]) {
        guard case .name(var name)? = next() else { throw fail("filter name expected") }
        while accept(.op(".")) {
            guard case .name(let part)? = next() else { throw fail("filter name expected") }
            name += "." + part
        }
        var args: [Expr] = [], kwargs: [(String, Expr)] = []
        if peek() == .op("(") { (args, kwargs) = try callArguments() }
        return (name, args, kwargs)
    }

    private mutating func assignTarget(allowAttribute: Bool) throws -> Target {
        var targets: [Target] = []
        let parenthesised = accept(.op("("))
        repeat {
            if parenthesised, peek() == .op(")") { break }
            guard case .name(let name)? = next() else { throw fail("can't assign to this expression") }
            if allowAttribute, accept(.op(".")) {
                guard case .name(let attribute)? = next() else { throw fail("attribute name expected") }
                targets.append(.attribute(name, attribute))
            } else {
                targets.append(.name(name))
            }
        } while accept(.op(","))
        if parenthesised { try expect(.op(")")) }
        return targets.count == 1 && !parenthesised ? targets[0] : .tuple(targets)
    }

    // MARK: Tokens

    private func peek(_ k: Int = 0) -> Token? { t + k < tokens.count ? tokens[t + k] : nil }

    private mutating func next() -> Token? {
        defer { t += 1 }
        return peek()
    }

    private mutating func accept(_ token: Token) -> Bool {
        if peek() == token { t += 1; return true }
        return false
    }

    private mutating func expect(_ token: Token) throws {
        guard accept(token) else { throw fail("expected \(describe(token)), got \(peek().map(describe) ?? "end of tag")") }
    }

    private mutating func expectName(_ name: String) throws { try expect(.name(name)) }

    private func describe(_ token: Token) -> String {
        switch token {
        case .name(let n): return "'\(n)'"
        case .string(let s): return PythonText.stringRepr(s)
        case .int(let i): return String(i)
        case .double(let d): return PythonText.floatRepr(d)
        case .op(let o): return "'\(o)'"
        }
    }

    private mutating func finish() throws {
        if let extra = peek() { throw fail("expected end of statement block, got \(describe(extra))") }
    }

    private mutating func skipRest() { t = tokens.count }

    // MARK: Expressions

    private mutating func nested<T>(_ body: (inout Parser) throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > Self.maximumNesting { throw fail("expression nests deeper than \(Self.maximumNesting) levels") }
        return try body(&self)
    }

    /// `a, b` (a tuple without parentheses) or one expression.
    private mutating func tupleOrExpression() throws -> Expr {
        let first = try expression()
        guard peek() == .op(",") else { return first }
        var items = [first]
        while accept(.op(",")) {
            if peek() == nil { break }
            items.append(try expression())
        }
        return .tuple(items)
    }

    mutating func expression(allowConditional: Bool = true) throws -> Expr {
        try nested { p in
            let value = try p.orExpression()
            guard allowConditional, p.accept(.name("if")) else { return value }
            let condition = try p.orExpression()
            let otherwise = p.accept(.name("else")) ? try p.expression() : nil
            return .conditional(then: value, condition: condition, otherwise: otherwise)
        }
    }

    private mutating func orExpression() throws -> Expr {
        var left = try andExpression()
        while accept(.name("or")) { left = .or(left, try andExpression()) }
        return left
    }

    private mutating func andExpression() throws -> Expr {
        var left = try notExpression()
        while accept(.name("and")) { left = .and(left, try notExpression()) }
        return left
    }

    private mutating func notExpression() throws -> Expr {
        if accept(.name("not")) { return .not(try nested { try $0.notExpression() }) }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        let left = try additive()
        var rest: [(String, Expr)] = []
        while true {
            if case .op(let o)? = peek(), ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                t += 1
                rest.append((o, try additive()))
            } else if accept(.name("in")) {
                rest.append(("in", try additive()))
            } else if peek() == .name("not"), peek(1) == .name("in") {
                t += 2
                rest.append(("not in", try additive()))
            } else {
                break
            }
        }
        return rest.isEmpty ? left : .compare(left, rest)
    }

    private mutating func additive() throws -> Expr {
        var left = try concatenation()
        while case .op(let o)? = peek(), o == "+" || o == "-" {
            t += 1
            left = .binary(o, left, try concatenation())
        }
        return left
    }

    private mutating func concatenation() throws -> Expr {
        var left = try multiplicative()
        while accept(.op("~")) { left = .binary("~", left, try multiplicative()) }
        return left
    }

    private mutating func multiplicative() throws -> Expr {
        var left = try power()
        while case .op(let o)? = peek(), ["*", "/", "//", "%"].contains(o) {
            t += 1
            left = .binary(o, left, try power())
        }
        return left
    }

    private mutating func power() throws -> Expr {
        var left = try unary()
        while accept(.op("**")) { left = .binary("**", left, try unary()) }
        return left
    }

    /// As in Jinja, a sign applies before the filters that follow: `-x|abs` is `(-x)|abs`.
    private mutating func unary(withFilters: Bool = true) throws -> Expr {
        var e: Expr
        if accept(.op("-")) {
            e = .negate(try nested { try $0.unary(withFilters: false) })
        } else if accept(.op("+")) {
            e = .plus(try nested { try $0.unary(withFilters: false) })
        } else {
            e = try primary()
        }
        return try postfixAndFilters(e, withFilters: withFilters)
    }

    private mutating func primary() throws -> Expr {
        guard let token = next() else { throw fail("unexpected end of expression") }
        switch token {
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more)? = peek() { text += more; t += 1 }
            return .literal(.string(text))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .op("("):
            return try nested { p in
                if p.accept(.op(")")) { return .tuple([]) }
                let first = try p.expression()
                if p.accept(.op(")")) { return first }
                var items = [first]
                while p.accept(.op(",")) {
                    if p.peek() == .op(")") { break }
                    items.append(try p.expression())
                }
                try p.expect(.op(")"))
                return .tuple(items)
            }
        case .op("["):
            return try nested { p in
                var items: [Expr] = []
                while !p.accept(.op("]")) {
                    if !items.isEmpty { try p.expect(.op(",")); if p.accept(.op("]")) { break } }
                    items.append(try p.expression())
                }
                return .list(items)
            }
        case .op("{"):
            return try nested { p in
                var pairs: [(Expr, Expr)] = []
                while !p.accept(.op("}")) {
                    if !pairs.isEmpty { try p.expect(.op(",")); if p.accept(.op("}")) { break } }
                    let key = try p.expression()
                    try p.expect(.op(":"))
                    pairs.append((key, try p.expression()))
                }
                return .dict(pairs)
            }
        default:
            throw fail("unexpected \(describe(token))")
        }
    }

    /// Attributes, subscripts, calls, then filters and tests (which may be followed by more of each).
    private mutating func postfixAndFilters(_ base: Expr, withFilters: Bool) throws -> Expr {
        var e = base
        while true {
            if accept(.op(".")) {
                switch next() {
                case .name(let n)?: e = .attribute(e, n)
                case .int(let i)?: e = .subscript(e, .literal(.int(i)))
                default: throw fail("expected name or number after '.'")
                }
            } else if accept(.op("[")) {
                e = try subscriptOrSlice(e)
            } else if peek() == .op("(") {
                let (args, kwargs) = try callArguments()
                e = .call(e, args, kwargs)
            } else if withFilters, accept(.op("|")) {
                let (name, args, kwargs) = try filterCall()
                e = .filter(e, name, args, kwargs)
            } else if withFilters, accept(.name("is")) {
                let negated = accept(.name("not"))
                guard case .name(var name)? = next() else { throw fail("test name expected after 'is'") }
                while accept(.op(".")) {
                    guard case .name(let part)? = next() else { throw fail("test name expected") }
                    name += "." + part
                }
                var args: [Expr] = []
                if peek() == .op("(") {
                    (args, _) = try callArguments()
                } else if let token = peek(), startsTestArgument(token) {
                    args = [try postfixOnly(try primary())]
                }
                e = .test(e, name, args, negated: negated)
            } else {
                return e
            }
        }
    }

    /// Jinja takes one bare argument after a test name (`is divisibleby 3`) unless what follows
    /// continues the enclosing expression.
    private func startsTestArgument(_ token: Token) -> Bool {
        switch token {
        case .name(let n): return !["else", "or", "and", "if", "is", "in", "not", "recursive"].contains(n)
        case .string, .int, .double: return true
        case .op(let o): return o == "[" || o == "{" || o == "-"
        }
    }

    private mutating func postfixOnly(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if accept(.op(".")) {
                guard case .name(let n)? = next() else { throw fail("expected name after '.'") }
                e = .attribute(e, n)
            } else if accept(.op("[")) {
                e = try subscriptOrSlice(e)
            } else {
                return e
            }
        }
    }

    private mutating func subscriptOrSlice(_ e: Expr) throws -> Expr {
        var parts: [Expr?] = [nil]
        var isSlice = false
        while !accept(.op("]")) {
            if accept(.op(":")) {
                isSlice = true
                parts.append(nil)
                continue
            }
            guard parts[parts.count - 1] == nil else { throw fail("expected ']'") }
            parts[parts.count - 1] = try expression()
        }
        if !isSlice {
            guard let index = parts[0] else { throw fail("expected a subscript") }
            return .subscript(e, index)
        }
        guard parts.count <= 3 else { throw fail("a slice takes at most three parts") }
        return .slice(e, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
    }

    private mutating func callArguments() throws -> ([Expr], [(String, Expr)]) {
        try expect(.op("("))
        var args: [Expr] = [], kwargs: [(String, Expr)] = []
        while !accept(.op(")")) {
            if !(args.isEmpty && kwargs.isEmpty) { try expect(.op(",")); if accept(.op(")")) { break } }
            if case .name(let n)? = peek(), peek(1) == .op("=") {
                t += 2
                kwargs.append((n, try expression()))
            } else {
                if !kwargs.isEmpty { throw fail("positional argument follows keyword argument") }
                args.append(try expression())
            }
        }
        return (args, kwargs)
    }
}
