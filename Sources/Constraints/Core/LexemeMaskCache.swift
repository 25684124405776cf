/// Per (lexeme, automaton state): the tokens that stay inside the lexeme, and the trie nodes where the
/// lexeme may end with the token continuing (those subtrees need the parser).
///
/// Computing an entry walks the vocabulary trie with the bare automaton. The walk is split at the
/// vocabulary's mask horizon: the part for tokens up to the horizon is shared by all states of one
/// mask class (`ByteLexeme.maskClass(of:horizon:)` — a counted string's counts far from the bound
/// are one class), and only the small deep part (longer tokens) is walked per state.
///
/// Entries of lexemes with a fingerprint (`ByteLexeme.maskFingerprint`) are also looked up in, and
/// added to, the vocabulary's `SharedLexemeMasks` by canonical key, so a grammar reuses the walks of
/// earlier grammars that use the same lexeme; this cache stays the lock-free first level.
///
/// Shared by reference between a constraint and its forks. Not thread-safe: a constraint and its forks
/// belong to one decoding sequence, driven from one thread at a time.
final class LexemeMaskCache {
    struct Entry: Sendable {
        /// Tokens whose bytes all stay inside the lexeme.
        var inside: TokenMask
        /// Trie nodes with children where the lexeme may end, and the first byte of each: the parser
        /// walks their children from the set where the lexeme has ended.
        var exitNodes: [Int32]
        var exitFirstBytes: [UInt8]
        /// The exits' children grouped by their byte (`exitChildStart[b]..<exitChildStart[b + 1]`
        /// index `exitChildren` and `exitChildFirstBytes`), so a mask walks only the children whose
        /// byte may follow the lexeme without scanning every exit's children. Filled by `groupExits`.
        var exitChildren: [Int32] = []
        var exitChildFirstBytes: [UInt8] = []
        var exitChildStart: [Int32] = []

        /// Fills the grouped exit children from `exitNodes` (in the whole trie of `v`).
        mutating func groupExits(in v: TokenVocabulary) {
            var counts = [Int32](repeating: 0, count: 257)
            for exit in exitNodes {
                let end = Int(v.subtreeEnd[Int(exit)])
                var child = Int(exit) + 1
                while child < end {
                    counts[Int(v.nodeByte[child]) + 1] += 1
                    child = Int(v.subtreeEnd[child])
                }
            }
            for b in 0..<256 { counts[b + 1] += counts[b] }
            exitChildStart = counts
            var fill = counts
            exitChildren = [Int32](repeating: 0, count: Int(counts[256]))
            exitChildFirstBytes = [UInt8](repeating: 0, count: Int(counts[256]))
            for (k, exit) in exitNodes.enumerated() {
                let end = Int(v.subtreeEnd[Int(exit)])
                var child = Int(exit) + 1
                while child < end {
                    let slot = Int(fill[Int(v.nodeByte[child])])
                    fill[Int(v.nodeByte[child])] += 1
                    exitChildren[slot] = Int32(child)
                    exitChildFirstBytes[slot] = exitFirstBytes[k]
                    child = Int(v.subtreeEnd[child])
                }
            }
        }
    }

    /// Lexemes by object, so a lexeme the grammar uses in several places shares its entries.
    private struct Key: Hashable {
        var lexeme: ObjectIdentifier
        var state: Int32
    }

    private var entries: [Key: Entry] = [:]
    /// Short-slice results per (lexeme, mask class).
    private var classEntries: [Key: Entry] = [:]
    /// Each lexeme's transitions as walks number them, kept across walks: a new state's walk mostly
    /// follows transitions earlier walks already looked up.
    private var tables: [ObjectIdentifier: WalkTable] = [:]
    /// Each lexeme's `maskFingerprint`, asked once (composite lexemes build it from their parts).
    private var fingerprints: [ObjectIdentifier: String?] = [:]
    /// Bounds memory (each entry holds one vocabulary-sized bitset, 12.5 KB at 100k tokens): past this
    /// many states (or classes) the cache is cleared and refilled. 4096 entries ≈ 50 MB at 100k tokens,
    /// as many again for the classes.
    static let maxEntries = 4096

