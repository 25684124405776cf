/// A lexeme preceded by up to `maxWhitespace` JSON whitespace bytes, as one automaton.
///
/// The JSON grammar lets whitespace precede every value and key. Folding it into the value's lexeme
/// (instead of a separate `ws` rule) keeps the parser inside one lexeme for tokens such as `" 12"` or
/// `" \"name"`, so their masks come from the lexeme-state cache instead of a parser walk.
final class WhitespacePrefixedLexeme: ByteLexeme {
    private let inner: any ByteLexeme
    /// The inner automaton's exhaustion (see `ByteLexeme`).
    var exhausted: ConstraintError? { inner.exhausted }
    /// States `0...maxWhitespace` count the whitespace read; state `base + s` is inner state `s`.
    private let maxWhitespace: Int32?
    private let base: Int32
    let startState: Int32 = 0

    /// - Parameters:
    ///   - maxWhitespace: the most leading whitespace bytes; `nil` for unbounded.
    ///   - inner: the lexeme after the whitespace.
    init(maxWhitespace: Int?, inner: any ByteLexeme) {
        self.inner = inner
        self.maxWhitespace = maxWhitespace.map(Int32.init)
        base = (self.maxWhitespace ?? 0) + 1
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if state >= base {
            let n = inner.next(state - base, byte)
            return n < 0 ? -1 : base + n
        }
        if ByteSet.jsonWhitespace.contains(byte) {
            guard let maxWhitespace else { return 0 }
            return state < maxWhitespace ? state + 1 : -1
        }
        let n = inner.next(inner.startState, byte)
        return n < 0 ? -1 : base + n
    }

    /// Inside the value, the inner lexeme's class; before it, the four whitespace bytes (which all
    /// count alike), or the inner start state's class without them (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        if state >= base { return inner.transitionClass(state - base, byte) }
        if ByteSet.jsonWhitespace.contains(byte) { return ByteSet.jsonWhitespace }
        var c = inner.transitionClass(inner.startState, byte)
        ByteSet.jsonWhitespace.forEach { c.remove($0) }
        return c
    }

    /// Whitespace states are their own class; the others carry the inner state's class, in the same
    /// numbering (see `ByteLexeme`).
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        state >= base ? base + inner.maskClass(of: state - base, horizon: horizon) : state
    }

    /// The whitespace bound and the inner lexeme's fingerprint (see `ByteLexeme`).
    var maskFingerprint: String? {
        inner.maskFingerprint.map { "ws(\(maxWhitespace.map(String.init) ?? "unbounded")) \($0)" }
    }

    /// `[0, count]` for whitespace states, else `[1]` and the inner key (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        state >= base ? [1] + inner.canonicalKey(of: state - base, horizon: horizon) : [0, state]
    }

    func isAccepting(_ state: Int32) -> Bool {
        state >= base ? inner.isAccepting(state - base) : inner.isAccepting(inner.startState)
    }
}
