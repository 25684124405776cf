/// Reads the grammar dialect documented in `docs/constraints.md`: llama.cpp's GBNF (`name ::= …`,
/// `"literals"`, `[classes]`, `.`, groups, `|`, `* + ? {m} {m,} {m,n}`, `#` comments, rule `root`),
/// extended with `/regex/` terminals that become lexemes (scanned by a lazy DFA, not expanded into
/// rules) and `_` in rule names.
///
/// As in GBNF, a newline ends a rule except inside parentheses or after `::=` or `|`.
struct GrammarParser {
    private let text: [Unicode.Scalar]
    private var position = 0
    private var builder = GrammarBuilder()
    private var ruleIDs: [String: Int32] = [:]
    private var defined: Set<String> = []
    private var firstUse: [String: Int] = [:]
    /// The regex of each lexeme this parser made, so regular rules can be folded into lexemes.
    private var lexemeNodes: [Int32: (node: RegexNode, depth: Int, size: Int)] = [:]
    /// Repetition counts above this are refused: each count is unrolled into a rule.
    static let maxRepetitionBound = 10_000
    /// The deepest parenthesis nesting accepted: groups are parsed recursively, so `((((…))))`
    /// 10,000 deep would overflow the stack. 64, as the YAML reader and `RegexParser.maxNesting`.
    static let maxNesting = 64
    private var nesting = 0

    init(_ source: String) { text = Array(source.unicodeScalars) }

    /// - Parameter fold: fold regular rules into lexemes (off only to test that folding keeps the language).
    static func parse(_ source: String, root: String, fold: Bool = true) throws(ConstraintError) -> Grammar {
        var parser = GrammarParser(source)
        return try parser.grammar(root: root, fold: fold)
    }

    private func location(_ at: Int) -> String {
        var line = 1, column = 1
        for s in text[..<min(at, text.count)] {
            if s == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return "\(line):\(column)"
    }

    private func error(_ message: String, at: Int? = nil) -> ConstraintError {
        ConstraintError(.invalidGrammar, at: location(at ?? position), message)
    }

    private var peek: Unicode.Scalar? { position < text.count ? text[position] : nil }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
    }

