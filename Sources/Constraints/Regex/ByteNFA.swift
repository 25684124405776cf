/// A Thompson NFA over UTF-8 bytes, with `^`/`$` as positional assertion edges.
///
/// Character classes over scalars become byte-range chains using the standard split of a scalar range
/// into ranges whose UTF-8 encodings have the same length and share leading bytes.
struct ByteNFA {
    struct State {
        var byteEdges: [(lo: UInt8, hi: UInt8, to: Int32)] = []
        var epsilon: [Int32] = []
        /// Taken only at the start of the input (`^`).
        var atStart: [Int32] = []
        /// Taken only at the end of the input (`$`).
        var atEnd: [Int32] = []
    }

    private(set) var states: [State] = []
    private(set) var start: Int32 = 0
    private(set) var accept: Int32 = 0
    /// Bounds the automaton so a pattern like `(a{1000}){1000}` is refused rather than exhausting memory.
    static let maxStates = 200_000

    /// Compiles a regex; `search` wraps it in `[\s\S]*(…)[\s\S]*` (unanchored, as JSON Schema `pattern`).
    init(_ node: RegexNode, search: Bool) throws(ConstraintError) {
        let root: RegexNode = search
            ? .sequence([.repetition(RegexNode.anyScalar, min: 0, max: nil), node,
                         .repetition(RegexNode.anyScalar, min: 0, max: nil)])
            : node
        start = newState()
        accept = try build(root, from: start)
    }

    private mutating func newState() -> Int32 {
        states.append(State())
        return Int32(states.count - 1)
    }

    private mutating func build(_ node: RegexNode, from: Int32) throws(ConstraintError) -> Int32 {
        if states.count > Self.maxStates {
            throw ConstraintError(.unsupportedRegexFeature, at: "regex", feature: "automaton size",
                                  "the regex expands to more than \(Self.maxStates) automaton states")
        }
        switch node {
        case .empty:
            return from
        case .startAnchor:
            let to = newState()
            states[Int(from)].atStart.append(to)
            return to
        case .endAnchor:
            let to = newState()
            states[Int(from)].atEnd.append(to)
            return to
        case .bytes(let set):
            let to = newState()
            var b = 0
            while b < 256 {
                guard set.contains(UInt8(b)) else { b += 1; continue }
                var e = b
                while e + 1 < 256 && set.contains(UInt8(e + 1)) { e += 1 }
                states[Int(from)].byteEdges.append((UInt8(b), UInt8(e), to))
                b = e + 1
            }
            return to
        case .scalars(let ranges):
            let to = newState()
            for r in ranges {
                for sequence in Self.utf8Sequences(r.lowerBound, r.upperBound) {
                    var at = from
                    for (k, byteRange) in sequence.enumerated() {
                        let next = k == sequence.count - 1 ? to : newState()
                        states[Int(at)].byteEdges.append((byteRange.lowerBound, byteRange.upperBound, next))
                        at = next
                    }
                }
            }
            return to
        case .sequence(let parts):
            var at = from
            for p in parts { at = try build(p, from: at) }
            return at
        case .alternation(let branches):
            let to = newState()
            for b in branches {
                let s = newState()
                states[Int(from)].epsilon.append(s)
                let e = try build(b, from: s)
                states[Int(e)].epsilon.append(to)
            }
            return to
        case .repetition(let body, let minCount, let maxCount):
            var at = from
            for _ in 0..<minCount { at = try build(body, from: at) }
            if let maxCount {
                let to = newState()
                for _ in minCount..<maxCount {
                    states[Int(at)].epsilon.append(to)
                    let s = newState()
                    states[Int(at)].epsilon.append(s)
                    at = try build(body, from: s)
                }
                states[Int(at)].epsilon.append(to)
                return to
            }
            // Star: loop through a fresh state so the body's own edges stay separate.
            let loop = newState()
            states[Int(at)].epsilon.append(loop)
            let bodyEnd = try build(body, from: loop)
            states[Int(bodyEnd)].epsilon.append(loop)
            let to = newState()
            states[Int(loop)].epsilon.append(to)
            return to
        }
    }

    /// The UTF-8 byte-range sequences matching exactly the scalars in `lo...hi` (no surrogates).
    static func utf8Sequences(_ lo: UInt32, _ hi: UInt32) -> [[ClosedRange<UInt8>]] {
        // Split at encoding-length boundaries first.
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where lo <= boundary && hi > boundary {
            return utf8Sequences(lo, boundary) + utf8Sequences(boundary + 1, hi)
        }
        if hi < 0x80 { return [[UInt8(lo)...UInt8(hi)]] }
        // Split until lo and hi differ only in a suffix of whole continuation bytes that span 0x80...0xBF.
        let length = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4
        for i in 1..<length {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 { return utf8Sequences(lo, lo | m) + utf8Sequences((lo | m) + 1, hi) }
                if hi & m != m { return utf8Sequences(lo, (hi & ~m) - 1) + utf8Sequences(hi & ~m, hi) }
            }
        }
        let a = encode(lo), b = encode(hi)
        return [zip(a, b).map { $0...$1 }]
    }

    private static func encode(_ v: UInt32) -> [UInt8] {
        switch v {
        case 0..<0x80: return [UInt8(v)]
        case 0x80..<0x800: return [UInt8(0xC0 | v >> 6), UInt8(0x80 | v & 0x3F)]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | v >> 12), UInt8(0x80 | (v >> 6) & 0x3F), UInt8(0x80 | v & 0x3F)]
        default:
            return [UInt8(0xF0 | v >> 18), UInt8(0x80 | (v >> 12) & 0x3F), UInt8(0x80 | (v >> 6) & 0x3F),
                    UInt8(0x80 | v & 0x3F)]
        }
    }
}
