/// A JSON string literal (quotes included) whose *decoded* content must be accepted by an inner lexeme.
///
/// JSON Schema's `pattern`, `minLength`, `format` and `const` speak about the decoded string, while the
/// model emits escaped JSON text: `"\u00e9"` and `"é"` are the same string. This lexeme decodes escapes
/// on the fly (`\n`, `\uXXXX`, surrogate pairs) and feeds the decoded UTF-8 bytes to the inner automaton,
/// so every spelling of an accepted string is accepted and no spelling of a rejected one is. Raw control
/// characters are refused as JSON requires; lone surrogate escapes are refused (they have no UTF-8 form).
final class JSONStringLexeme: ByteLexeme {
    private enum Phase: UInt8 {
        case open, body, escape, hex, lowBackslash, lowU, lowHex, closed
    }

    private struct State: Hashable {
        var phase: Phase
        /// Hex digits read in the current `\u` escape.
        var hexCount: UInt8
        /// Value of the escape being read; with a pending high surrogate in bits 16…
        var value: UInt32
        var inner: Int32
    }

    private let inner: any ByteLexeme
    /// The inner automaton's exhaustion (see `ByteLexeme`).
    var exhausted: ConstraintError? { inner.exhausted }
    private var states = LazyAutomaton<State>()
    /// Mask classes: the state with the inner state replaced by its class.
    private var classes = MaskClassTable<State>()
    let startState: Int32 = 0

    /// Whether only the canonical spelling is accepted (see `JSONSchemaOptions.canonicalStrings`).
    private let canonical: Bool

    /// - Parameters:
    ///   - inner: the automaton for the decoded content (must only accept valid UTF-8).
    ///   - canonical: accept each string in its one canonical spelling only.
    init(inner: any ByteLexeme, canonical: Bool = false) {
        self.inner = inner
        self.canonical = canonical
        _ = states.intern(State(phase: .open, hexCount: 0, value: 0, inner: inner.startState))
    }


    func isAccepting(_ state: Int32) -> Bool { states[state].phase == .closed }

