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
                // An exhausted automaton read states it could not build as dead: keep such walks
                // out of the table other grammars read.
                if let sharedClassKey, automaton.exhausted == nil { v.sharedMasks.insert(e, for: sharedClassKey) }
            }
            classEntries[classKey] = e
        }
        let deep = Self.walk(v.deepSlice, table: table, from: state, count: v.count)
        e.inside.formUnion(deep.inside)
        e.exitNodes += deep.exitNodes
        e.exitFirstBytes += deep.exitFirstBytes
        e.groupExits(in: v)
        entries[key] = e
        if let sharedKey, automaton.exhausted == nil { v.sharedMasks.insert(e, for: sharedKey) }
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
        var e = Entry(inside: TokenMask(count: 0), exitNodes: [], exitFirstBytes: [])
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
        slice.uniformBelow.withUnsafeBufferPointer { uniformBelow in
        slice.uniformHeight.withUnsafeBufferPointer { uniformHeight in
        slice.wholeSubtree.withUnsafeBufferPointer { wholeSubtree in
            let n = bytes.count
            var transitions = table.transitions
            var uniformNext = table.uniformNext
            /// Marks the tokens listed for nodes `from..<to`.
            @inline(__always) func mark(_ from: Int, _ to: Int) {
                var t = Int(tokenStart[from])
                let end = Int(tokenStart[to])
                while t < end {
                    let id = Int(tokens[t])
                    words[id &>> 6] |= UInt64(1) &<< UInt64(id & 63)
                    t &+= 1
                }
            }
            var i = 0
            while i < n {
                let depth = Int(depths[i])
                let byte = bytes[i]
                let slot = Int(states[depth &- 1]) &* 256 &+ Int(byte)
                var next = transitions[slot]
                if next == WalkTable.unknown {
                    next = table.lookUp(slot)
                    transitions = table.transitions
                    uniformNext = table.uniformNext
                }
                if next < 0 {
                    i = Int(ends[i])
                    continue
                }
                let local = next &>> 1
                mark(i, i &+ 1)
                states[depth] = local
                if depth == 1 { firstByte = byte }
                if uniformBelow[i] != 0 {
                    // Every byte below is of one uniform set. Without accepting: when at each level
                    // that set's bytes lead to one live state that does not accept, all the
                    // subtree's tokens stay inside and none is an exit. Accepting: when they read
                    // back into this state (a number's digits), all stay inside; the lexeme may end
                    // at every node, but what the parser would walk from those exits lies inside the
                    // subtree, read by the lexeme already — so no exit is recorded, provided the
                    // slice holds the whole subtree (no deeper child with another byte). Token ids
                    // below are contiguous.
                    if table.takesUniformSubtree(uniformBelow[i], code: next, height: Int(uniformHeight[i]),
                                                 whole: wholeSubtree[i], transitions: &transitions, uniformNext: &uniformNext) {
                        mark(i &+ 1, Int(ends[i]))
                        i = Int(ends[i])
                        continue
                    }
                }
                if next & 1 != 0 && reportsExit[i] {
                    // The lexeme may end here and the token go on in the grammar: the parser walks
                    // the children from here; continuations inside the lexeme are covered here.
                    e.exitNodes.append(slice.fullNode[i])
                    e.exitFirstBytes.append(firstByte)
                }
                i &+= 1
            }
        }}}}}}}}}}
        e.inside = inside
        return e
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
    /// Per local state and uniform set k (`TokenTrieSlice.uniformSets`), at `local * sets + k`: the
    /// state every byte of the set leads to, encoded as in `transitions`; -1 when they lead to
    /// different or dead states; `unknown` not decided yet (see `decideUniformNext`).
    private(set) var uniformNext: UnsafeMutablePointer<Int32>
    private static let sets = TokenTrieSlice.uniformSets.count

    init(automaton: any ByteLexeme) {
        self.automaton = automaton
        transitions = .allocate(capacity: capacity * 256)
        transitions.initialize(repeating: Self.unknown, count: capacity * 256)
        uniformNext = .allocate(capacity: capacity * Self.sets)
        uniformNext.initialize(repeating: Self.unknown, count: capacity * Self.sets)
    }

    deinit {
        transitions.deallocate()
        uniformNext.deallocate()
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
            let grownUniform = UnsafeMutablePointer<Int32>.allocate(capacity: capacity * 2 * Self.sets)
            grownUniform.moveInitialize(from: uniformNext, count: capacity * Self.sets)
            (grownUniform + capacity * Self.sets).initialize(repeating: Self.unknown, count: capacity * Self.sets)
            uniformNext.deallocate()
            uniformNext = grownUniform
            capacity *= 2
        }
        return n
    }

    /// Whether every token below a node with uniform subtree `kinds` and `height`
    /// (`TokenTrieSlice.uniformBelow`, `uniformHeight`), entered in the lexeme state `code` encodes,
    /// is read by the lexeme itself, so the walk takes the subtree at once: the set's bytes lead
    /// level after level to live states that do not accept (no exit below), or, from an accepting
    /// state, read back into it (what the parser would be handed at those exits lies in the subtree,
    /// read already) — the latter only when the walk holds the `whole` subtree. Deciding may move
    /// both tables; the caller's copies of the pointers are refreshed.
    @inline(__always)
    func takesUniformSubtree(_ kinds: UInt8, code: Int32, height: Int, whole: Bool,
                             transitions pointer: inout UnsafeMutablePointer<Int32>,
                             uniformNext next: inout UnsafeMutablePointer<Int32>) -> Bool {
        code & 1 == 0
            ? uniformRun(kinds, from: code >> 1, height: height, transitions: &pointer, uniformNext: &next)
            : whole && uniformSelfLoop(kinds, code: code, transitions: &pointer, uniformNext: &next)
    }

    /// `takesUniformSubtree` for a caller that keeps no copy of `uniformNext`.
    @inline(__always)
    func takesUniformSubtree(_ kinds: UInt8, code: Int32, height: Int, whole: Bool,
                             transitions pointer: inout UnsafeMutablePointer<Int32>) -> Bool {
        var next = uniformNext
        return takesUniformSubtree(kinds, code: code, height: height, whole: whole, transitions: &pointer, uniformNext: &next)
    }

    /// Whether, for one of the uniform sets in `kinds` (`TokenTrieSlice.uniformBelow`), `height`
    /// levels of that set's bytes from local state `local` keep the lexeme alive and not accepting,
    /// deciding `uniformNext` where needed. Deciding looks transitions up, which may move both
    /// tables, so the caller's copies of the pointers are refreshed.
    @inline(__always)
    private func uniformRun(_ kinds: UInt8, from local: Int32, height: Int, transitions pointer: inout UnsafeMutablePointer<Int32>,
                    uniformNext next: inout UnsafeMutablePointer<Int32>) -> Bool {
        var kinds = kinds
        while kinds != 0 {
            let k = kinds.trailingZeroBitCount
            kinds &= kinds - 1
            var s = local, ok = true
            for _ in 0..<height {
                let p = uniformTarget(s, set: k, transitions: &pointer, uniformNext: &next)
                if p < 0 || p & 1 != 0 { ok = false; break }
                // A state that reads the set back into itself stays so at every further level.
                if p >> 1 == s { break }
                s = p >> 1
            }
            if ok { return true }
        }
        return false
    }

    /// Whether, for a uniform set in `kinds`, the set's bytes all lead from the state `code` encodes
    /// (as in `transitions`) back to it, deciding `uniformNext` where needed (which may move both
    /// tables; the caller's pointers are refreshed).
    @inline(__always)
    private func uniformSelfLoop(_ kinds: UInt8, code: Int32, transitions pointer: inout UnsafeMutablePointer<Int32>,
                         uniformNext next: inout UnsafeMutablePointer<Int32>) -> Bool {
        var kinds = kinds
        let local = code >> 1
        while kinds != 0 {
            let k = kinds.trailingZeroBitCount
            kinds &= kinds - 1
            if uniformTarget(local, set: k, transitions: &pointer, uniformNext: &next) == code { return true }
        }
        return false
    }

    /// `uniformNext` for local state `local` and uniform set `set`, decided if it is not yet.
    @inline(__always)
    private func uniformTarget(_ local: Int32, set: Int, transitions pointer: inout UnsafeMutablePointer<Int32>,
                               uniformNext next: inout UnsafeMutablePointer<Int32>) -> Int32 {
        let p = next[Int(local) &* Self.sets &+ set]
        return p == Self.unknown ? decideUniformNext(local, set: set, transitions: &pointer, uniformNext: &next) : p
    }

    /// Decides and records `uniformNext` for local state `local` and uniform set `set`. Lexemes
    /// report byte classes (`ByteLexeme.transitionClass`), so this is usually one or two computed
    /// transitions, not one per byte.
    /// - Returns: the decision.
    @inline(never)
    func decideUniformNext(_ local: Int32, set: Int, transitions pointer: inout UnsafeMutablePointer<Int32>,
                           uniformNext next: inout UnsafeMutablePointer<Int32>) -> Int32 {
        var common = Self.unknown
        TokenTrieSlice.uniformSets[set].forEach { b in
            guard common != -1 else { return }
            let slot = Int(local) << 8 | Int(b)
            var target = transitions[slot]
            if target == Self.unknown { target = lookUp(slot) }
            common = target < 0 || (common != Self.unknown && target != common) ? -1 : target
        }
        uniformNext[Int(local) * Self.sets + set] = common
        pointer = transitions
        next = uniformNext
        return common
    }

    /// Fills `transitions[slot]`, and the slots of the bytes of its transition class, from the
    /// lexeme; may move `transitions`.
    func lookUp(_ slot: Int) -> Int32 {
        let state = lexemeState[slot >> 8], byte = UInt8(truncatingIfNeeded: slot)
        let s = automaton.next(state, byte)
        let next = s < 0 ? -1 : local(s) << 1 | (automaton.isAccepting(s) ? 1 : 0)
        // `local` may have moved the table: address the row afterwards.
        let row = transitions + (slot & ~255)
        automaton.transitionClass(state, byte).forEach { row[Int($0)] = next }
        transitions[slot] = next
        return next
    }
}