    /// Skips blanks and comments; newlines only when `newlines` is set.
    private mutating func skipSpace(newlines: Bool) {
        while let c = peek {
            if c == " " || c == "\t" || (newlines && (c == "\n" || c == "\r")) {
                position += 1
            } else if c == "#" {
                while let d = peek, d != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    private mutating func name() -> String? {
        let start = position
        while let c = peek, Self.isNameCharacter(c) { position += 1 }
        return position > start ? String(String.UnicodeScalarView(text[start..<position])) : nil
    }

    private mutating func rule(named name: String) -> Int32 {
        if let id = ruleIDs[name] { return id }
        let id = builder.newRule(name)
        ruleIDs[name] = id
        return id
    }

    private mutating func grammar(root: String, fold: Bool) throws(ConstraintError) -> Grammar {
        while true {
            skipSpace(newlines: true)
            guard peek != nil else { break }
            let start = position
            guard let n = name() else { throw error("expected a rule name") }
            skipSpace(newlines: false)
            guard position + 3 <= text.count, text[position] == ":", text[position + 1] == ":",
                  text[position + 2] == "=" else {
                throw error("expected '::=' after rule name '\(n)'")
            }
            position += 3
            guard defined.insert(n).inserted else { throw error("rule '\(n)' is defined twice", at: start) }
            let id = rule(named: n)
            skipSpace(newlines: true)
            for alternative in try alternatives(nested: false) { builder.add(id, alternative) }
            skipSpace(newlines: false)
            if let c = peek, c != "\n", c != "\r" { throw error("unexpected '\(c)'") }
        }
        for (n, at) in firstUse.sorted(by: { $0.value < $1.value }) where !defined.contains(n) {
            throw error("undefined rule '\(n)'", at: at)
        }
        guard let rootID = ruleIDs[root], defined.contains(root) else {
            throw ConstraintError(.invalidGrammar, at: location(0), "the grammar has no '\(root)' rule")
        }
        return (fold ? foldRegularRules(root: rootID) : builder).build(root: rootID)
    }

    /// The longest chain of rule references followed while folding one rule: deeper chains
    /// (`r0 ::= "a" r1`, `r1 ::= "a" r2`, … 10,000 long) stay rules, so folding never recurses
    /// deeper than this; the folded tree is bounded by `RegexNode.maxDepth` as well.
    static let maxFoldChain = 64
    /// The largest folded regex, counting a repeated body once per count (a terminal is 1, a
    /// `/regex/` its NFA's states, each sequence or alternation 1 more): bounds the NFA a fold
    /// builds (`ByteNFA.maxStates`) before any of it is built, so rules that double at each level
    /// (`a ::= b b`, `b ::= c c`, …) stay rules instead of expanding exponentially.
    static let maxFoldSize = ByteNFA.maxStates

    /// Replaces every reference to a regular rule by one lexeme for it (the lexer layer): a rule is
    /// regular when its productions use only terminals, regular rules, and itself in tail position
    /// (`R → A | B R` is `B* A`). The language is unchanged; masks then come from lexeme caches.
    ///
    /// Only the rules the root still reaches as rules are rewritten: a regular rule referenced
    /// only from inside other folded rules gets no lexeme of its own, so a chain of n rules costs
    /// O(n) rather than one lexeme per suffix (O(n²) automaton states).
    private mutating func foldRegularRules(root: Int32) -> GrammarBuilder {
        let productions = builder.productions
        var byRule = [[Int]](repeating: [], count: builder.names.count)
        for (i, p) in productions.enumerated() { byRule[Int(p.lhs)].append(i) }
        let repetitions = builder.repetitions
        var regex: [Int32: (node: RegexNode, depth: Int, size: Int)] = [:]
        var visiting: Set<Int32> = [], irregular: Set<Int32> = []
        func node(of rule: Int32) -> (node: RegexNode, depth: Int, size: Int)? {
            if let r = regex[rule] { return r }
            if irregular.contains(rule) || visiting.contains(rule) || visiting.count >= Self.maxFoldChain { return nil }
            visiting.insert(rule)
            defer { visiting.remove(rule) }
            func sequence(_ symbols: [Grammar.Symbol]) -> (node: RegexNode, depth: Int, size: Int)? {
                var parts: [RegexNode] = [], depth = 0, size = 0
                for symbol in symbols {
                    switch symbol {
                    case .bytes(let set): parts.append(.bytes(set)); depth = max(depth, 1); size += 1
                    case .lexeme(let l):
                        guard let n = lexemeNodes[l] else { return nil }
                        parts.append(n.node); depth = max(depth, n.depth); size += n.size
                    case .rule(let q):
                        guard let n = node(of: q) else { return nil }
                        parts.append(n.node); depth = max(depth, n.depth); size += n.size
                    }
                }
                return (.sequence(parts), depth + 1, size + 1)
            }
            var result: (node: RegexNode, depth: Int, size: Int)
            if let repetition = repetitions[rule] {
                // A counted repetition is one regex node, not its unrolled chain of optional rules.
                guard let body = sequence(repetition.body) else { irregular.insert(rule); return nil }
                result = (.repetition(body.node, min: repetition.min, max: repetition.max), body.depth + 1,
                          body.size * max(1, repetition.max ?? repetition.min) + 1)
            } else {
                var exits: [RegexNode] = [], loops: [RegexNode] = [], depth = 0, size = 0
                for index in byRule[Int(rule)] {
                    var rhs = productions[index].rhs
                    var isLoop = false
                    if case .rule(let last)? = rhs.last, last == rule { isLoop = true; rhs.removeLast() }
                    guard let part = sequence(rhs) else { irregular.insert(rule); return nil }
                    if isLoop { loops.append(part.node) } else { exits.append(part.node) }
                    depth = max(depth, part.depth)
                    size += part.size
                }
                let exit: RegexNode = exits.count == 1 ? exits[0] : .alternation(exits)
                result = loops.isEmpty ? (exit, depth + 1, size + 1)
                    : (.sequence([.repetition(loops.count == 1 ? loops[0] : .alternation(loops), min: 0, max: nil), exit]),
                       depth + 3, size + 3)
            }
            guard result.depth <= RegexNode.maxDepth, result.size <= Self.maxFoldSize else {
                irregular.insert(rule)
                return nil
            }
            regex[rule] = result
            return result
        }
        var folded = GrammarBuilder()
        for name in builder.names { _ = folded.newRule(name) }
        var lexemeOfRule: [Int32: Grammar.Symbol] = [:]
        // Keep the existing lexemes at their indices.
        for l in builder.lexemes { _ = folded.lexeme(l) }
        var kept = [Bool](repeating: false, count: builder.names.count)
        kept[Int(root)] = true
        var pending = [root]
        while let rule = pending.popLast() {
            for index in byRule[Int(rule)] {
                let p = productions[index]
                var rhs: [Grammar.Symbol] = []
                for symbol in p.rhs {
                    guard case .rule(let q) = symbol else { rhs.append(symbol); continue }
                    if q != p.lhs, let n = node(of: q) {
                        if lexemeOfRule[q] == nil, let l = try? RegexLexeme(node: n.node, search: false) {
                            lexemeOfRule[q] = folded.lexeme(l)
                        }
                        // A rule too large for one automaton stays a rule.
                        if let l = lexemeOfRule[q] { rhs.append(l); continue }
                    }
                    rhs.append(symbol)
                    if !kept[Int(q)] {
                        kept[Int(q)] = true
                        pending.append(q)
                    }
                }
                folded.add(p.lhs, rhs)
            }
        }
        return folded
    }

    private mutating func alternatives(nested: Bool) throws(ConstraintError) -> [[Grammar.Symbol]] {
        var out = [try sequence(nested: nested)]
        while peek == "|" {
            position += 1
            skipSpace(newlines: true)
            out.append(try sequence(nested: nested))
        }
        return out
    }

    private mutating func sequence(nested: Bool) throws(ConstraintError) -> [Grammar.Symbol] {
        var out: [Grammar.Symbol] = []
        while let c = peek, c != "|", c != ")", c != "\n", c != "\r" {
            let atomStart = position
            var atom = try primary()
            skipSpace(newlines: nested)
            atom = try quantified(atom, at: atomStart)
            out += atom
            skipSpace(newlines: nested)
        }
        return out
    }

    private mutating func quantified(_ atom: [Grammar.Symbol], at: Int) throws(ConstraintError) -> [Grammar.Symbol] {
        guard let c = peek else { return atom }
        var lo = 0, hi: Int? = nil
        switch c {
        case "*", "+", "?":
            position += 1
            (lo, hi) = c.quantifierBounds!
        case "{":
            position += 1
            skipSpace(newlines: false)
            guard let m = number() else { throw error("expected a number in {m,n}") }
            lo = m
            hi = m
            skipSpace(newlines: false)
            if peek == "," {
                position += 1
                skipSpace(newlines: false)
                hi = number()
                skipSpace(newlines: false)
            }
            guard peek == "}" else { throw error("expected '}'") }
            position += 1
            if let h = hi, h < lo { throw error("repetition {\(lo),\(h)} has its bounds out of order", at: at) }
            if lo > Self.maxRepetitionBound || (hi ?? 0) > Self.maxRepetitionBound {
                throw error("repetition bounds above \(Self.maxRepetitionBound) are not supported", at: at)
            }
        default:
            return atom
        }
        skipSpace(newlines: false)
        return [builder.repetition("repeat@\(location(at))", atom, min: lo, max: hi)]
    }

    private mutating func number() -> Int? {
        var v = 0, digits = 0
        while let c = peek, ("0"..."9").contains(c) {
            v = min(v * 10 + Int(c.value - 48), Int(Int32.max))
            digits += 1
            position += 1
        }
        return digits > 0 ? v : nil
    }

    private mutating func primary() throws(ConstraintError) -> [Grammar.Symbol] {
        let start = position
        guard let c = peek else { throw error("unexpected end of grammar") }
        switch c {
        case "(":
            if nesting == Self.maxNesting {
                throw error("parentheses nested deeper than \(Self.maxNesting) (limit \(Self.maxNesting)); move inner groups into rules")
            }
            nesting += 1
            defer { nesting -= 1 }
            position += 1
            skipSpace(newlines: true)
            let alternatives = try alternatives(nested: true)
            guard peek == ")" else { throw error("expected ')'") }
            position += 1
            return [builder.choice("group@\(location(start))", alternatives)]
        case "\"":
            position += 1
            var bytes: [UInt8] = []
            while true {
                guard let d = peek, d != "\n" else { throw error("unterminated string literal", at: start) }
                if d == "\"" { position += 1; break }
                let scalar = try character()
                bytes += Array(String(Character(scalar)).utf8)
            }
            return bytes.map { .bytes(ByteSet(byte: $0)) }
        case "[":
            position += 1
            var negated = false
            if peek == "^" { negated = true; position += 1 }
            var ranges: [ClosedRange<UInt32>] = []
            while true {
                guard let d = peek, d != "\n" else { throw error("unterminated character class", at: start) }
                if d == "]" { position += 1; break }
                let lo = try character()
                if peek == "-", position + 1 < text.count, text[position + 1] != "]" {
                    position += 1
                    let hi = try character()
                    guard lo.value <= hi.value else { throw error("character range out of order") }
                    ranges.append(lo.value...hi.value)
                } else {
                    ranges.append(lo.value...lo.value)
                }
            }
            let set = ScalarRanges.normalize(ranges)
            return [try classSymbol(negated ? ScalarRanges.complement(set) : set)]
        case ".":
            position += 1
            return [try classSymbol(ScalarRanges.complement([]))]
        case "/":
            position += 1
            var pattern = ""
            while true {
                guard let d = peek, d != "\n" else { throw error("unterminated /regex/", at: start) }
                position += 1
                if d == "/" { break }
                if d == "\\", let e = peek, e == "/" { position += 1; pattern.unicodeScalars.append("/"); continue }
                pattern.unicodeScalars.append(d)
                if d == "\\", let e = peek { position += 1; pattern.unicodeScalars.append(e) }
            }
            do {
                let node = try RegexParser.parse(pattern)
                return [lexeme(try RegexLexeme(node: node, search: false), node)]
            } catch {
                throw ConstraintError(error.code == .unsupportedRegexFeature ? .unsupportedRegexFeature : .invalidGrammar,
                                      at: location(start), feature: error.feature, "in /\(pattern)/: \(error.message)")
            }
        default:
            guard Self.isNameCharacter(c), let n = name() else { throw error("unexpected '\(c)'") }
            if firstUse[n] == nil { firstUse[n] = start }
            return [.rule(rule(named: n))]
        }
    }

    /// An ASCII-only class is one byte-set terminal; any other class becomes a small UTF-8 lexeme.
    private mutating func classSymbol(_ ranges: [ClosedRange<UInt32>]) throws(ConstraintError) -> Grammar.Symbol {
        if let last = ranges.last, last.upperBound < 0x80 {
            var set = ByteSet()
            for r in ranges { for v in r { set.insert(UInt8(v)) } }
            return .bytes(set)
        }
        if ranges.isEmpty { return .bytes(ByteSet()) }
        return lexeme(try RegexLexeme(node: .scalars(ranges), search: false), .scalars(ranges))
    }

    private mutating func lexeme(_ l: RegexLexeme, _ node: RegexNode) -> Grammar.Symbol {
        let symbol = builder.lexeme(l)
        if case .lexeme(let index) = symbol { lexemeNodes[index] = (node, node.depth, l.nfaStateCount) }
        return symbol
    }

    /// One character of a literal or class, with GBNF escapes.
    private mutating func character() throws(ConstraintError) -> Unicode.Scalar {
        let c = peek!
        position += 1
        guard c == "\\" else { return c }
        guard let e = peek else { throw error("'\\' at end of grammar") }
        position += 1
        switch e {
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "\\", "\"", "[", "]", "-", "/": return e
        case "x", "u", "U":
            let count = e == "x" ? 2 : e == "u" ? 4 : 8
            var v: UInt32 = 0
            for _ in 0..<count {
                guard let h = peek, let d = h.hexDigitValue else { throw error("invalid \\\(e) escape") }
                v = v * 16 + UInt32(d)
                position += 1
            }
            guard let s = Unicode.Scalar(v) else { throw error("\\\(e) escape is not a Unicode scalar") }
            return s
        default:
            throw error("unknown escape '\\\(e)'")
        }
    }
}

extension Grammar {
    /// Parses a grammar in the GBNF-compatible dialect of `docs/constraints.md`.
    /// - Parameters:
    ///   - source: the grammar text.
    ///   - root: the start rule's name.
    /// - Returns: the grammar.
    /// - Throws: `ConstraintError` (`invalidGrammar` with `line:column`, or `unsupportedRegexFeature`).
    public static func parse(_ source: String, root: String = "root") throws(ConstraintError) -> Grammar {
        try GrammarParser.parse(source, root: root)
    }

    /// A grammar matching exactly the strings a regex matches as a whole.
    /// - Parameter pattern: ECMAScript regex syntax (see `RegexParser` for what is refused).
    /// - Returns: a one-lexeme grammar.
    /// - Throws: `ConstraintError` for malformed or unsupported patterns.
    public static func regex(_ pattern: String) throws(ConstraintError) -> Grammar {
        var builder = GrammarBuilder()
        let root = builder.newRule("root")
        builder.add(root, [builder.lexeme(try RegexLexeme(pattern: pattern, search: false))])
        return builder.build(root: root)
    }

    /// A lexical constraint: any text (valid UTF-8) that contains every phrase, so EOS stays masked
    /// until all have appeared (the `constrain.phrases` behaviour). One lexeme: the intersection of
    /// one search automaton per phrase.
    /// - Parameter phrases: the phrases that must appear (in any order, possibly overlapping).
    /// - Returns: a one-lexeme grammar.
    /// - Throws: `ConstraintError` if a phrase's automaton would be too large.
    public static func phrases(_ phrases: [String]) throws(ConstraintError) -> Grammar {
        var builder = GrammarBuilder()
        let root = builder.newRule("root")
        var parts: [any ByteLexeme] = [try RegexLexeme(node: .repetition(RegexNode.anyScalar, min: 0, max: nil), search: false)]
        for p in phrases { parts.append(try RegexLexeme(node: .literal(p), search: true)) }
        builder.add(root, [builder.lexeme(parts.count == 1 ? parts[0] : IntersectionLexeme(parts))])
        return builder.build(root: root)
    }

    /// The grammar of a JSON Schema's valid instances (see `JSONSchemaCompiler` for warnings).
    /// - Parameters:
    ///   - schema: the schema text.
    ///   - options: compile options.
    /// - Returns: the grammar.
    /// - Throws: `ConstraintError` naming the unsupported keyword and its JSON pointer.
    public static func jsonSchema(_ schema: String, options: JSONSchemaOptions = .init()) throws(ConstraintError) -> Grammar {
        try JSONSchemaCompiler.compile(text: schema, options: options).grammar
    }
}