    /// The decoding state with the inner state's class (see `ByteLexeme`): escapes never decode to
    /// more bytes than they spell, so the inner automaton sees at most `horizon` bytes.
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        classes.classOf(state, horizon: horizon) {
            var s = states[state]
            s.inner = inner.maskClass(of: s.inner, horizon: horizon)
            return s
        }
    }

    /// The spelling mode and the content's fingerprint (see `ByteLexeme`).
    var maskFingerprint: String? {
        inner.maskFingerprint.map { "json-string(canonical: \(canonical)) \($0)" }
    }

    /// The decoding state and the inner state's key (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        let s = states[state]
        return [Int32(s.phase.rawValue), Int32(s.hexCount), Int32(bitPattern: s.value)]
            + inner.canonicalKey(of: s.inner, horizon: horizon)
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = states.cached(state, byte) { return known }
        let result = step(states[state], byte).map { states.intern($0) } ?? -1
        states.record(state, byte, result)
        return result
    }

    /// Bytes a JSON string reads as text: not a quote, a backslash or a control character.
    private static let textBytes: ByteSet = {
        var set = ByteSet(0x20...0xFF)
        set.remove(UInt8(ascii: "\""))
        set.remove(UInt8(ascii: "\\"))
        return set
    }()

    /// In the body, the text bytes the inner automaton does not tell apart from `byte`; elsewhere
    /// (quotes, escapes) the byte alone (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        let s = states[state]
        guard s.phase == .body, Self.textBytes.contains(byte) else { return ByteSet(byte: byte) }
        var c = inner.transitionClass(s.inner, byte)
        c.formIntersection(Self.textBytes)
        return c
    }

    /// Feeds a decoded scalar's UTF-8 bytes to the inner automaton.
    private func feed(_ innerState: Int32, scalar: UInt32) -> Int32? {
        guard let s = Unicode.Scalar(scalar) else { return nil }
        var state = innerState
        for b in String(Character(s)).utf8 {
            state = inner.next(state, b)
            if state < 0 { return nil }
        }
        return state
    }

    /// One byte, refusing partial escapes that no continuation can complete: a state the mask
    /// allows must lead somewhere (`\uDDD` can only become a lone low surrogate, so `D` is refused
    /// after `\uDD`).
    private func step(_ s: State, _ byte: UInt8) -> State? {
        guard let t = rawStep(s, byte) else { return nil }
        return canComplete(t) ? t : nil
    }

    /// Whether some continuation of `t`'s escape decodes to a scalar the inner automaton accepts
    /// (states outside escapes are live when their inner state is, which the inner automaton ensures).
    private func canComplete(_ t: State) -> Bool {
        switch t.phase {
        case .escape:
            for scalar: UInt32 in [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09] where feed(t.inner, scalar: scalar) != nil {
                return true
            }
            return canComplete(State(phase: .hex, hexCount: 0, value: 0, inner: t.inner))
        case .hex:
            let free = UInt32(4 * (4 - Int(t.hexCount)))
            let first = (t.value & 0xFFFF) << free, last = first | ((1 << free) - 1)
            if canonical {
                guard first <= 0x1F else { return false }
                for unit in first...min(last, 0x1F) where Self.isCanonicalEscape(unit) && feed(t.inner, scalar: unit) != nil {
                    return true
                }
                return false
            }
            // Only scalars whose UTF-8 lead byte the inner automaton takes can be fed: try those
            // ranges (one for a literal), not all 65,536 code units.
            var triedSupplementary = false
            for lead in 0...255 where inner.next(t.inner, UInt8(lead)) >= 0 {
                let range: ClosedRange<UInt32>
                switch lead {
                case 0..<0x80: range = UInt32(lead)...UInt32(lead)
                case 0xC2...0xDF: range = (UInt32(lead & 0x1F) << 6)...((UInt32(lead & 0x1F) << 6) | 0x3F)
                case 0xE0...0xEF: range = (UInt32(lead & 0x0F) << 12)...((UInt32(lead & 0x0F) << 12) | 0xFFF)
                case 0xF0...0xF4:
                    // Supplementary scalars, through a high surrogate in the escape's range (tried once).
                    guard !triedSupplementary, first <= 0xDBFF, last >= 0xD800 else { continue }
                    triedSupplementary = true
                    for high in max(first, 0xD800)...min(last, 0xDBFF) where canCompleteSupplementary(t.inner, high: high) {
                        return true
                    }
                    continue
                default: continue
                }
                let lo = max(range.lowerBound, first), hi = min(range.upperBound, last)
                guard lo <= hi else { continue }
                for unit in lo...hi where !(0xD800...0xDFFF).contains(unit) && feed(t.inner, scalar: unit) != nil {
                    return true
                }
            }
            return false
        case .lowBackslash, .lowU:
            return canCompleteSupplementary(t.inner, high: t.value & 0xFFFF)
        case .lowHex:
            let high = t.value >> 16
            let free = UInt32(4 * (4 - Int(t.hexCount)))
            let first = max((t.value & 0xFFFF) << free, 0xDC00)
            let last = min(((t.value & 0xFFFF) << free) | ((1 << free) - 1), 0xDFFF)
            guard first <= last else { return false }
            for low in first...last where feed(t.inner, scalar: 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) != nil {
                return true
            }
            return false
        case .open, .body, .closed:
            return true
        }
    }

    /// Whether `\uXXXX` is how the canonical spelling writes `unit`: control characters without a
    /// short escape.
    private static func isCanonicalEscape(_ unit: UInt32) -> Bool {
        unit < 0x20 && ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(unit)
    }

    /// Whether a high surrogate can be completed by some low surrogate the inner automaton accepts.
    private func canCompleteSupplementary(_ innerState: Int32, high: UInt32) -> Bool {
        let base = 0x10000 + ((high - 0xD800) << 10)
        // The 1024 scalars of one high surrogate share their first two UTF-8 bytes: check those once.
        var state = inner.next(innerState, UInt8(0xF0 | (base >> 18)))
        if state >= 0 { state = inner.next(state, UInt8(0x80 | ((base >> 12) & 0x3F))) }
        guard state >= 0 else { return false }
        for low in UInt32(0)..<1024 {
            let scalar = base + low
            let third = inner.next(state, UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            if third >= 0, inner.next(third, UInt8(0x80 | (scalar & 0x3F))) >= 0 { return true }
        }
        return false
    }

    private func rawStep(_ s: State, _ byte: UInt8) -> State? {
        var t = s
        switch s.phase {
        case .open:
            guard byte == UInt8(ascii: "\"") else { return nil }
            t.phase = .body
        case .body:
            switch byte {
            case UInt8(ascii: "\""):
                guard inner.isAccepting(s.inner) else { return nil }
                t.phase = .closed
            case UInt8(ascii: "\\"):
                t.phase = .escape
            case 0..<0x20:
                return nil
            default:
                let n = inner.next(s.inner, byte)
                guard n >= 0 else { return nil }
                t.inner = n
            }
        case .escape:
            let decoded: UInt32
            switch byte {
            case UInt8(ascii: "\""): decoded = 0x22
            case UInt8(ascii: "\\"): decoded = 0x5C
            case UInt8(ascii: "/") where !canonical: decoded = 0x2F
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                t.phase = .hex
                t.hexCount = 0
                t.value = 0
                return t
            default: return nil
            }
            guard let n = feed(s.inner, scalar: decoded) else { return nil }
            t.phase = .body
            t.inner = n
        case .hex, .lowHex:
            guard let d = Unicode.Scalar(byte).hexDigitValue, !canonical || !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) else { return nil }
            t.value = (s.value & 0xFFFF_0000) | ((s.value & 0xFFFF) << 4) | UInt32(d)
            t.hexCount += 1
            guard t.hexCount == 4 else { return t }
            let unit = t.value & 0xFFFF
            if s.phase == .hex {
                if (0xD800...0xDBFF).contains(unit) {
                    guard !canonical else { return nil }
                    t.phase = .lowBackslash
                    t.value = unit
                    return t
                }
                guard !(0xDC00...0xDFFF).contains(unit), !canonical || Self.isCanonicalEscape(unit),
                      let n = feed(s.inner, scalar: unit) else { return nil }
                t.inner = n
            } else {
                let high = t.value >> 16
                guard (0xDC00...0xDFFF).contains(unit) else { return nil }
                let scalar = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)
                guard let n = feed(s.inner, scalar: scalar) else { return nil }
                t.inner = n
            }
            t.phase = .body
            t.value = 0
            t.hexCount = 0
        case .lowBackslash:
            guard byte == UInt8(ascii: "\\") else { return nil }
            t.phase = .lowU
        case .lowU:
            guard byte == UInt8(ascii: "u") else { return nil }
            t.phase = .lowHex
            t.hexCount = 0
            // Keep the high surrogate above the 16 bits the low one is read into.
            t.value = s.value << 16
        case .closed:
            return nil
        }
        return t
    }
}

