/// A JSON number between bounds (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`),
/// optionally integral, as a lexeme.
///
/// A state is an interned prefix of the number's text. A byte is allowed only when the new prefix is
/// valid number syntax *and* some completion of it lies within the bounds, decided exactly with
/// decimal interval arithmetic: a prefix such as `12` can still become any value in `[12, 13)` (by
/// adding a fraction) or in `[120, 130)`, `[1200, 1300)`, … (by adding digits).
///
/// Exponents are exact too. Before the `e`, a mantissa prefix fixes the leading significant digits
/// `s` of the value and a range of magnitudes (`12` → any value `0.12…·10^m` with `m ≥ 2 − L`), and
/// the magnitudes whose values `[0.s·10^m, (0.s + 10^-|s|)·10^m)` meet the bounds form a range whose
/// inner part lies wholly inside them, so at most a few are checked. After the `e`, the mantissa `M`
/// is fixed and `M·10^E` is monotonic in `E`, so the exponents that land inside the bounds are one
/// integer range, found from the magnitudes with one exact comparison at each end; the exponent
/// digits typed so far allow `{v} ∪ [10v, 10v+9] ∪ [100v, 100v+99] ∪ …` (negated after `-`; leading
/// zeros change nothing and share a state). `integer` allows exponents only on an integral mantissa
/// and never negative ones (as the unbounded integer pattern). Exponents have at most
/// `maxExponentDigits` significant digits (`L` = 10^9 − 1), except where every completion is already
/// within the bounds and only syntax is checked.
final class NumberLexeme: ByteLexeme {
    struct Bound {
        var value: DecimalNumber
        var exclusive: Bool
    }

    /// The most significant digits an exponent may have where the bounds are checked: its value
    /// `L` = 10^9 − 1 keeps `mantissa exponent + E` and every magnitude within `Int` and below
    /// `DecimalNumber.exponentClamp`, so `1e999999999999` is refused at its tenth digit in O(1).
    static let maxExponentDigits = 9
    /// The largest exponent magnitude, `10^maxExponentDigits − 1`.
    static let maxExponent = 999_999_999

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
                text = isFree ? Self.representative(of: text) : Self.withoutExponentLeadingZeros(text)
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

    /// The prefix with its exponent's leading zeros dropped (`1e-007` → `1e-7`, `1e00` → `1e0`):
    /// they change neither the value nor its completions, and keeping them would make a state per
    /// zero.
    private static func withoutExponentLeadingZeros(_ text: [UInt8]) -> [UInt8] {
        guard let e = exponentIndex(text) else { return text }
        var start = e + 1
        if start < text.count, !isDigit(text[start]) { start += 1 }
        var end = start
        while end + 1 < text.count, text[end] == UInt8(ascii: "0") { end += 1 }
        return end == start ? text : Array(text[..<start]) + text[end...]
    }