    func entry(lexeme: Int32, state: Int32, grammar: Grammar, vocabulary v: TokenVocabulary) -> Entry {
        let automaton = grammar.lexemes[Int(lexeme)]
        let id = ObjectIdentifier(automaton)
        let key = Key(lexeme: id, state: state)
        if let e = entries[key] { return e }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        if classEntries.count >= Self.maxEntries { classEntries.removeAll(keepingCapacity: true) }
        let fingerprint: String?
        if let known = fingerprints[id] {
            fingerprint = known
        } else {
            fingerprint = automaton.maskFingerprint
            fingerprints[id] = fingerprint
        }
        let sharedKey = fingerprint.map {
            SharedLexemeMasks.Key(fingerprint: $0, horizon: SharedLexemeMasks.Key.wholeState,
                                  state: automaton.canonicalKey(of: state, horizon: nil))
        }
        if let sharedKey, let e = v.sharedMasks.entry(sharedKey) {
            entries[key] = e
            return e
        }
        let table = walkTable(for: automaton)
        let classKey = Key(lexeme: id, state: automaton.maskClass(of: state, horizon: v.maskHorizon))
        var e: Entry
        if let known = classEntries[classKey] {
            e = known
        } else {
            let sharedClassKey = fingerprint.map {
                SharedLexemeMasks.Key(fingerprint: $0, horizon: v.maskHorizon,
                                      state: automaton.canonicalKey(of: state, horizon: v.maskHorizon))
            }
            if let sharedClassKey, let shared = v.sharedMasks.entry(sharedClassKey) {
                e = shared
            } else {
                e = Self.walk(v.shortSlice, table: table, from: state, count: v.count)
                if let sharedClassKey { v.sharedMasks.insert(e, for: sharedClassKey) }
            }
            classEntries[classKey] = e
        }
        let deep = Self.walk(v.deepSlice, table: table, from: state, count: v.count)
        e.inside.formUnion(deep.inside)
        e.exitNodes += deep.exitNodes
        e.exitFirstBytes += deep.exitFirstBytes
        e.groupExits(in: v)
        entries[key] = e
        if let sharedKey { v.sharedMasks.insert(e, for: sharedKey) }
        return e
    }

    /// The lexeme's memoised transitions (a fresh table once the kept one has grown past
    /// `WalkTable.maxStates`).
    func walkTable(for automaton: any ByteLexeme) -> WalkTable {
        let id = ObjectIdentifier(automaton)
        if let known = tables[id], known.count < WalkTable.maxStates { return known }
        let table = WalkTable(automaton: automaton)
        tables[id] = table
        return table
    }

    /// Walks a trie slice with the automaton from `state`: the tokens it reports whose bytes the
    /// automaton reads without dying, and the exits (reporting nodes with children where it accepts).
    ///
    /// Transitions are memoised in a table local to the walk (`WalkTable`), so the per-node step is a
    /// few loads from raw buffers instead of a call through the lexeme protocol.
    private static func walk(_ slice: TokenTrieSlice, table: WalkTable, from state: Int32, count: Int) -> Entry {
        var inside = TokenMask(count: count)
        var exitNodes: [Int32] = [], exitFirstBytes: [UInt8] = []
        // Per-depth local state, in a fixed buffer (no per-node allocation).
        let states = UnsafeMutablePointer<Int32>.allocate(capacity: slice.maxDepth + 1)
        defer { states.deallocate() }
        var firstByte: UInt8 = 0
        states[0] = table.local(state)
        inside.withUnsafeMutableWords { words in
        slice.nodeByte.withUnsafeBufferPointer { bytes in
        slice.nodeDepth.withUnsafeBufferPointer { depths in
        slice.subtreeEnd.withUnsafeBufferPointer { ends in
        slice.nodeTokenStart.withUnsafeBufferPointer { tokenStart in
        slice.nodeTokens.withUnsafeBufferPointer { tokens in
        slice.reportsExit.withUnsafeBufferPointer { reportsExit in
        slice.plainBelow.withUnsafeBufferPointer { plainBelow in
            let n = bytes.count
            var transitions = table.transitions
            var plainLoop = table.plainLoop
            var i = 0
            while i < n {
                let depth = Int(depths[i])
                let byte = bytes[i]
                let slot = Int(states[depth &- 1]) &* 256 &+ Int(byte)
                var next = transitions[slot]
                if next == WalkTable.unknown {
                    next = table.lookUp(slot)
                    transitions = table.transitions
                    plainLoop = table.plainLoop
                }
                if next < 0 {
                    i = Int(ends[i])
                    continue
                }
                let local = next &>> 1
                var t = Int(tokenStart[i])
                let tokensEnd = Int(tokenStart[i &+ 1])
                while t < tokensEnd {
                    let id = Int(tokens[t])
                    words[id &>> 6] |= UInt64(1) &<< UInt64(id & 63)
                    t &+= 1
                }
                states[depth] = local
                if depth == 1 { firstByte = byte }
                if next & 1 == 0 && plainBelow[i] && plainLoop[Int(local)] != 0
                    && (plainLoop[Int(local)] > 0 || table.decidePlainLoop(local, transitions: &transitions, flags: &plainLoop)) {
                    // Every byte below reads back into this state, which does not accept: all the
                    // subtree's tokens stay inside and none is an exit. Their ids are contiguous.
                    var t = Int(tokenStart[i &+ 1])
                    let subtreeTokensEnd = Int(tokenStart[Int(ends[i])])
                    while t < subtreeTokensEnd {
                        let id = Int(tokens[t])
                        words[id &>> 6] |= UInt64(1) &<< UInt64(id & 63)
                        t &+= 1
                    }
                    i = Int(ends[i])
                    continue
                }
                if next & 1 != 0 && reportsExit[i] {
                    // The lexeme may end here and the token go on in the grammar: the parser walks
                    // the children from here; continuations inside the lexeme are covered here.
                    exitNodes.append(slice.fullNode[i])
                    exitFirstBytes.append(firstByte)
                }
                i &+= 1
            }
        }}}}}}}}
        return Entry(inside: inside, exitNodes: exitNodes, exitFirstBytes: exitFirstBytes)
    }
}

