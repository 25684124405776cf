/// A regular expression as a lexeme: an NFA over bytes determinised lazily, one DFA state per set of
/// NFA states met, transitions cached (`LazyAutomaton`).
///
/// Subset construction is done on demand because a pattern's full DFA can be exponential while the
/// states a generation actually visits are few.
public final class RegexLexeme: ByteLexeme {
    private let nfa: ByteNFA
    /// NFA states from which the accept state is reachable; others are dropped from DFA states so a
    /// state that can never accept is recognised as dead at once. `live` may use `^` edges (only at
    /// the start); after the first byte `liveAfterStart`, which may not, decides — so `x` after the
    /// start of `^[0-9]` is dead at once instead of leaving a state no continuation can complete.
    private let live: [Bool]
    private let liveAfterStart: [Bool]
    /// DFA states: a set of NFA states and whether nothing has been read yet.
    private var dfa = LazyAutomaton<Key>()
    private var dfaAccepting: [Bool] = []
    /// The DFA state before any byte (see `ByteLexeme`).
    public let startState: Int32
    /// Mask classes: a DFA state's NFA states moved to their canonical counter copies.
    private var classes = MaskClassTable<Key>()
    /// The parsed pattern and mode the NFA was built from (deterministically, so they fix its state
    /// numbering): the fingerprint.
    private let node: RegexNode
    private let search: Bool
    /// The bytes no NFA edge tells apart: `byteClass[b]` indexes `classMembers`. Every DFA state
    /// sends a class's bytes to one state, so a transition is computed once per class.
    private let byteClass: [UInt8]
    private let classMembers: [ByteSet]

    /// The most DFA states one regex may build. Determinising can be exponential (`(a|b)*a(a|b){20}`
    /// has 2^21 states) and each state holds a 1 KB transition row, so 50,000 states bound a lexeme
    /// near 50 MB plus its keys; visits past it fail the constraint (`exhausted`).
    static let maxDFAStates = 50_000
    /// The most NFA state numbers all DFA states' keys may hold together (4 bytes each: 32 MB). A
    /// big NFA (up to `ByteNFA.maxStates`) makes wide keys, so the state count alone does not bound
    /// memory.
    static let maxDFAKeyEntries = 8_000_000
    private var keyEntries = 0
    private let stateLimit: Int
    /// Why determinisation stopped (a limit above), or nil (see `ByteLexeme`).
    public private(set) var exhausted: ConstraintError?

    private struct Key: Hashable {
        var states: [Int32]
        /// Whether the input starts here (in the DFA's index); whether the state accepts (in mask classes).
        var atStart: Bool
    }

    /// Compiles a pattern.
    /// - Parameters:
    ///   - pattern: ECMAScript regex syntax (the JSON Schema subset; see `RegexParser`).
    ///   - search: `true` for JSON Schema `pattern` semantics (matches anywhere in the string);
    ///     `false` for a whole-string match, as a generation constraint wants.
    /// - Throws: `ConstraintError` for malformed patterns and unsupported constructs.
    public convenience init(pattern: String, search: Bool) throws(ConstraintError) {
        try self.init(node: RegexParser.parse(pattern), search: search)
    }

    /// - Parameter stateLimit: the most DFA states (`maxDFAStates`; smaller in tests).
    init(node: RegexNode, search: Bool, stateLimit: Int = RegexLexeme.maxDFAStates) throws(ConstraintError) {
        self.stateLimit = stateLimit
        nfa = try ByteNFA(node, search: search)
        self.node = node
        self.search = search
        (byteClass, classMembers) = Self.byteClasses(nfa)
        (live, liveAfterStart) = Self.liveness(nfa)
        startState = 0
        _ = intern(closure([nfa.start], atStart: true), atStart: true)
    }