    private static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }

    private static func exponentIndex(_ text: [UInt8]) -> Int? { text.firstIndex { $0 | 0x20 == UInt8(ascii: "e") } }

    /// A short prefix in the same syntax phase: `1` (digits), `0`, `1.` (dot), `1.0` (fraction digits),
    /// `1e` (exponent mark), `1e+` (exponent sign), `1e1` (exponent digits).
    private static func representative(of text: [UInt8]) -> [UInt8] {
        guard let last = text.last else { return [] }
        if let e = exponentIndex(text) {
            if e == text.count - 1 { return Array("1e".utf8) }
            return isDigit(last) ? Array("1e1".utf8) : Array("1e+".utf8)
        }
        if last == UInt8(ascii: "-") { return [UInt8(ascii: "-")] }
        if let dot = text.firstIndex(of: UInt8(ascii: ".")) {
            return dot == text.count - 1 ? Array("1.".utf8) : Array("1.0".utf8)
        }
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text[...]
        return digits.first == UInt8(ascii: "0") ? Array("0".utf8) : Array("1".utf8)
    }

    /// Whether every completion of the prefix (including itself, when complete) is within the bounds.
    private func allCompletionsWithin(_ text: [UInt8]) -> Bool {
        guard let last = text.last, (0x30...0x39).contains(last) || last == UInt8(ascii: "."),
              Self.exponentIndex(text) == nil else { return false }
        let m = Mantissa(text)
        if !integerOnly {
            // Exponents reach every magnitude of the sign (up to L), so only a half-line can hold them.
            let (frameLower, frameUpper) = frame(negative: m.negative)
            guard frameUpper == nil, frameLower.map({ !(DecimalNumber.zero < $0.value) }) ?? true else { return false }
            return !m.canBeZero || satisfies(.zero)
        }
        if m.hasDot, let whole = m.whole, !whole.isZero {
            // `w.0…` reaches w·10^E for every E ≥ 0: all of [w, ∞) is a superset.
            let piece = Interval(lo: whole, loInclusive: true, hi: nil, hiInclusive: false)
            return within(m.negative ? piece.negated : piece)
        }
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

    /// `-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]*)?` prefixes (an exponent only after a complete
    /// mantissa); with `integerOnly` the fraction may only hold zeros and the exponent has no `-`.
    static func isSyntaxPrefix(_ text: [UInt8], integerOnly: Bool) -> Bool {
        var i = 0
        if i < text.count, text[i] == UInt8(ascii: "-") { i += 1 }
        if i == text.count { return true }
        guard isDigit(text[i]) else { return false }
        let leadingZero = text[i] == UInt8(ascii: "0")
        i += 1
        while i < text.count, isDigit(text[i]) {
            if leadingZero { return false }
            i += 1
        }
        if i == text.count { return true }
        if text[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < text.count, isDigit(text[i]) {
                if integerOnly && text[i] != UInt8(ascii: "0") { return false }
                i += 1
            }
            if i == text.count { return true }
            guard i > fractionStart else { return false }
        }
        guard text[i] | 0x20 == UInt8(ascii: "e") else { return false }
        i += 1
        if i < text.count, text[i] == UInt8(ascii: "+") || (text[i] == UInt8(ascii: "-") && !integerOnly) { i += 1 }
        while i < text.count {
            guard isDigit(text[i]) else { return false }
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
        if let e = Self.exponentIndex(text) { return exponentLive(text, markAt: e) }
        let m = Mantissa(text)
        if m.isEmpty { return reachable(text).contains { intersectsBounds($0) } }
        if integerOnly {
            // `w.0…` is the whole mantissa: w·10^E, E in [0, L].
            if m.hasDot, let whole = m.whole, !whole.isZero {
                return powerLands(m.negative ? whole.negated : whole, exponents: 0...Self.maxExponent)
            }
            return reachable(text).contains { intersectsBounds($0) }
        }
        return mantissaLive(m)
    }

    /// The parts of a mantissa prefix (the text before any `e`).
    private struct Mantissa {
        var negative = false
        var integerDigits: [UInt8] = []
        var hasDot = false
        var fractionDigits: [UInt8] = []

        init(_ text: [UInt8]) {
            var body = text[...]
            if body.first == UInt8(ascii: "-") { negative = true; body = body.dropFirst() }
            if let dot = body.firstIndex(of: UInt8(ascii: ".")) {
                hasDot = true
                integerDigits = body[..<dot].map { $0 - 0x30 }
                fractionDigits = body[(dot + 1)...].map { $0 - 0x30 }
            } else {
                integerDigits = body.map { $0 - 0x30 }
            }
        }

        var isEmpty: Bool { integerDigits.isEmpty }
        /// The integer part's value (nil before any digit).
        var whole: DecimalNumber? { isEmpty ? nil : DecimalNumber(negative: false, digits: integerDigits, exponent: 0) }
        /// Whether the mantissa can still be zero (no non-zero digit typed).
        var canBeZero: Bool { !(integerDigits + fractionDigits).contains { $0 != 0 } }
    }

    /// The bounds on `|x|` for numbers `x` of the given sign (for negative ones `x ≤ u` is `|x| ≥ −u`).
    private func frame(negative: Bool) -> (lower: Bound?, upper: Bound?) {
        guard negative else { return (lower, upper) }
        return (upper.map { Bound(value: $0.value.negated, exclusive: $0.exclusive) },
                lower.map { Bound(value: $0.value.negated, exclusive: $0.exclusive) })
    }

    /// Whether a non-`integer` mantissa prefix (with a digit) has a completion, with or without an
    /// exponent, within the bounds.
    private func mantissaLive(_ m: Mantissa) -> Bool {
        if m.canBeZero && satisfies(.zero) { return true }
        let L = Self.maxExponent
        let all = m.integerDigits + m.fractionDigits
        guard let first = all.firstIndex(where: { $0 != 0 }) else {
            // `0`, `0.`, `0.00`: any positive value below 10^(L − zeros typed).
            let top = DecimalNumber(negative: false, digits: [1], exponent: L - m.fractionDigits.count)
            let piece = Interval(lo: .zero, loInclusive: false, hi: top, hiInclusive: false)
            return intersectsBounds(m.negative ? piece.negated : piece)
        }
        let significant = Array(all[first...])
        // The magnitude of the mantissa's completions (`12` → ≥ 2, `1.2` → 1, `0.03` → −1), widened by ±L.
        let mantissaLow = m.integerDigits.first == 0 ? -(first - m.integerDigits.count) : m.integerDigits.count
        let mantissaHigh: Int? = m.hasDot ? mantissaLow : nil
        let (frameLower, frameUpper) = frame(negative: m.negative)
        if let u = frameUpper, !(DecimalNumber.zero < u.value) { return false }
        // Values of magnitude strictly between the bounds' are all inside them; only the magnitudes
        // next to a bound's need an exact check.
        var low = mantissaLow - L
        if let l = frameLower, DecimalNumber.zero < l.value { low = max(low, l.value.magnitude - 1) }
        var high = mantissaHigh.map { $0 + L }
        if let u = frameUpper { high = min(high ?? Int.max, u.value.magnitude + 1) }
        guard let high else { return true }
        guard low <= high else { return false }
        if high - low >= Self.magnitudesInsideBounds { return true }
        let next = DecimalNumber(negative: false, digits: significant, exponent: 0).addingPowerOfTen(0)
        return (low...high).contains { magnitude in
            let shift = magnitude - significant.count
            let piece = Interval(lo: DecimalNumber(negative: false, digits: significant, exponent: shift), loInclusive: true,
                                 hi: next.scaled(shift), hiInclusive: false)
            return intersectsBounds(m.negative ? piece.negated : piece)
        }
    }

    /// A range of this many consecutive magnitudes, within one below the lower bound's and one above
    /// the upper bound's, has one strictly between them, whose values all lie inside the bounds.
    private static let magnitudesInsideBounds = 4

    /// Whether a prefix with an exponent mark can still land within the bounds.
    private func exponentLive(_ text: [UInt8], markAt e: Int) -> Bool {
        guard let mantissa = DecimalNumber(String(decoding: text[..<e], as: UTF8.self)) else { return false }
        var rest = text[(e + 1)...]
        var sign: UInt8? = nil
        if let first = rest.first, !Self.isDigit(first) { sign = first; rest = rest.dropFirst() }
        let significant = rest.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= Self.maxExponentDigits else { return false }
        let L = Self.maxExponent
        var ranges: [ClosedRange<Int>]
        if rest.isEmpty && sign == nil {
            ranges = [integerOnly ? 0...L : -L...L]
        } else if significant.isEmpty {
            ranges = [0...L]
        } else {
            let v = significant.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            ranges = []
            var power = 1
            while v <= L / power {
                ranges.append(v * power...min(v * power + power - 1, L))
                power *= 10
            }
        }
        if sign == UInt8(ascii: "-") { ranges = ranges.map { -$0.upperBound...(-$0.lowerBound) } }
        return ranges.contains { powerLands(mantissa, exponents: $0) }
    }

    /// Whether `mantissa · 10^E` is within the bounds for some `E` in `exponents`. The value is
    /// monotonic in `E`, so the `E` that land form one range; each end is the bound's magnitude
    /// difference or one off it, settled by one exact comparison.
    private func powerLands(_ mantissa: DecimalNumber, exponents: ClosedRange<Int>) -> Bool {
        if mantissa.isZero { return satisfies(.zero) }
        let size = mantissa.negative ? mantissa.negated : mantissa
        let (frameLower, frameUpper) = frame(negative: mantissa.negative)
        var least = exponents.lowerBound, greatest = exponents.upperBound
        if let l = frameLower, DecimalNumber.zero < l.value {
            let e0 = l.value.magnitude - size.magnitude
            let v = size.scaled(e0)
            least = max(least, (l.exclusive ? l.value < v : !(v < l.value)) ? e0 : e0 + 1)
        }
        if let u = frameUpper {
            guard DecimalNumber.zero < u.value else { return false }
            let e1 = u.value.magnitude - size.magnitude
            let v = size.scaled(e1)
            greatest = min(greatest, (u.exclusive ? v < u.value : !(u.value < v)) ? e1 : e1 - 1)
        }
        return least <= greatest
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
    static let zero = DecimalNumber(negative: false, digits: [], exponent: 0)

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
