/// A regular expression the engine cannot parse, with where and why.
struct RegexSyntaxError: Error {
    var message: String
}

/// A small backtracking regular-expression engine for the patterns `tokenizer.json` files carry
/// (Oniguruma syntax as `tokenizers` compiles it): literals and escapes, `.`, classes with
/// ranges, negation and `\p{…}`/`\P{…}` general categories, `\s \d \w` and negations, groups
/// `(…)`, `(?:…)`, `(?i:…)`, look-ahead `(?=…)`/`(?!…)`, alternation (leftmost first), greedy and
/// lazy quantifiers `* + ? {n} {n,} {n,m}`, anchors `^ $ \A \z \b \B`. Anything else is refused
/// with a `RegexSyntaxError` naming it. Matching runs on UTF-8 bytes, one Unicode scalar per
/// character. The common GPT-2 / Llama-3 / Qwen2 patterns never come here: `PatternScanner`
/// handles them with hand-written code.
final class Regex: Sendable {
    let source: String
    private let root: RegexNode

    init(_ pattern: String) throws {
        source = pattern
        var parser = RegexParser(Array(pattern.unicodeScalars))
        root = try parser.parseAll()
    }

    /// Calls `body` with each non-overlapping match, left to right (an empty match right after
    /// the previous match is skipped, as Oniguruma's iterator does).
    func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        var start = 0
        var lastEnd = -1
        while start <= text.count {
            var found: Range<Int>?
            var s = start
            while s <= text.count {
                var end = -1
                let m = RegexMatcher(text: text)
                if m.match(root, s, { e in end = e; return true }) {
                    found = s..<end
                    break
                }
                if s == text.count { break }
                s += scalarLength(leadByte: text[s])
            }
            guard let r = found else { return }
            if r.isEmpty, r.lowerBound == lastEnd {
                if r.lowerBound >= text.count { return }
                start = r.lowerBound + scalarLength(leadByte: text[r.lowerBound])
                continue
            }
            body(r)
            lastEnd = r.upperBound
            if r.isEmpty {
                if r.upperBound >= text.count { return }
                start = r.upperBound + scalarLength(leadByte: text[r.upperBound])
            } else {
                start = r.upperBound
            }
        }
    }
}

/// A set of characters: ranges, named classes, optionally negated and case-insensitive.
struct CharSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case category([Unicode.GeneralCategory])
        case whitespace, digit, word
        case negated(CharSet)
    }
    var items: [Item] = []
    var negated = false
    var caseInsensitive = false

    func contains(_ c: UInt32) -> Bool {
        var hit = containsExact(c)
        if !hit, caseInsensitive {
            for v in caseVariants(c) where v != c && containsExact(v) { hit = true; break }
        }
        return hit != negated
    }

    private func containsExact(_ c: UInt32) -> Bool {
        for item in items {
            switch item {
            case .range(let lo, let hi): if c >= lo && c <= hi { return true }
            case .category(let cats):
                if let s = Unicode.Scalar(c), cats.contains(s.properties.generalCategory) { return true }
            case .whitespace: if CharacterClass.isWhitespace(c) { return true }
            case .digit:
                if let s = Unicode.Scalar(c), s.properties.generalCategory == .decimalNumber { return true }
            case .word: if let s = Unicode.Scalar(c), CharacterClass.isWordCharacter(s) { return true }
            case .negated(let inner): if !inner.contains(c) { return true }
            }
        }
        return false
    }
}

