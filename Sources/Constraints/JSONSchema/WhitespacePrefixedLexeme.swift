/// A lexeme preceded by one gap of JSON whitespace (`JSONWhitespace`), as one automaton.
///
/// The JSON grammar lets whitespace precede every value and key. Folding it into the value's lexeme
/// (instead of a separate `ws` rule) keeps the parser inside one lexeme for tokens such as `" 12"` or
/// `"\n  \"name"`, so their masks come from the lexeme-state cache instead of a parser walk.
final class WhitespacePrefixedLexeme: ByteLexeme {
    private let inner: any ByteLexeme
    /// The inner automaton's exhaustion (see `ByteLexeme`).
    var exhausted: ConstraintError? { inner.exhausted }
    /// States `0..<base` are the gap's; state `base + s` is inner state `s`.
    private let gap: JSONWhitespace.Gap
    private let base: Int32
    let startState: Int32 = 0

    /// - Parameters:
    ///   - whitespace: the bound on the leading gap.
    ///   - inner: the lexeme after the whitespace.
    init(whitespace: JSONWhitespace, inner: any ByteLexeme) {
        self.inner = inner
        gap = JSONWhitespace.Gap(whitespace)
        base = gap.stateCount
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if state >= base {
            let n = inner.next(state - base, byte)
            return n < 0 ? -1 : base + n
        }
        if ByteSet.jsonWhitespace.contains(byte) { return gap.next(state, byte) }
        let n = inner.next(inner.startState, byte)
        return n < 0 ? -1 : base + n
    }

    /// Inside the value, the inner lexeme's class; before it, the gap's whitespace classes, or the
    /// inner start state's class without whitespace (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        if state >= base { return inner.transitionClass(state - base, byte) }
        if ByteSet.jsonWhitespace.contains(byte) { return gap.transitionClass(byte) }
        var c = inner.transitionClass(inner.startState, byte)
        ByteSet.jsonWhitespace.forEach { c.remove($0) }
        return c
    }

    /// Gap states by the gap's classes (counts far from the bounds alike); the others carry the
    /// inner state's class, in the same numbering (see `ByteLexeme`).
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        state >= base ? base + inner.maskClass(of: state - base, horizon: horizon) : gap.maskClass(of: state, horizon: horizon)
    }

    /// The whitespace bound and the inner lexeme's fingerprint (see `ByteLexeme`).
    var maskFingerprint: String? {
        inner.maskFingerprint.map { "ws(\(gap.fingerprint)) \($0)" }
    }

    /// `[0, state or class]` for gap states, else `[1]` and the inner key (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        guard state < base else { return [1] + inner.canonicalKey(of: state - base, horizon: horizon) }
        return [0, horizon.map { gap.maskClass(of: state, horizon: $0) } ?? state]
    }

    func isAccepting(_ state: Int32) -> Bool {
        state >= base ? inner.isAccepting(state - base) : inner.isAccepting(inner.startState)
    }
}