    /// Bytes grouped by the edge ranges that contain them: every class starts as all bytes and is
    /// split by each distinct range into the part inside and the part outside.
    private static func byteClasses(_ nfa: ByteNFA) -> ([UInt8], [ByteSet]) {
        // Distinct ranges, found with one bit per (lo, hi) pair: unrolled counters repeat theirs.
        var seen = [UInt64](repeating: 0, count: 1024)
        var ranges: [ClosedRange<UInt8>] = []
        for s in nfa.states {
            for e in s.byteEdges {
                let key = Int(e.lo) << 8 | Int(e.hi)
                if seen[key >> 6] & (1 << UInt64(key & 63)) == 0 {
                    seen[key >> 6] |= 1 << UInt64(key & 63)
                    ranges.append(e.lo...e.hi)
                }
            }
        }
        var classes = [ByteSet(0...255)]
        for r in ranges {
            let inside = ByteSet(r)
            var outside = ByteSet(0...255)
            r.forEach { outside.remove($0) }
            classes = classes.flatMap { c -> [ByteSet] in
                var a = c, b = c
                a.formIntersection(inside)
                b.formIntersection(outside)
                return a.isEmpty || b.isEmpty ? [c] : [a, b]
            }
        }
        var classOf = [UInt8](repeating: 0, count: 256)
        for (id, c) in classes.enumerated() { c.forEach { classOf[Int($0)] = UInt8(id) } }
        return (classOf, classes)
    }

    /// Reverse reachability from the accept state, over every edge kind (`live`) and over all but
    /// `^` edges (`liveAfterStart`): one reversed edge list (flat, by target) serves both.
    private static func liveness(_ nfa: ByteNFA) -> (live: [Bool], liveAfterStart: [Bool]) {
        let n = nfa.states.count
        var first = [Int32](repeating: 0, count: n + 1)
        for s in nfa.states {
            for e in s.byteEdges { first[Int(e.to) + 1] += 1 }
            for t in s.epsilon { first[Int(t) + 1] += 1 }
            for t in s.atEnd { first[Int(t) + 1] += 1 }
            for t in s.atStart { first[Int(t) + 1] += 1 }
        }
        for i in 0..<n { first[i + 1] += first[i] }
        var fill = first
        var source = [Int32](repeating: 0, count: Int(first[n]))
        var viaStart = [Bool](repeating: false, count: Int(first[n]))
        func add(_ from: Int, _ to: Int32, start: Bool) {
            let slot = Int(fill[Int(to)])
            fill[Int(to)] += 1
            source[slot] = Int32(from)
            viaStart[slot] = start
        }
        for (i, s) in nfa.states.enumerated() {
            for e in s.byteEdges { add(i, e.to, start: false) }
            for t in s.epsilon { add(i, t, start: false) }
            for t in s.atEnd { add(i, t, start: false) }
            for t in s.atStart { add(i, t, start: true) }
        }
        func reach(startEdges: Bool) -> [Bool] {
            var isLive = [Bool](repeating: false, count: n)
            var stack = [nfa.accept]
            isLive[Int(nfa.accept)] = true
            while let s = stack.popLast() {
                for k in Int(first[Int(s)])..<Int(first[Int(s) + 1]) where !isLive[Int(source[k])] && (startEdges || !viaStart[k]) {
                    isLive[Int(source[k])] = true
                    stack.append(source[k])
                }
            }
            return isLive
        }
        return (reach(startEdges: true), reach(startEdges: false))
    }

    private func closure(_ seeds: [Int32], atStart: Bool) -> [Int32] {
        var seen = Set(seeds)
        var stack = seeds
        while let s = stack.popLast() {
            let state = nfa.states[Int(s)]
            for t in state.epsilon where seen.insert(t).inserted { stack.append(t) }
            if atStart { for t in state.atStart where seen.insert(t).inserted { stack.append(t) } }
        }
        let keep = atStart ? live : liveAfterStart
        return seen.filter { keep[Int($0)] }.sorted()
    }