/// Accepts a string exactly when every one of its parts does (the product automaton, built lazily).
final class IntersectionLexeme: ByteLexeme {
    private let parts: [any ByteLexeme]
    /// Its own exhaustion (the product grew past `RegexLexeme.maxDFAStates`), else the first
    /// part's (see `ByteLexeme`).
    var exhausted: ConstraintError? { productExhausted ?? parts.lazy.compactMap(\.exhausted).first }
    private var productExhausted: ConstraintError?
    /// Each state is the parts' states.
    private var states = LazyAutomaton<[Int32]>()
    /// Mask classes: the parts' classes.
    private var classes = MaskClassTable<[Int32]>()
    let startState: Int32 = 0

    /// - Parameter parts: at least one lexeme (an empty intersection would accept everything).
    init(_ parts: [any ByteLexeme]) {
        precondition(!parts.isEmpty, "an intersection needs at least one part")
        self.parts = parts
        _ = states.intern(parts.map(\.startState))
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = states.cached(state, byte) { return known }
        var out: [Int32] = []
        for (k, p) in parts.enumerated() {
            let n = p.next(states[state][k], byte)
            if n < 0 {
                states.record(state, byte, -1)
                return -1
            }
            out.append(n)
        }
        // The product of n automata can have the product of their sizes (`Grammar.phrases` with
        // many phrases): the same bound as one regex's determinisation.
        if states.state(of: out) == nil, states.count >= RegexLexeme.maxDFAStates {
            if productExhausted == nil {
                productExhausted = ConstraintError(.limitExceeded, at: "intersection", feature: "automaton size",
                                                   "intersection of \(parts.count) automata too large: more than \(states.count) states (limit \(RegexLexeme.maxDFAStates), `RegexLexeme.maxDFAStates`); use fewer phrases or patterns")
                LexemeExhaustion.record()
            }
            return -1
        }
        let id = states.intern(out)
        states.record(state, byte, id)
        return id
    }

