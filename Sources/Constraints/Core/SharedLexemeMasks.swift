import Synchronization

/// Lexeme masks shared by every grammar masked against one vocabulary: a grammar's first mask inside a
/// permissive lexeme (a plain JSON string, an e-mail format, a bounded integer) walks nearly the
/// whole trie, and without sharing every new grammar — every compiled schema of a server — walked it
/// again for the same lexeme.
///
/// Entries are keyed by content, never by object or state number: the lexeme's fingerprint
/// (`ByteLexeme.maskFingerprint`, a description of the whole automaton) and the state's or mask
/// class's canonical key (`ByteLexeme.canonicalKey(of:horizon:)`, e.g. a regex DFA state's sorted NFA
/// state set), which do not depend on the order a lazily determinised automaton numbered its states
/// in. Equal keys therefore mean equal masks, whichever grammar built the entry.
///
/// Thread safety: the table sits behind a `Mutex`, since a vocabulary is shared by every session and
/// thread; entries are immutable values once inserted (their bitsets are copy-on-write), so a reader
/// keeps a valid copy even if the table is cleared after the lookup.
final class SharedLexemeMasks: Sendable {
    struct Key: Hashable, Sendable {
        /// The lexeme's `maskFingerprint`.
        var fingerprint: String
        /// The mask horizon of a mask class's short-slice entry, or `Self.wholeState` for one state's
        /// whole entry (short and deep slices).
        var horizon: Int
        /// The canonical key of the class or state.
        var state: [Int32]

        /// `horizon` of a whole-state entry.
        static let wholeState = -1
    }

    /// Bounds memory (each entry holds one vocabulary-sized bitset, 12.5 KB at 100k tokens, plus its
    /// exits): past this many entries the table is cleared and refilled, so it holds at most about
    /// 26 MB at 100k tokens — the same order as one grammar's own `LexemeMaskCache` bound, and far
    /// more than the classes and states of the bench's schemas together (a few hundred).
    static let maxEntries = 2048

    private let entries = Mutex<[Key: LexemeMaskCache.Entry]>([:])

    /// The entry stored under `key`, if any.
    func entry(_ key: Key) -> LexemeMaskCache.Entry? {
        entries.withLock { $0[key] }
    }

    /// Stores an entry; a racing insert of the same key stores an equal entry, so either wins.
    func insert(_ entry: LexemeMaskCache.Entry, for key: Key) {
        entries.withLock {
            if $0.count >= Self.maxEntries { $0.removeAll(keepingCapacity: true) }
            $0[key] = entry
        }
    }

    /// The number of entries held (for tests).
    var count: Int { entries.withLock { $0.count } }
}
