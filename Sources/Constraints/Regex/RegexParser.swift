/// Parses the ECMAScript regex subset that JSON Schema `pattern` uses (ECMA-262 syntax, Unicode
/// scalar semantics as with the `u` flag), refusing what a finite automaton cannot express exactly.
///
/// Refused with `unsupportedRegexFeature`: backreferences (`\1`, `\k<name>`), lookahead and
/// lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), word-boundary assertions (`\b`, `\B`), and Unicode
/// property escapes (`\p{…}`).
struct RegexParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    /// The most a bounded repetition may count; larger bounds would unroll into a huge automaton.
    /// 1000 covers the JSON-Schema-Test-Suite and typical `{m,n}` in real schemas.
    static let maxRepetitionBound = 1000
    /// The deepest group nesting accepted. The parser, the NFA construction and the fingerprint recurse
    /// once per level, so an unbounded depth (`((((…))))` 10,000 deep) would overflow the stack; 64
    /// is far beyond hand-written patterns (the YAML reader's limit too) and keeps a parsed tree
    /// within `RegexNode.maxDepth` (a group adds at most three levels: alternation, sequence, repetition).
    static let maxNesting = 64
    private var nesting = 0

    init(_ pattern: String) { scalars = Array(pattern.unicodeScalars) }

    /// Parses a whole pattern.
    static func parse(_ pattern: String) throws(ConstraintError) -> RegexNode {
        var parser = RegexParser(pattern)
        let node = try parser.alternation()
        if parser.position < parser.scalars.count {
            throw parser.error(.invalidRegex, "unmatched ')'")
        }
        return node
    }

    private func error(_ code: ConstraintError.Code, feature: String? = nil, _ message: String) -> ConstraintError {
        ConstraintError(code, at: "regex:\(position)", feature: feature, message)
    }

    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private mutating func alternation() throws(ConstraintError) -> RegexNode {
        var branches = [try sequence()]
        while peek == "|" {
            position += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws(ConstraintError) -> RegexNode {
        var parts: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            var atom = try self.atom()
            atom = try quantified(atom)
            parts.append(atom)
        }
        return parts.count == 1 ? parts[0] : .sequence(parts)
    }

    /// At most one quantifier (and its lazy `?`) per atom: ECMA-262's grammar has `Atom Quantifier`
    /// only, so `a**` or `a{2}{3}` is a syntax error ("nothing to repeat"), as in JavaScript.
    private mutating func quantified(_ atom: RegexNode) throws(ConstraintError) -> RegexNode {
        guard let c = peek else { return atom }
        var minCount = 0, maxCount: Int? = nil
        if let bounds = c.quantifierBounds {
            position += 1
            (minCount, maxCount) = bounds
        } else if c == "{", let (lo, hi, length) = boundedQuantifier() {
            position += length
            minCount = lo
            maxCount = hi
        } else {
            return atom
        }
        if case .startAnchor = atom { throw error(.invalidRegex, "nothing to repeat") }
        if case .endAnchor = atom { throw error(.invalidRegex, "nothing to repeat") }
        if let maxCount, maxCount < minCount { throw error(.invalidRegex, "numbers out of order in {} quantifier") }
        if minCount > Self.maxRepetitionBound || (maxCount ?? 0) > Self.maxRepetitionBound {
            throw error(.unsupportedRegexFeature, feature: "repetition bound",
                        "repetition bounds above \(Self.maxRepetitionBound) are not supported")
        }
        if peek == "?" { position += 1 }   // lazy quantifier: same language
        if let next = peek, next == "*" || next == "+" || next == "?" || (next == "{" && boundedQuantifier() != nil) {
            throw error(.invalidRegex, "nothing to repeat: '\(next)' follows a quantifier")
        }
        return .repetition(atom, min: minCount, max: maxCount)
    }

    /// `{n}`, `{n,}`, `{n,m}` at the current position: (min, max, length), or nil when the brace is
    /// a literal (ECMAScript Annex B).
    private func boundedQuantifier() -> (Int, Int?, Int)? {
        var i = position + 1
        func number() -> Int? {
            var value = 0, digits = 0
            while i < scalars.count, let d = Int(String(scalars[i])), scalars[i].isASCII {
                value = min(value * 10 + d, Int(Int32.max))
                digits += 1
                i += 1
            }
            return digits > 0 ? value : nil
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if i < scalars.count, scalars[i] == "," {
            i += 1
            hi = number()
        }
        guard i < scalars.count, scalars[i] == "}" else { return nil }
        return (lo, hi, i + 1 - position)
    }

    private mutating func atom() throws(ConstraintError) -> RegexNode {
        let c = peek!
        switch c {
        case "(":
            if nesting == Self.maxNesting {
                throw error(.invalidRegex, "groups nested deeper than \(Self.maxNesting) (limit \(Self.maxNesting)); flatten the pattern")
            }
            nesting += 1
            defer { nesting -= 1 }
            position += 1
            if peek == "?" {
                switch (peek(1), peek(2)) {
                case (":", _): position += 2
                case ("=", _), ("!", _):
                    throw error(.unsupportedRegexFeature, feature: "lookahead", "lookahead assertions are not supported")
                case ("<", "="), ("<", "!"):
                    throw error(.unsupportedRegexFeature, feature: "lookbehind", "lookbehind assertions are not supported")
                case ("<", _):
                    position += 2
                    while let n = peek, n != ">" { position += 1 }
                    guard peek == ">" else { throw error(.invalidRegex, "unterminated group name") }
                    position += 1
                default:
                    throw error(.invalidRegex, "invalid group")
                }
            }
            let inner = try alternation()
            guard peek == ")" else { throw error(.invalidRegex, "missing ')'") }
            position += 1
            return inner
        case ")":
            throw error(.invalidRegex, "unmatched ')'")
        case "[":
            return try characterClass()
        case ".":
            position += 1
            return .scalars(ScalarRanges.complement(ScalarRanges.lineTerminators))
        case "^":
            position += 1
            return .startAnchor
        case "$":
            position += 1
            return .endAnchor
        case "*", "+", "?":
            throw error(.invalidRegex, "nothing to repeat")
        case "{":
            if boundedQuantifier() != nil { throw error(.invalidRegex, "nothing to repeat") }
            throw error(.invalidRegex, "lone '{' (write \\{ for the character)")
        case "]", "}":
            // With the `u` flag these are syntax errors, not literals (ECMA-262 Annex B applies
            // only without it), so an unbalanced bracket is caught rather than matched.
            throw error(.invalidRegex, "unmatched '\(c)' (write \\\(c) for the character)")
        case "\\":
            position += 1
            return try atomEscape()
        default:
            position += 1
            return .scalars([c.value...c.value])
        }
    }

    private mutating func atomEscape() throws(ConstraintError) -> RegexNode {
        guard let c = peek else { throw error(.invalidRegex, "\\ at end of pattern") }
        switch c {
        case "b", "B":
            throw error(.unsupportedRegexFeature, feature: "word boundary",
                        "word-boundary assertions (\\b, \\B) are not supported")
        case "1"..."9":
            throw error(.unsupportedRegexFeature, feature: "backreference", "backreferences are not supported")
        case "k":
            if peek(1) == "<" {
                throw error(.unsupportedRegexFeature, feature: "backreference", "backreferences are not supported")
            }
        default:
            break
        }
        return .scalars(try classEscape(inClass: false))
    }

    /// An escape valid both inside and outside classes; the backslash is already consumed.
    private mutating func classEscape(inClass: Bool) throws(ConstraintError) -> [ClosedRange<UInt32>] {
        guard let c = peek else { throw error(.invalidRegex, "\\ at end of pattern") }
        position += 1
        func one(_ v: UInt32) -> [ClosedRange<UInt32>] { [v...v] }
        switch c {
        case "d": return ScalarRanges.digit
        case "D": return ScalarRanges.complement(ScalarRanges.digit)
        case "w": return ScalarRanges.word
        case "W": return ScalarRanges.complement(ScalarRanges.word)
        case "s": return ScalarRanges.space
        case "S": return ScalarRanges.complement(ScalarRanges.normalize(ScalarRanges.space))
        case "t": return one(0x09)
        case "n": return one(0x0A)
        case "v": return one(0x0B)
        case "f": return one(0x0C)
        case "r": return one(0x0D)
        case "b" where inClass: return one(0x08)
        case "0":
            if let d = peek, ("0"..."9").contains(d) {
                throw error(.unsupportedRegexFeature, feature: "octal escape", "octal escapes are not supported")
            }
            return one(0)
        case "c":
            guard let l = peek, l.isASCII, l.properties.isAlphabetic else {
                throw error(.invalidRegex, "\\c must be followed by a letter A-Z or a-z")
            }
            position += 1
            return one(l.value % 32)
        case "x":
            guard let v = hex(count: 2) else { throw error(.invalidRegex, "invalid \\x escape") }
            return one(v)
        case "u":
            if peek == "{" {
                position += 1
                var v: UInt32 = 0, digits = 0
                while let h = peek, let d = h.hexDigitValue {
                    v = v * 16 + UInt32(d)
                    digits += 1
                    position += 1
                    if v > 0x10FFFF { throw error(.invalidRegex, "\\u{…} escape above U+10FFFF") }
                }
                guard digits > 0, peek == "}" else { throw error(.invalidRegex, "invalid \\u{…} escape") }
                position += 1
                return one(v)
            }
            guard let v = hex(count: 4) else { throw error(.invalidRegex, "invalid \\u escape") }
            if (0xD800...0xDBFF).contains(v), peek == "\\", peek(1) == "u" {
                let save = position
                position += 2
                if let low = hex(count: 4), (0xDC00...0xDFFF).contains(low) {
                    return one(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))
                }
                position = save
            }
            if (0xD800...0xDFFF).contains(v) {
                throw error(.unsupportedRegexFeature, feature: "lone surrogate",
                            "a lone surrogate \\u escape matches no Unicode scalar")
            }
            return one(v)
        case "p", "P":
            throw error(.unsupportedRegexFeature, feature: "Unicode property escape",
                        "Unicode property escapes (\\p{…}) are not supported")
        default:
            if c.properties.isAlphabetic && c.isASCII {
                throw error(.invalidRegex, "unknown escape '\\\(c)'")
            }
            return one(c.value)
        }
    }

    private mutating func hex(count: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in 0..<count {
            guard let h = peek(k), let d = h.hexDigitValue else { return nil }
            v = v * 16 + UInt32(d)
        }
        position += count
        return v
    }

    private mutating func characterClass() throws(ConstraintError) -> RegexNode {
        position += 1
        var negated = false
        if peek == "^" { negated = true; position += 1 }
        var ranges: [ClosedRange<UInt32>] = []
        while let c = peek, c != "]" {
            let first = try classAtom()
            if peek == "-", let after = peek(1), after != "]" {
                position += 1
                let second = try classAtom()
                guard first.count == 1, second.count == 1, first[0].lowerBound == first[0].upperBound,
                      second[0].lowerBound == second[0].upperBound else {
                    // A class escape such as \d at a range end makes '-' literal (Annex B).
                    ranges += first + second + [0x2D...0x2D]
                    continue
                }
                guard first[0].lowerBound <= second[0].lowerBound else {
                    throw error(.invalidRegex, "range out of order in character class")
                }
                ranges.append(first[0].lowerBound...second[0].lowerBound)
            } else {
                ranges += first
            }
            _ = c
        }
        guard peek == "]" else { throw error(.invalidRegex, "missing ']'") }
        position += 1
        let set = ScalarRanges.normalize(ranges)
        return .scalars(negated ? ScalarRanges.complement(set) : set)
    }

    private mutating func classAtom() throws(ConstraintError) -> [ClosedRange<UInt32>] {
        let c = peek!
        position += 1
        if c == "\\" { return try classEscape(inClass: true) }
        return [c.value...c.value]
    }
}

extension Unicode.Scalar {
    /// The bounds of the one-character quantifiers `*`, `+`, `?` (regex and GBNF alike), or nil.
    var quantifierBounds: (min: Int, max: Int?)? {
        switch self {
        case "*": return (0, nil)
        case "+": return (1, nil)
        case "?": return (0, 1)
        default: return nil
        }
    }

    /// The value of a hexadecimal digit, or nil.
    var hexDigitValue: Int? {
        switch value {
        case 0x30...0x39: return Int(value - 0x30)
        case 0x41...0x46: return Int(value - 0x41 + 10)
        case 0x61...0x66: return Int(value - 0x61 + 10)
        default: return nil
        }
    }
}
