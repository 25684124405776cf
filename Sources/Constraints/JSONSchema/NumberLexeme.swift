/// A JSON number between bounds (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`),
/// optionally integral, as a lexeme.
///
/// A state is an interned prefix of the number's text. A byte is allowed only when the new prefix is
/// valid number syntax *and* some completion of it lies within the bounds, decided exactly with
/// decimal interval arithmetic: a prefix such as `12` can still become any value in `[12, 13)` (by
/// adding a fraction) or in `[120, 130)`, `[1200, 1300)`, … (by adding digits). Exponent notation is not generated or accepted
/// under bounds (it would make every prefix live); numbers that need it are rejected, never accepted
/// wrongly.
final class NumberLexeme: ByteLexeme {
    struct Bound {
        var value: DecimalNumber
        var exclusive: Bool
    }

    private let lower: Bound?
    private let upper: Bound?
    private let integerOnly: Bool
    private var prefixes: [[UInt8]] = [[]]
    private var accepting: [Bool] = [false]
    /// States whose every completion is within the bounds: only syntax matters from there on, so they
    /// are shared by syntax phase (their prefix is a representative like `1.`), which keeps the state
    /// count — and the mask cache — small under one-sided bounds.
    private var free: [Bool] = [false]
    private var index: [[UInt8]: Int32] = [[]: 0]
    private var transitions: [Int: Int32] = [:]
    let startState: Int32 = 0

    init(lower: Bound?, upper: Bound?, integerOnly: Bool) {
        self.lower = lower
        self.upper = upper
        self.integerOnly = integerOnly
    }

    /// The bounds and integrality (see `ByteLexeme`).
    var maskFingerprint: String? {
        func text(_ b: Bound?) -> String { b.map { "\($0.value)\($0.exclusive ? "x" : "")" } ?? "none" }
        return "number(\(text(lower)), \(text(upper)), integer: \(integerOnly))"
    }

