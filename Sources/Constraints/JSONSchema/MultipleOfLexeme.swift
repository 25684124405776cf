/// A JSON number that is a multiple of `modulus × 10^-scale` (JSON Schema `multipleOf`), written
/// without exponent, as a lexeme.
///
/// A number `x` is such a multiple exactly when `X = x × 10^scale` is an integer divisible by
/// `modulus`. Reading the digits left to right keeps `X mod modulus` of what has been read so far (the
/// integer digits, then up to `scale` fraction digits; later fraction digits may only be zeros), and
/// the number may end when the digits still missing from the scale — implicit zeros — make the
/// remainder zero. The sign changes nothing. A state is the syntax phase, that remainder and the
/// count of fraction digits read, so there are at most `modulus × (scale + 2)` of each phase; they are
/// made lazily.
///
/// Every state the lexeme returns can still be completed (masks must not lead into dead ends): an
/// integer prefix `N` can always be followed by digits `D` making `N·10^j + D` a multiple, and a
/// fraction prefix is live when the remaining `t` significant places can cancel the remainder
/// (`(-r·10^t) mod modulus < 10^t`), which is decided in O(t).
final class MultipleOfLexeme: ByteLexeme {
    /// Where in the number text a state is.
    private enum Phase: UInt8 {
        /// Nothing read, or only `-`.
        case start, minus
        /// After a leading `0` (only `.` may follow), or after other integer digits.
        case zero, integer
        /// After `.` (a digit must follow), or after fraction digits.
        case dot, fraction
    }

    private struct State: Hashable {
        var phase: Phase
        var remainder: UInt64
        /// Fraction digits read, capped at `scale` (later ones are zeros and change nothing).
        var fractionDigits: Int
    }

    /// The largest modulus accepted: `10 × remainder + 9` must fit in 64 bits.
    static let maxModulus: UInt64 = 1_000_000_000_000_000
    private let modulus: UInt64
    private let scale: Int
    private let integerOnly: Bool
    private var states = LazyAutomaton<State>()
    private var accepting: [Bool] = []
    let startState: Int32 = 0

    /// - Parameters:
    ///   - modulus: the divisor of `x × 10^scale`, at least 1 and at most `maxModulus`.
    ///   - scale: the number of significant fraction digits.
    ///   - integerOnly: whether only integers are accepted (the fraction may then hold only zeros).
    init(modulus: UInt64, scale: Int, integerOnly: Bool) {
        precondition(modulus >= 1 && modulus <= Self.maxModulus && scale >= 0, "multipleOf modulus out of range")
        self.modulus = modulus
        self.scale = scale
        self.integerOnly = integerOnly
        _ = intern(State(phase: .start, remainder: 0, fractionDigits: 0))
    }

    /// The modulus and scale of `value` (`value = modulus × 10^-scale`), or nil when the modulus
    /// would exceed `maxModulus` or the scale `maxScale`.
    /// - Parameters:
    ///   - value: a positive number.
    ///   - maxScale: the most fraction digits accepted.
    /// - Returns: the pair, or nil.
    static func decompose(_ value: DecimalNumber, maxScale: Int) -> (modulus: UInt64, scale: Int)? {
        let scale = max(0, -value.exponent)
        guard scale <= maxScale else { return nil }
        var modulus: UInt64 = 0
        for d in value.digits + [UInt8](repeating: 0, count: max(0, value.exponent)) {
            guard modulus <= (maxModulus - UInt64(d)) / 10 else { return nil }
            modulus = modulus * 10 + UInt64(d)
        }
        return modulus >= 1 ? (modulus, scale) : nil
    }

    /// The modulus and scale whose multiples are exactly the common multiples of all `parts` (each a
    /// modulus and scale): every part is rescaled to the largest scale, then their least common
    /// multiple is taken. Nil when it exceeds `maxModulus`.
    static func combine(_ parts: [(modulus: UInt64, scale: Int)]) -> (modulus: UInt64, scale: Int)? {
        let scale = parts.map(\.scale).max() ?? 0
        var result: UInt64 = 1
        for part in parts {
            var m = part.modulus
            for _ in 0..<(scale - part.scale) {
                guard m <= maxModulus / 10 else { return nil }
                m *= 10
            }
            let g = gcd(result, m)
            let (product, overflow) = (result / g).multipliedReportingOverflow(by: m)
            guard !overflow, product <= maxModulus else { return nil }
            result = product
        }
        return (result, scale)
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    private func intern(_ s: State) -> Int32 {
        if let id = states.state(of: s) { return id }
        let id = states.intern(s)
        let ended = s.phase == .zero || s.phase == .integer || s.phase == .fraction
        accepting.append(ended && timesPowerOfTen(s.remainder, scale - s.fractionDigits) == 0)
        return id
    }

    /// `r × 10^t mod modulus`.
    private func timesPowerOfTen(_ r: UInt64, _ t: Int) -> UInt64 {
        var r = r % modulus
        for _ in 0..<t where r != 0 { r = r * 10 % modulus }
        return r
    }

    /// Whether some fraction digits after `s` (a dot or fraction state) end on a multiple.
    private func fractionIsLive(_ s: State) -> Bool {
        let t = scale - s.fractionDigits
        if integerOnly { return timesPowerOfTen(s.remainder, t) == 0 }
        // The t remaining significant places can add any E in [0, 10^t); E = (-r·10^t) mod modulus
        // is the least that cancels the remainder.
        let needed = (modulus - timesPowerOfTen(s.remainder, t)) % modulus
        var power: UInt64 = 1
        for _ in 0..<t {
            if power > needed { return true }
            power *= 10
        }
        return needed < power
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = states.cached(state, byte) { return known }
        var s = states[state]
        let isDigit = (0x30...0x39).contains(byte)
        let digit = UInt64(byte &- 0x30)
        var ok = true
        switch s.phase {
        case .start where byte == UInt8(ascii: "-"):
            s.phase = .minus
        case .start, .minus:
            if byte == UInt8(ascii: "0") { s.phase = .zero } else if isDigit { s.phase = .integer; s.remainder = digit % modulus } else { ok = false }
        case .integer where isDigit:
            s.remainder = (s.remainder * 10 + digit) % modulus
        case .zero, .integer:
            if byte == UInt8(ascii: ".") { s.phase = .dot } else { ok = false }
        case .dot, .fraction:
            guard isDigit, !(integerOnly && digit != 0) else { ok = false; break }
            s.phase = .fraction
            if s.fractionDigits < scale {
                s.remainder = (s.remainder * 10 + digit) % modulus
                s.fractionDigits += 1
            } else if digit != 0 {
                ok = false
            }
        }
        if ok && (s.phase == .dot || s.phase == .fraction) && !fractionIsLive(s) { ok = false }
        let result = ok ? intern(s) : -1
        states.record(state, byte, result)
        return result
    }

    func isAccepting(_ state: Int32) -> Bool { accepting[Int(state)] }
}
