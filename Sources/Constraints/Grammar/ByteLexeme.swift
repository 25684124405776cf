import Synchronization

/// A deterministic automaton over bytes that a grammar uses as one terminal (a lexeme): a regex, a
/// JSON string with a pattern, a bounded number.
///
/// States are small integers so that a parser item can carry one. Implementations determinise lazily
/// and cache transitions, which is why this is a class protocol; a lexeme is used from one thread at a
/// time (a constraint and its forks belong to one decoding sequence).
public protocol ByteLexeme: AnyObject {
    /// The state before any byte.
    var startState: Int32 { get }
    /// The state after reading `byte` in `state`.
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - byte: the next byte.
    /// - Returns: the next state, or a negative value when no accepted string has this prefix.
    func next(_ state: Int32, _ byte: UInt8) -> Int32
    /// The bytes that lead from `state` to the state `byte` leads to (all of them dead when it is
    /// dead): a class the automaton does not tell apart there, `byte` included. Callers that
    /// tabulate transitions compute one per class instead of one per byte (a JSON string's letters,
    /// a regex character class). `ByteSet(byte: byte)` is always correct (the default).
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - byte: a byte.
    /// - Returns: the class, `byte` included.
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet
    /// Whether the bytes read so far form a complete lexeme.
    /// - Parameter state: a state this lexeme returned.
    /// - Returns: `true` when the lexeme may end here.
    func isAccepting(_ state: Int32) -> Bool
    /// A key standing for `state` in the lexeme-mask cache: states with the same key accept and reject
    /// the same strings of at most `horizon` bytes, and are accepting after the same ones, so tokens
    /// that short have the same masks from both.
    ///
    /// Counted repetitions need this: `.{0,300}` has a state per count, but every count far enough
    /// from the bound behaves alike on short strings. Returning `state` itself is always correct
    /// (the default); keys of different lexemes are never compared.
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - horizon: the longest string the equivalence must hold for (the same for every call).
    /// - Returns: the key.
    func maskClass(of state: Int32, horizon: Int) -> Int32
    /// A description of the whole automaton for sharing lexeme masks between grammars
    /// (`SharedLexemeMasks`): two lexemes with equal fingerprints accept the same strings from states
    /// with equal `canonicalKey`s, whatever order each determinised its states in. `nil` (the
    /// default) keeps the lexeme's masks to its own grammar.
    var maskFingerprint: String? { get }
    /// A description of `state` (or of its mask class) that does not depend on the order states were
    /// built in: equal keys under one fingerprint mean the same strings are accepted from both states
    /// (with `horizon`: the same strings of at most `horizon` bytes, as `maskClass(of:horizon:)`).
    /// Only asked of lexemes with a fingerprint.
    /// - Parameters:
    ///   - state: a state this lexeme returned.
    ///   - horizon: `nil` for the state itself, else the mask horizon of its class.
    /// - Returns: the key.
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32]
    /// Why the automaton stopped growing (a state limit such as `RegexLexeme.maxDFAStates`), or nil.
    /// Once set, transitions to states it could not build read as dead, so masks are wrong: the
    /// constraint using it fails with this error. Composite lexemes report their parts'.
    var exhausted: ConstraintError? { get }
}

extension ByteLexeme {
    /// Every byte is its own class (see the requirement).
    public func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet { ByteSet(byte: byte) }
    /// Every state is its own class (see the requirement).
    public func maskClass(of state: Int32, horizon: Int) -> Int32 { state }
    /// Not shared (see the requirement).
    public var maskFingerprint: String? { nil }
    /// Never asked: the default fingerprint is `nil` (see the requirement).
    public func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] { [state] }
    /// Never: the automaton has no state limit (see the requirement).
    public var exhausted: ConstraintError? { nil }
}

extension ByteLexeme {
    /// Whether the lexeme accepts exactly `bytes` (a whole-string match).
    /// - Parameter bytes: the candidate string.
    /// - Returns: `true` when it is accepted.
    public func matches(_ bytes: some Sequence<UInt8>) -> Bool {
        var s = startState
        for b in bytes {
            s = next(s, b)
            if s < 0 { return false }
        }
        return isAccepting(s)
    }
}

/// How many lexemes have run out of automaton states, process-wide. `Grammar.exhaustedLexeme` asks
/// its lexemes again only when this has moved, so the check after every mask is one atomic load
/// rather than a call per lexeme (which cost ~1 µs of a 6 µs mask p50 in `bench constraints`).
enum LexemeExhaustion {
    static let events = Atomic<Int>(0)

    /// Records that a lexeme has just become exhausted.
    static func record() { events.add(1, ordering: .relaxed) }
}