    /// Whether the state is free, then its prefix's bytes: its interning key (see `ByteLexeme`); every
    /// state is its own class.
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        [free[Int(state)] ? 1 : 0] + prefixes[Int(state)].map(Int32.init)
    }

    /// Whether any number at all satisfies the bounds (else the type is impossible).
    var isSatisfiable: Bool { live(Array("".utf8)) }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let key = Int(state) << 8 | Int(byte)
        if let cached = transitions[key] { return cached }
        var text = prefixes[Int(state)] + [byte]
        var result: Int32 = -1
        if Self.isSyntaxPrefix(text, integerOnly: integerOnly) {
            var isFree = free[Int(state)]
            if isFree || live(text) {
                if !isFree && allCompletionsWithin(text) { isFree = true }
                if isFree { text = Self.representative(of: text) }
                let key = isFree ? [UInt8(ascii: "F")] + text : text
                if let id = index[key] {
                    result = id
                } else {
                    result = Int32(prefixes.count)
                    prefixes.append(text)
                    index[key] = result
                    free.append(isFree)
                    accepting.append(isFree ? (text.last.map { (0x30...0x39).contains($0) } ?? false) : isComplete(text))
                }
            }
        }
        transitions[key] = result
        return result
    }

    /// A short prefix in the same syntax phase: `1` (digits), `0`, `1.` (dot), `1.0` (fraction digits).
    private static func representative(of text: [UInt8]) -> [UInt8] {
        guard let last = text.last else { return [] }
        if last == UInt8(ascii: "-") { return [UInt8(ascii: "-")] }
        if let dot = text.firstIndex(of: UInt8(ascii: ".")) {
            return dot == text.count - 1 ? Array("1.".utf8) : Array("1.0".utf8)
        }
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text[...]
        return digits.first == UInt8(ascii: "0") ? Array("0".utf8) : Array("1".utf8)
    }

    /// Whether every completion of the prefix (including itself, when complete) is within the bounds.
    private func allCompletionsWithin(_ text: [UInt8]) -> Bool {
        guard let last = text.last, (0x30...0x39).contains(last) || last == UInt8(ascii: ".") else { return false }
        return reachable(text).allSatisfy { within($0) }
    }

    private func within(_ piece: Interval) -> Bool {
        if let lower {
            guard let lo = piece.lo else { return false }
            if lo < lower.value || (lo == lower.value && lower.exclusive && piece.loInclusive) { return false }
        }
        if let upper {
            guard let hi = piece.hi else { return false }
            if upper.value < hi || (hi == upper.value && upper.exclusive && piece.hiInclusive) { return false }
        }
        return true
    }

    func isAccepting(_ state: Int32) -> Bool { accepting[Int(state)] }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]*)?` prefixes; with `integerOnly` the fraction may only hold zeros.
    static func isSyntaxPrefix(_ text: [UInt8], integerOnly: Bool) -> Bool {
        var i = 0
        if i < text.count, text[i] == UInt8(ascii: "-") { i += 1 }
        if i == text.count { return true }
        guard (0x30...0x39).contains(text[i]) else { return false }
        let leadingZero = text[i] == UInt8(ascii: "0")
        i += 1
        while i < text.count, (0x30...0x39).contains(text[i]) {
            if leadingZero { return false }
            i += 1
        }
        if i == text.count { return true }
        guard text[i] == UInt8(ascii: ".") else { return false }
        i += 1
        while i < text.count {
            guard (0x30...0x39).contains(text[i]) else { return false }
            if integerOnly && text[i] != UInt8(ascii: "0") { return false }
            i += 1
        }
        return true
    }

    private func isComplete(_ text: [UInt8]) -> Bool {
        guard let last = text.last, (0x30...0x39).contains(last),
              let value = DecimalNumber(String(decoding: text, as: UTF8.self)) else { return false }
        return satisfies(value)
    }

    private func satisfies(_ v: DecimalNumber) -> Bool {
        if let lower, lower.exclusive ? !(lower.value < v) : v < lower.value { return false }
        if let upper, upper.exclusive ? !(v < upper.value) : upper.value < v { return false }
        return true
    }

    /// An interval of reals; `nil` ends are infinite.
    private struct Interval {
        var lo: DecimalNumber?
        var loInclusive: Bool
        var hi: DecimalNumber?
        var hiInclusive: Bool

        var negated: Interval { Interval(lo: hi?.negated, loInclusive: hiInclusive, hi: lo?.negated, hiInclusive: loInclusive) }
    }

    /// Whether some completion of the prefix is a number within the bounds.
    private func live(_ text: [UInt8]) -> Bool {
        reachable(text).contains { intersectsBounds($0) }
    }

    /// The values the prefix's completions can take, as intervals.
    private func reachable(_ text: [UInt8]) -> [Interval] {
        var negative = false
        var body = text[...]
        if body.first == UInt8(ascii: "-") { negative = true; body = body.dropFirst() }
        let s = String(decoding: body, as: UTF8.self)
        var pieces: [Interval] = []
        if s.isEmpty {
            // No digit yet: any number, or after '-' any non-positive one ([0, ∞) before negation).
            pieces = [negative ? Interval(lo: DecimalNumber("0"), loInclusive: true, hi: nil, hiInclusive: false)
                               : Interval(lo: nil, loInclusive: false, hi: nil, hiInclusive: false)]
        } else if let dot = s.firstIndex(of: ".") {
            let wholeText = String(s[..<dot]), fraction = String(s[s.index(after: dot)...])
            let base = DecimalNumber(fraction.isEmpty ? wholeText : wholeText + "." + fraction)!
            if integerOnly {
                pieces = [Interval(lo: base, loInclusive: true, hi: base, hiInclusive: true)]
            } else {
                pieces = [Interval(lo: base, loInclusive: true, hi: base.addingPowerOfTen(-fraction.count), hiInclusive: false)]
            }
        } else {
            let whole = DecimalNumber(s)!
            if integerOnly {
                pieces = [Interval(lo: whole, loInclusive: true, hi: whole, hiInclusive: true)]
            } else {
                pieces = [Interval(lo: whole, loInclusive: true, hi: whole.addingPowerOfTen(0), hiInclusive: false)]
            }
            if !whole.isZero {
                // Appending k ≥ 1 more digits gives [w·10^k, (w+1)·10^k): with a finite bound in the
                // direction the magnitude grows, each such k up to the bound is its own interval
                // (`12` under [135, 140] reaches [120, 130) and [1200, 1300), never 135), and one
                // interval [w·10^k, ∞) stands for everything beyond it; without one, that interval
                // from k = 1 covers all.
                let limit = negative ? lower.map { $0.value.negated } : upper?.value
                let next = whole.addingPowerOfTen(0)
                var k = 1
                while let limit, !(limit < whole.scaled(k)) {
                    pieces.append(Interval(lo: whole.scaled(k), loInclusive: true, hi: next.scaled(k), hiInclusive: false))
                    k += 1
                }
                pieces.append(Interval(lo: whole.scaled(k), loInclusive: true, hi: nil, hiInclusive: false))
            }
        }
        return negative ? pieces.map(\.negated) : pieces
    }

    private func intersectsBounds(_ piece: Interval) -> Bool {
        var lo = piece.lo, loInc = piece.loInclusive, hi = piece.hi, hiInc = piece.hiInclusive
        if let lower {
            if lo == nil || lo! < lower.value { lo = lower.value; loInc = !lower.exclusive } else if lo! == lower.value {
                loInc = loInc && !lower.exclusive
            }
        }
        if let upper {
            if hi == nil || upper.value < hi! { hi = upper.value; hiInc = !upper.exclusive } else if hi! == upper.value {
                hiInc = hiInc && !upper.exclusive
            }
        }
        if integerOnly {
            // The least integer in the interval, compared with its upper end.
            guard let l = lo else { return true }
            var n = l.floor
            if n < l || (n == l && !loInc) { n = n.isZero || !n.negative ? n.addingPowerOfTen(0) : n.negated.floorMinusOne.negated }
            guard let h = hi else { return true }
            return hiInc ? !(h < n) : n < h
        }
        guard let l = lo, let h = hi else { return true }
        return l < h || (l == h && loInc && hiInc)
    }
}

private extension DecimalNumber {
    /// `self · 10^k`.
    func scaled(_ k: Int) -> DecimalNumber { DecimalNumber(negative: negative, digits: digits, exponent: exponent + k) }

    /// `self - 1` for a positive integer (used to step a negative integer towards zero).
    var floorMinusOne: DecimalNumber {
        // self > 0 integer: subtract one digit-wise.
        var d = digits + [UInt8](repeating: 0, count: exponent)
        var i = d.count - 1
        while i >= 0 {
            if d[i] > 0 { d[i] -= 1; break }
            d[i] = 9
            i -= 1
        }
        return DecimalNumber(negative: false, digits: d, exponent: 0)
    }
}