    private func intern(_ states: [Int32], atStart: Bool) -> Int32 {
        // The empty set is dead, except as the start of a regex that matches nothing, which still
        // needs a state 0 (with no transitions).
        if states.isEmpty && dfa.count > 0 { return -1 }
        let key = Key(states: states, atStart: atStart)
        if let id = dfa.state(of: key) { return id }
        guard dfa.count < stateLimit, keyEntries + states.count <= Self.maxDFAKeyEntries else {
            if exhausted == nil {
                exhausted = ConstraintError(
                    .limitExceeded, at: "regex", feature: "automaton size",
                    "regex too large: more than \(dfa.count) states after determinisation (limit \(stateLimit) states, \(Self.maxDFAKeyEntries) NFA-state entries; `RegexLexeme.maxDFAStates`): patterns such as (a|b)*a(a|b){20} need a state per combination of positions; simplify the pattern")
                LexemeExhaustion.record()
            }
            return -1
        }
        keyEntries += states.count
        let id = dfa.intern(key)
        // Accepting when the accept state is reachable with `$` edges allowed (we are at the end).
        var seen = Set(states)
        var stack = states
        var accepting = false
        while let s = stack.popLast() {
            if s == nfa.accept { accepting = true; break }
            let state = nfa.states[Int(s)]
            for t in state.epsilon + state.atEnd where seen.insert(t).inserted { stack.append(t) }
            if atStart { for t in state.atStart where seen.insert(t).inserted { stack.append(t) } }
        }
        dfaAccepting.append(accepting)
        return id
    }

    /// The DFA state after `byte`, built on first use (see `ByteLexeme`).
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - byte: the next byte.
    /// - Returns: the next state, or -1 when no match can continue with it.
    public func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = dfa.cached(state, byte) { return known }
        var targets: [Int32] = []
        for s in dfa[state].states {
            for e in nfa.states[Int(s)].byteEdges where e.lo <= byte && byte <= e.hi { targets.append(e.to) }
        }
        let result = targets.isEmpty ? -1 : intern(closure(targets, atStart: false), atStart: false)
        dfa.record(state, byte, result)
        return result
    }

    /// The bytes no edge of the pattern tells apart from `byte` (see `ByteLexeme`): the same in
    /// every state.
    public func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet { classMembers[Int(byteClass[Int(byte)])] }

    /// The class of a DFA state (see `ByteLexeme`): its NFA states that read bytes, with every counted
    /// copy far from its bound moved to one canonical copy (`ByteNFA.canonical`), and whether it
    /// accepts. So `.{0,300}` after 5 or after 50 characters is one class for tokens up to `horizon`
    /// bytes, and so are `.*` before and after its first byte.
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - horizon: the longest string the equivalence holds for.
    /// - Returns: the class.
    public func maskClass(of state: Int32, horizon: Int) -> Int32 {
        // A DFA state's transitions depend only on its NFA states' byte edges, and an NFA set's
        // language is the union of its states' languages, so moving each state to an equivalent one
        // keeps the language up to `horizon` bytes; acceptance here is the rest.
        classes.classOf(state, horizon: horizon) { classKey(of: state, horizon: horizon) }
    }

    /// The pattern's syntax tree and mode (see `ByteLexeme`): the NFA, its state numbering and its
    /// counter copies are a function of them, so its NFA state sets describe DFA states canonically.
    public private(set) lazy var maskFingerprint: String? = "regex(search: \(search)) \(node.fingerprint)"

    /// The DFA state's NFA states and whether it is at the start, or its class's moved NFA states and
    /// whether it accepts (see `ByteLexeme`).
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - horizon: `nil` for the state, else the mask horizon of its class.
    /// - Returns: the key.
    public func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        guard let horizon else { return [dfa[state].atStart ? 1 : 0] + dfa[state].states }
        let key = classKey(of: state, horizon: horizon)
        return [key.atStart ? 1 : 0] + key.states
    }

    private func classKey(of state: Int32, horizon: Int) -> Key {
        let reading = dfa[state].states.filter { !nfa.states[Int($0)].byteEdges.isEmpty }
        let moved = Set(reading.map { nfa.canonical($0, horizon: horizon) }).sorted()
        return Key(states: moved, atStart: dfaAccepting[Int(state)])
    }

    /// Whether the bytes read so far match (see `ByteLexeme`).
    /// - Parameter state: a state this lexeme returned.
    /// - Returns: `true` when the regex matches here.
    public func isAccepting(_ state: Int32) -> Bool { dfaAccepting[Int(state)] }

    /// The number of NFA states: the automaton's size, which grammar folding bounds.
    var nfaStateCount: Int { nfa.states.count }

    /// The number of DFA states built so far (for benchmarks and tests of laziness).
    public var builtStateCount: Int { dfa.count }
}