/// Simple case variants of a character (lower, upper, and the folds Oniguruma applies to ASCII
/// letters: `ſ` ~ `s`, Kelvin sign ~ `k`, Ångström sign ~ `å`).
func caseVariants(_ c: UInt32) -> [UInt32] {
    guard let s = Unicode.Scalar(c) else { return [c] }
    var out: [UInt32] = [c]
    for m in [s.properties.lowercaseMapping, s.properties.uppercaseMapping] {
        let scalars = Array(m.unicodeScalars)
        if scalars.count == 1 { out.append(scalars[0].value) }
    }
    switch c {
    case 0x73, 0x53: out.append(0x17F)
    case 0x17F: out += [0x73, 0x53]
    case 0x6B, 0x4B: out.append(0x212A)
    case 0x212A: out += [0x6B, 0x4B]
    case 0xE5, 0xC5: out.append(0x212B)
    case 0x212B: out += [0xE5, 0xC5]
    default: break
    }
    return out
}

indirect enum RegexNode: Sendable {
    case empty
    case set(CharSet)
    case any
    case sequence([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int, greedy: Bool)
    case look(RegexNode, negated: Bool)
    case lineStart, lineEnd, textStart, textEnd
    case wordBoundary(negated: Bool)

    /// Whether the node matches exactly one character (repetitions of it need no recursion).
    var singleCharacter: Bool {
        switch self {
        case .set, .any: return true
        default: return false
        }
    }
}

/// Continuation-passing backtracking matcher over one text.
struct RegexMatcher {
    let text: UnsafeBufferPointer<UInt8>

    /// The character at `i` and its length, or nil at the end.
    @inline(__always)
    func char(at i: Int) -> (UInt32, Int)? {
        i < text.count ? decodeScalar(text, i) : nil
    }

    func matchOne(_ node: RegexNode, _ i: Int) -> Int? {
        guard let (c, n) = char(at: i) else { return nil }
        switch node {
        case .set(let s): return s.contains(c) ? i + n : nil
        case .any: return c == 0x0A ? nil : i + n
        default: return nil
        }
    }

    func isWord(at i: Int) -> Bool {
        guard let (c, _) = char(at: i), let s = Unicode.Scalar(c) else { return false }
        return CharacterClass.isWordCharacter(s)
    }

    func isWordBefore(_ i: Int) -> Bool {
        guard i > 0 else { return false }
        var k = i - 1
        while k > 0, text[k] & 0xC0 == 0x80 { k -= 1 }
        return isWord(at: k)
    }

    func match(_ node: RegexNode, _ i: Int, _ k: (Int) -> Bool) -> Bool {
        switch node {
        case .empty:
            return k(i)
        case .set, .any:
            guard let j = matchOne(node, i) else { return false }
            return k(j)
        case .sequence(let nodes):
            return matchSequence(nodes, 0, i, k)
        case .alternation(let options):
            for o in options where match(o, i, k) { return true }
            return false
        case .repetition(let inner, let lo, let hi, let greedy):
            if inner.singleCharacter {
                var ends = [i]
                var j = i
                while ends.count - 1 < hi, let next = matchOne(inner, j) {
                    j = next
                    ends.append(j)
                }
                guard ends.count - 1 >= lo else { return false }
                if greedy {
                    for e in ends[lo...].reversed() where k(e) { return true }
                } else {
                    for e in ends[lo...] where k(e) { return true }
                }
                return false
            }
            return matchRepeat(inner, lo, hi, greedy, 0, i, k)
        case .look(let inner, let negated):
            let found = match(inner, i) { _ in true }
            return found != negated ? k(i) : false
        case .lineStart:
            return (i == 0 || text[i - 1] == 0x0A) ? k(i) : false
        case .lineEnd:
            return (i == text.count || text[i] == 0x0A) ? k(i) : false
        case .textStart:
            return i == 0 ? k(i) : false
        case .textEnd:
            return i == text.count ? k(i) : false
        case .wordBoundary(let negated):
            let boundary = isWordBefore(i) != isWord(at: i)
            return boundary != negated ? k(i) : false
        }
    }

    private func matchSequence(_ nodes: [RegexNode], _ index: Int, _ i: Int, _ k: (Int) -> Bool) -> Bool {
        if index == nodes.count { return k(i) }
        return match(nodes[index], i) { j in matchSequence(nodes, index + 1, j, k) }
    }

    private func matchRepeat(_ inner: RegexNode, _ lo: Int, _ hi: Int, _ greedy: Bool, _ count: Int,
                             _ i: Int, _ k: (Int) -> Bool) -> Bool {
        let canStop = count >= lo
        let canGo = count < hi
        if !greedy, canStop, k(i) { return true }
        if canGo {
            // An iteration that consumes nothing cannot lead anywhere new.
            let advanced = match(inner, i) { j in
                j != i && matchRepeat(inner, lo, hi, greedy, count + 1, j, k)
            }
            if advanced { return true }
        }
        if greedy, canStop { return k(i) }
        return false
    }
}

/// Recursive-descent parser of the supported syntax.
struct RegexParser {
    let s: [Unicode.Scalar]
    var i = 0
    var caseInsensitive = false

    init(_ scalars: [Unicode.Scalar]) { s = scalars }

    mutating func parseAll() throws -> RegexNode {
        let node = try parseAlternation()
        if i < s.count { throw RegexSyntaxError(message: "unbalanced ')' at offset \(i)") }
        return node
    }

    var atEnd: Bool { i >= s.count }
    func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

    mutating func parseAlternation() throws -> RegexNode {
        var options = [try parseSequence()]
        while peek() == "|" {
            i += 1
            options.append(try parseSequence())
        }
        return options.count == 1 ? options[0] : .alternation(options)
    }

    mutating func parseSequence() throws -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != "|", c != ")" {
            var atom = try parseAtom()
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    mutating func parseQuantifiers(_ atom: RegexNode) throws -> RegexNode {
        var node = atom
        while let c = peek() {
            var lo = 0, hi = Int.max
            switch c {
            case "*": i += 1
            case "+": lo = 1; i += 1
            case "?": hi = 1; i += 1
            case "{":
                guard let (a, b, length) = braces() else { return node }
                lo = a; hi = b; i += length
            default: return node
            }
            var greedy = true
            if peek() == "?" { greedy = false; i += 1 } else if peek() == "+" {
                throw RegexSyntaxError(message: "possessive quantifiers are not supported (offset \(i))")
            }
            node = .repetition(node, min: lo, max: hi, greedy: greedy)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`, `{,m}` at the cursor: (min, max, characters consumed).
    func braces() -> (Int, Int, Int)? {
        var j = i + 1
        func number() -> Int? {
            var v: Int?
            while j < s.count, let d = s[j].properties.numericType == .decimal ? Int(String(s[j])) : nil {
                v = (v ?? 0) * 10 + d
                j += 1
            }
            return v
        }
        let a = number()
        if j < s.count, s[j] == "}" { return a.map { ($0, $0, j - i + 1) } }
        guard j < s.count, s[j] == "," else { return nil }
        j += 1
        let b = number()
        guard j < s.count, s[j] == "}", a != nil || b != nil else { return nil }
        return (a ?? 0, b ?? Int.max, j - i + 1)
    }

    mutating func parseAtom() throws -> RegexNode {
        let c = s[i]
        i += 1
        switch c {
        case "(":
            return try parseGroup()
        case "[":
            return .set(try parseClass())
        case ".":
            return .any
        case "^": return .lineStart
        case "$": return .lineEnd
        case "\\":
            return try parseEscape(inClass: false)
        case "*", "+", "?":
            throw RegexSyntaxError(message: "quantifier '\(c)' with nothing to repeat at offset \(i - 1)")
        default:
            return literal(c.value)
        }
    }

    func literal(_ v: UInt32) -> RegexNode {
        var set = CharSet(items: [.range(v, v)])
        set.caseInsensitive = caseInsensitive
        return .set(set)
    }

    mutating func parseGroup() throws -> RegexNode {
        let saved = caseInsensitive
        defer { caseInsensitive = saved }
        if peek() == "?" {
            i += 1
            guard let kind = peek() else { throw RegexSyntaxError(message: "unterminated group") }
            switch kind {
            case ":":
                i += 1
            case "=", "!":
                i += 1
                let inner = try parseAlternation()
                try expect(")")
                return .look(inner, negated: kind == "!")
            case "<":
                throw RegexSyntaxError(message: "look-behind and named groups are not supported (offset \(i))")
            default:
                // Inline flags: (?i) (?-i) (?i:…)
                var on = true
                var flags = caseInsensitive
                while let f = peek(), f != ":", f != ")" {
                    switch f {
                    case "-": on = false
                    case "i": flags = on
                    default: throw RegexSyntaxError(message: "inline flag '\(f)' is not supported (offset \(i))")
                    }
                    i += 1
                }
                if peek() == ")" {
                    // (?i) applies to the rest of the enclosing group.
                    i += 1
                    caseInsensitive = flags
                    let rest = try parseSequenceRest()
                    return rest
                }
                i += 1
                caseInsensitive = flags
            }
        }
        let inner = try parseAlternation()
        try expect(")")
        return inner
    }

    /// After `(?i)`: the rest of the current alternative and any further alternatives.
    mutating func parseSequenceRest() throws -> RegexNode {
        let node = try parseAlternation()
        // The caller's defer restores the flag; the group's ')' is left for the caller's caller.
        return node
    }

    mutating func expect(_ c: Unicode.Scalar) throws {
        guard peek() == c else { throw RegexSyntaxError(message: "expected '\(c)' at offset \(i)") }
        i += 1
    }

    mutating func parseClass() throws -> CharSet {
        var set = CharSet()
        set.caseInsensitive = caseInsensitive
        if peek() == "^" { set.negated = true; i += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw RegexSyntaxError(message: "unterminated character class") }
            if c == "]" && !first { i += 1; break }
            first = false
            if c == "[" {
                if peek(1) == ":" { throw RegexSyntaxError(message: "POSIX bracket classes are not supported (offset \(i))") }
                i += 1
                set.items.append(.negated(CharSet(items: [.negated(try parseClass())])))
                continue
            }
            if c == "&", peek(1) == "&" { throw RegexSyntaxError(message: "class intersection '&&' is not supported") }
            i += 1
            var low: UInt32
            if c == "\\" {
                let e = try parseEscape(inClass: true)
                guard case .set(let inner) = e else { throw RegexSyntaxError(message: "unsupported escape in class") }
                if inner.items.count == 1, case .range(let a, let b) = inner.items[0], a == b, !inner.negated {
                    low = a
                } else {
                    if inner.negated {
                        set.items.append(.negated(CharSet(items: inner.items)))
                    } else {
                        set.items.append(contentsOf: inner.items)
                    }
                    continue
                }
            } else {
                low = c.value
            }
            if peek() == "-", let next = peek(1), next != "]" {
                i += 2
                var high = next.value
                if next == "\\" {
                    let e = try parseEscape(inClass: true)
                    guard case .set(let inner) = e, inner.items.count == 1, case .range(let a, _) = inner.items[0] else {
                        throw RegexSyntaxError(message: "invalid range end in class")
                    }
                    high = a
                }
                guard high >= low else { throw RegexSyntaxError(message: "invalid range in class") }
                set.items.append(.range(low, high))
            } else {
                set.items.append(.range(low, low))
            }
        }
        return set
    }

    mutating func parseEscape(inClass: Bool) throws -> RegexNode {
        guard let c = peek() else { throw RegexSyntaxError(message: "pattern ends with '\\'") }
        i += 1
        func cls(_ item: CharSet.Item, negated: Bool = false) -> RegexNode {
            .set(CharSet(items: [item], negated: negated, caseInsensitive: false))
        }
        switch c {
        case "s": return cls(.whitespace)
        case "S": return cls(.whitespace, negated: true)
        case "d": return cls(.digit)
        case "D": return cls(.digit, negated: true)
        case "w": return cls(.word)
        case "W": return cls(.word, negated: true)
        case "p", "P":
            let cats = try parseProperty()
            return cls(.category(cats), negated: c == "P")
        case "n": return literal(0x0A)
        case "r": return literal(0x0D)
        case "t": return literal(0x09)
        case "f": return literal(0x0C)
        case "v": return literal(0x0B)
        case "a": return literal(0x07)
        case "e": return literal(0x1B)
        case "x", "u":
            return literal(try parseHex(braced: c == "x" ? nil : 4))
        case "A" where !inClass: return .textStart
        case "z" where !inClass, "Z" where !inClass: return .textEnd
        case "b" where !inClass: return .wordBoundary(negated: false)
        case "B" where !inClass: return .wordBoundary(negated: true)
        default:
            if c.properties.isAlphabetic || c.properties.numericType != nil {
                throw RegexSyntaxError(message: "escape '\\\(c)' is not supported (offset \(i - 1))")
            }
            return literal(c.value)
        }
    }

    mutating func parseHex(braced digits: Int?) throws -> UInt32 {
        var text = ""
        if digits == nil, peek() == "{" {
            i += 1
            while let c = peek(), c != "}" { text.unicodeScalars.append(c); i += 1 }
            try expect("}")
        } else {
            for _ in 0..<(digits ?? 2) {
                guard let c = peek() else { break }
                text.unicodeScalars.append(c)
                i += 1
            }
        }
        guard let v = UInt32(text, radix: 16), Unicode.Scalar(v) != nil else {
            throw RegexSyntaxError(message: "invalid hexadecimal escape '\(text)'")
        }
        return v
    }

    mutating func parseProperty() throws -> [Unicode.GeneralCategory] {
        var name = ""
        if peek() == "{" {
            i += 1
            while let c = peek(), c != "}" { name.unicodeScalars.append(c); i += 1 }
            try expect("}")
        } else if let c = peek() {
            name = String(c)
            i += 1
        }
        let table: [String: [Unicode.GeneralCategory]] = [
            "L": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter],
            "Lu": [.uppercaseLetter], "Ll": [.lowercaseLetter], "Lt": [.titlecaseLetter], "Lm": [.modifierLetter], "Lo": [.otherLetter],
            "M": [.nonspacingMark, .spacingMark, .enclosingMark], "Mn": [.nonspacingMark], "Mc": [.spacingMark], "Me": [.enclosingMark],
            "N": [.decimalNumber, .letterNumber, .otherNumber], "Nd": [.decimalNumber], "Nl": [.letterNumber], "No": [.otherNumber],
            "P": [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation],
            "Pc": [.connectorPunctuation], "Pd": [.dashPunctuation], "Ps": [.openPunctuation], "Pe": [.closePunctuation],
            "Pi": [.initialPunctuation], "Pf": [.finalPunctuation], "Po": [.otherPunctuation],
            "S": [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol], "Sm": [.mathSymbol], "Sc": [.currencySymbol],
            "Sk": [.modifierSymbol], "So": [.otherSymbol],
            "Z": [.spaceSeparator, .lineSeparator, .paragraphSeparator], "Zs": [.spaceSeparator], "Zl": [.lineSeparator], "Zp": [.paragraphSeparator],
            "C": [.control, .format, .surrogate, .privateUse, .unassigned], "Cc": [.control], "Cf": [.format], "Co": [.privateUse], "Cn": [.unassigned],
        ]
        let aliases = ["Letter": "L", "Number": "N", "Punctuation": "P", "Symbol": "S", "Mark": "M", "Separator": "Z", "Other": "C"]
        guard let cats = table[aliases[name] ?? name] else {
            throw RegexSyntaxError(message: "Unicode property '\\p{\(name)}' is not supported")
        }
        return cats
    }
}
