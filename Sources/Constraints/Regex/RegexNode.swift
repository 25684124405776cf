/// A parsed regular expression over Unicode scalars, before it is compiled to a byte automaton.
indirect enum RegexNode: Sendable {
    /// Matches the empty string.
    case empty
    /// One scalar from sorted, disjoint, non-adjacent ranges (an empty list matches nothing).
    case scalars([ClosedRange<UInt32>])
    /// The parts one after another.
    case sequence([RegexNode])
    /// Any one of the branches.
    case alternation([RegexNode])
    /// The body between `min` and `max` times (`nil`: unbounded).
    case repetition(RegexNode, min: Int, max: Int?)
    /// `^`: only at the start of the input (no multiline mode in JSON Schema patterns).
    case startAnchor
    /// `$`: only at the end of the input.
    case endAnchor
    /// One raw byte from the set (grammar byte terminals folded into a lexeme).
    case bytes(ByteSet)

    /// The deepest tree accepted anywhere a tree is built (`RegexParser`, grammar folding): the NFA
    /// construction, `fingerprint` and `ByteNFA.minLength` recurse once per level, so the bound keeps
    /// them within any thread's stack (a level costs a few hundred bytes; 512 KB Dispatch stacks
    /// hold thousands). Deeper folded rules stay grammar rules.
    static let maxDepth = 256

    /// The depth of the tree (a leaf is 1).
    var depth: Int {
        switch self {
        case .empty, .scalars, .startAnchor, .endAnchor, .bytes: return 1
        case .sequence(let parts), .alternation(let parts): return 1 + (parts.map(\.depth).max() ?? 0)
        case .repetition(let body, _, _): return 1 + body.depth
        }
    }

    /// Every Unicode scalar value (surrogates excluded: they are not scalars and have no UTF-8 form).
    static let anyScalar = RegexNode.scalars([0...0xD7FF, 0xE000...0x10FFFF])

    /// A compact, unambiguous description of the tree (every list is prefixed by its length), for
    /// lexeme-mask fingerprints: built by hand because `String(reflecting:)` goes through runtime
    /// reflection and cost ~0.9 ms for a date-time format's tree, paid on the mask that first met it.
    var fingerprint: String {
        var out = ""
        appendFingerprint(to: &out)
        return out
    }

    private func appendFingerprint(to out: inout String) {
        switch self {
        case .empty: out += "e"
        case .scalars(let ranges):
            out += "s\(ranges.count):"
            for r in ranges { out += "\(r.lowerBound)-\(r.upperBound)," }
        case .sequence(let parts), .alternation(let parts):
            if case .sequence = self { out += "q" } else { out += "a" }
            out += "\(parts.count)("
            for p in parts { p.appendFingerprint(to: &out) }
            out += ")"
        case .repetition(let body, let min, let max):
            out += "r\(min),\(max.map(String.init) ?? "*")("
            body.appendFingerprint(to: &out)
            out += ")"
        case .startAnchor: out += "^"
        case .endAnchor: out += "$"
        case .bytes(let set):
            out += "b\(set.count):"
            set.forEach { out += "\($0)," }
        }
    }

    /// The literal string `text`.
    static func literal(_ text: String) -> RegexNode {
        .sequence(text.unicodeScalars.map { .scalars([$0.value...$0.value]) })
    }
}

/// Range-set helpers for character classes.
enum ScalarRanges {
    /// Sorts and merges overlapping or adjacent ranges, removing surrogates.
    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return subtract(out, 0xD800...0xDFFF)
    }

    /// The scalars not in `ranges` (which must be normalized).
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return subtract(out, 0xD800...0xDFFF)
    }

    private static func subtract(_ ranges: [ClosedRange<UInt32>], _ hole: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for r in ranges {
            if r.upperBound < hole.lowerBound || r.lowerBound > hole.upperBound { out.append(r); continue }
            if r.lowerBound < hole.lowerBound { out.append(r.lowerBound...(hole.lowerBound - 1)) }
            if r.upperBound > hole.upperBound { out.append((hole.upperBound + 1)...r.upperBound) }
        }
        return out
    }

    /// `\d` in ECMAScript.
    static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    /// `\w` in ECMAScript (ASCII only, also with the `u` flag).
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    /// `\s` in ECMAScript: WhiteSpace and LineTerminator code points (ECMA-262 §22.2.2.9).
    static let space: [ClosedRange<UInt32>] = [0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680,
                                                0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
                                                0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF]
    /// What `.` does not match: the ECMAScript line terminators.
    static let lineTerminators: [ClosedRange<UInt32>] = [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]
}