/// A lexeme's transitions as trie walks use them, numbered by table-local state: `transitions[local *
/// 256 + byte]` is the next local state times two, plus one when it accepts; `-1` dead, `unknown` not
/// looked up yet. Kept across walks of one lexeme by `LexemeMaskCache`.
final class WalkTable {
    static let unknown: Int32 = -2
    /// Past this many states (1 KB of table each, so at most about 4 MB per lexeme) the cache starts a
    /// fresh table for the next walk.
    static let maxStates = 4096
    let automaton: any ByteLexeme
    /// Lexeme state of each local state.
    private var lexemeState: [Int32] = []
    private var localOf: [Int32: Int32] = [:]
    private(set) var transitions: UnsafeMutablePointer<Int32>
    private var capacity = 16
    /// Per local state: whether it reads every byte of `TokenTrieSlice.plainBytes` back into itself
    /// (1), not (0), or not decided yet (-1); see `decidePlainLoop`.
    private(set) var plainLoop: UnsafeMutablePointer<Int8>

    init(automaton: any ByteLexeme) {
        self.automaton = automaton
        transitions = .allocate(capacity: capacity * 256)
        transitions.initialize(repeating: Self.unknown, count: capacity * 256)
        plainLoop = .allocate(capacity: capacity)
        plainLoop.initialize(repeating: -1, count: capacity)
    }

    deinit {
        transitions.deallocate()
        plainLoop.deallocate()
    }

    /// The number of local states.
    var count: Int { lexemeState.count }

    /// The local number of lexeme state `s`, numbering it if new; may move `transitions`.
    func local(_ s: Int32) -> Int32 {
        if let known = localOf[s] { return known }
        let n = Int32(lexemeState.count)
        localOf[s] = n
        lexemeState.append(s)
        if lexemeState.count > capacity {
            let grown = UnsafeMutablePointer<Int32>.allocate(capacity: capacity * 2 * 256)
            grown.moveInitialize(from: transitions, count: capacity * 256)
            (grown + capacity * 256).initialize(repeating: Self.unknown, count: capacity * 256)
            transitions.deallocate()
            transitions = grown
            let grownFlags = UnsafeMutablePointer<Int8>.allocate(capacity: capacity * 2)
            grownFlags.moveInitialize(from: plainLoop, count: capacity)
            (grownFlags + capacity).initialize(repeating: -1, count: capacity)
            plainLoop.deallocate()
            plainLoop = grownFlags
            capacity *= 2
        }
        return n
    }

    /// Decides and records `plainLoop[local]`: whether local state `local` reads every byte of
    /// `TokenTrieSlice.plainBytes` back into itself. Looking transitions up may move both tables,
    /// so the caller's copies of the pointers are refreshed.
    /// - Returns: the decision.
    @inline(never)
    func decidePlainLoop(_ local: Int32, transitions pointer: inout UnsafeMutablePointer<Int32>,
                         flags: inout UnsafeMutablePointer<Int8>) -> Bool {
        var all = true
        TokenTrieSlice.plainBytes.forEach { b in
            guard all else { return }
            let slot = Int(local) << 8 | Int(b)
            var next = transitions[slot]
            if next == Self.unknown { next = lookUp(slot) }
            if next < 0 || next >> 1 != local { all = false }
        }
        plainLoop[Int(local)] = all ? 1 : 0
        pointer = transitions
        flags = plainLoop
        return all
    }

    /// Fills `transitions[slot]` from the lexeme; may move `transitions`.
    func lookUp(_ slot: Int) -> Int32 {
        let s = automaton.next(lexemeState[slot >> 8], UInt8(truncatingIfNeeded: slot))
        let next = s < 0 ? -1 : local(s) << 1 | (automaton.isAccepting(s) ? 1 : 0)
        transitions[slot] = next
        return next
    }
}
