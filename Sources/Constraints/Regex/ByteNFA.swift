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

    /// A run of identical copies of a repetition's body, unrolled for a bound: copy `k` is the states
    /// `first + k * stride ..< first + (k + 1) * stride`, and its edges are copy 0's shifted by
    /// `k * stride`, except that the last copy leads out of the run.
    struct Counter {
        var first: Int32
        var stride: Int32
        var copies: Int32
    }

    private(set) var states: [State] = []
    private(set) var start: Int32 = 0
    private(set) var accept: Int32 = 0
    /// The unrolled runs whose body reads at least one byte, outermost (largest) first.
    private(set) var counters: [Counter] = []
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
        counters.sort { $0.stride * $0.copies > $1.stride * $1.copies }
    }

    /// A state that reads every string of at most `horizon` bytes as `state` does: a state in a copy
    /// of a counted body far from the run's end is moved to the copy `horizon + 4` before the end.
    ///
    /// Why that is exact: a body reads at least one byte, so `horizon` bytes cross at most `horizon`
    /// copy boundaries, and a run from copy `j` touches copies `j…j + horizon + 1` only; shifting by
    /// whole copies maps those runs one-to-one onto runs from the target copy with the same bytes,
    /// edges leaving the counter and acceptance, as long as neither run reaches the last copy.
    func canonical(_ state: Int32, horizon: Int) -> Int32 {
        var x = state
        var moved = true
        while moved {
            moved = false
            for c in counters where x >= c.first && x < c.first + c.stride * c.copies {
                let copy = (x - c.first) / c.stride
                let target = c.copies - Int32(horizon) - 4
                if copy < target {
                    x += (target - copy) * c.stride
                    moved = true
                    break
                }
            }
        }
        return x
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
            let required = Int32(states.count)
            for _ in 0..<minCount { at = try build(body, from: at) }
            recordCounter(body, first: required, copies: minCount)
            if let maxCount {
                let to = newState()
                let optional = Int32(states.count)
                for _ in minCount..<maxCount {
                    states[Int(at)].epsilon.append(to)
                    let s = newState()
                    states[Int(at)].epsilon.append(s)
                    at = try build(body, from: s)
                }
                states[Int(at)].epsilon.append(to)
                recordCounter(body, first: optional, copies: maxCount - minCount)
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

    /// Records `copies` copies of `body` built from state `first` on as a counter, when they can be
    /// shifted (`canonical`): the body reads at least one byte and there are copies to share.
    private mutating func recordCounter(_ body: RegexNode, first: Int32, copies: Int) {
        let created = Int32(states.count) - first
        guard copies > 1, created > 0, created % Int32(copies) == 0, Self.minLength(body) > 0 else { return }
        counters.append(Counter(first: first, stride: created / Int32(copies), copies: Int32(copies)))
    }

    /// The fewest bytes a match of `node` reads.
    static func minLength(_ node: RegexNode) -> Int {
        switch node {
        case .empty, .startAnchor, .endAnchor: return 0
        case .bytes, .scalars: return 1
        case .sequence(let parts): return parts.reduce(0) { $0 + minLength($1) }
        case .alternation(let branches): return branches.map(minLength).min() ?? 1
        case .repetition(let body, let minCount, _): return minCount == 0 ? 0 : minCount * minLength(body)
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