    /// The bytes every part sends where `byte` goes (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        var c = ByteSet(0...255)
        for (k, p) in parts.enumerated() { c.formIntersection(p.transitionClass(states[state][k], byte)) }
        return c
    }

    func isAccepting(_ state: Int32) -> Bool {
        for (k, p) in parts.enumerated() where !p.isAccepting(states[state][k]) { return false }
        return true
    }

    /// The parts' fingerprints (see `ByteLexeme`).
    var maskFingerprint: String? {
        var out = "intersection(\(parts.count))"
        for p in parts {
            guard let f = p.maskFingerprint else { return nil }
            out += " [\(f.utf8.count)]" + f
        }
        return out
    }

    /// The parts' keys, each after its length (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        var out: [Int32] = []
        for (p, s) in zip(parts, states[state]) {
            let k = p.canonicalKey(of: s, horizon: horizon)
            out.append(Int32(k.count))
            out += k
        }
        return out
    }

    /// The tuple of the parts' classes (see `ByteLexeme`).
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        classes.classOf(state, horizon: horizon) {
            zip(parts, states[state]).map { $0.maskClass(of: $1, horizon: horizon) }
        }
    }
}

/// Accepts the valid UTF-8 strings its inner lexeme rejects (used for "any key but the named ones").
final class ComplementLexeme: ByteLexeme {
    private let inner: any ByteLexeme
    /// The inner automaton's exhaustion (see `ByteLexeme`).
    var exhausted: ConstraintError? { inner.exhausted }
    private let utf8: RegexLexeme
    /// Pairs (inner state or -1 once the inner is dead, UTF-8 validator state).
    private var states = LazyAutomaton<[Int32]>()
    let startState: Int32 = 0

    init(_ inner: any ByteLexeme) {
        self.inner = inner
        utf8 = try! RegexLexeme(node: .repetition(RegexNode.anyScalar, min: 0, max: nil), search: false)
        _ = states.intern([inner.startState, utf8.startState])
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = states.cached(state, byte) { return known }
        let s = states[state]
        let u = utf8.next(s[1], byte)
        let result = u < 0 ? -1 : states.intern([s[0] < 0 ? -1 : inner.next(s[0], byte), u])
        states.record(state, byte, result)
        return result
    }

    /// The bytes both the inner lexeme (while alive) and the UTF-8 validator send where `byte`
    /// goes (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        let s = states[state]
        var c = utf8.transitionClass(s[1], byte)
        if s[0] >= 0 { c.formIntersection(inner.transitionClass(s[0], byte)) }
        return c
    }

    /// The inner lexeme's fingerprint; the UTF-8 validator is fixed (see `ByteLexeme`).
    var maskFingerprint: String? { inner.maskFingerprint.map { "complement \($0)" } }

    /// The inner state's key after its length (`[-1]` once the inner is dead), then the validator's.
    /// Every state is its own class, so the keys describe states whatever the horizon.
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        let s = states[state]
        let i = s[0] < 0 ? [-1] : inner.canonicalKey(of: s[0], horizon: nil)
        return [Int32(i.count)] + i + utf8.canonicalKey(of: s[1], horizon: nil)
    }

    func isAccepting(_ state: Int32) -> Bool {
        let s = states[state]
        return utf8.isAccepting(s[1]) && (s[0] < 0 || !inner.isAccepting(s[0]))
    }
}
