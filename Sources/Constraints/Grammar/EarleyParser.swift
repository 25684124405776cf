/// An incremental Earley recogniser over bytes, with lexemes as terminals.
///
/// The chart is a stack of Earley sets stored in two flat arrays, one set per byte read: reading a byte
/// pushes a set, `rollback(toBytes:)` truncates — O(1), which is what token rollback and the mask's trie
/// walk need. Copying the parser (it is a value) forks it; the arrays are shared until written.
///
/// Items before a lexeme carry the lexeme's automaton state, so a lexeme is scanned byte by byte with
/// its deterministic automaton instead of expanding it into grammar rules (the "lexer layer").
/// Nullable rules are handled as in Aycock & Horspool, "Practical Earley Parsing" (2002): predicting a
/// nullable rule also advances over it.
///
/// Items of rules that inherit keys (`Grammar.inheritsKeys`, an object's member loop) carry the set of
/// object keys read so far (`Item.keys`, an id in `Grammar.keySets`): a production that writes a key
/// (`Grammar.Production.uniqueKey`) is not predicted once its key is in the set, and the rules it
/// predicts inherit the set with its key added. This is what no context-free grammar of polynomial
/// size can say (an object of n named properties, each at most once, in any order, needs 2ⁿ states
/// as rules), and it lives in the chart, so rollback and forks stay exact for free.
struct EarleyParser {
    struct Item: Hashable {
        var production: Int32
        var dot: Int32
        var origin: Int32
        /// Lexeme automaton state when the symbol after the dot is a lexeme, else -1.
        var lexState: Int32
        /// The object keys read so far by the member loop this item belongs to (`Grammar.keySets`
        /// id); `KeySetTable.empty` outside member loops.
        var keys: Int32 = KeySetTable.empty

        func hash(into hasher: inout Hasher) {
            hasher.combine(UInt64(UInt32(bitPattern: production)) << 32 | UInt64(UInt32(bitPattern: dot)))
            hasher.combine(UInt64(UInt32(bitPattern: origin)) << 32 | UInt64(UInt32(bitPattern: lexState)))
            hasher.combine(keys)
        }
    }

    let grammar: Grammar
    /// All items of all sets, set after set.
    private(set) var items: [Item] = []
    /// Start index in `items` of each set; set `k` holds the items after `k` bytes.
    private(set) var setStarts: [Int32] = []
    /// Membership for the set being built once it outgrows a linear scan (cleared per set).
    private var seen: Set<Item> = []
    private var seenInUse = false
    /// Sets up to this size are deduplicated by scanning them: cheaper than hashing for the items a
    /// JSON or regex position usually has. Measured with `decograph bench constraints --repeats 10`
    /// (same run, two alternations): 32 against 8 took the JSON mask p50 from 6.5–9.7 µs to 4.9–5.9 µs.
    static let linearDedupLimit = 32

    /// Chart items visited so far: each item a set's closure processes and each origin item a
    /// completion scans. This is the parser's whole cost, so bounding it bounds time and memory.
    private(set) var work = 0
    /// The most `work` may reach; past it the set being built is dropped, the byte is refused and
    /// `exhausted` says so. Unbounded by default; `Constraint` sets it per call.
    var workLimit = Int.max
    /// The budget `budget(_:)` last granted, for the message.
    private var callLimit = Int.max
    /// Why the last operation stopped early (the work limit), or nil.
    private(set) var exhausted: ConstraintError?

    init(grammar: Grammar) {
        self.grammar = grammar
        setStarts.append(0)
        add(production: 0, dot: 0, origin: 0, keys: KeySetTable.empty)
        close()
    }

    /// Bytes read so far.
    var byteCount: Int { setStarts.count - 1 }

    private var lastSet: Range<Int> { Int(setStarts[setStarts.count - 1])..<items.count }

    /// Whether the bytes read so far form a complete sentence of the grammar.
    var isAccepting: Bool {
        for i in lastSet {
            let item = items[i]
            if item.production == 0 && item.origin == 0 && Int(item.dot) == grammar.productions[0].rhs.count {
                return true
            }
        }
        return false
    }

    /// Adds an item to the set being built, expanding a lexeme's start and nullable lexemes.
    /// A loop, not recursion, over a run of nullable lexemes: a production may hold thousands.
    private mutating func add(production: Int32, dot: Int32, origin: Int32, keys: Int32) {
        let rhs = grammar.productions[Int(production)].rhs
        var dot = dot
        while true {
            var lexState: Int32 = -1
            var nullable = false
            if Int(dot) < rhs.count, case .lexeme(let l) = rhs[Int(dot)] {
                let lexeme = grammar.lexemes[Int(l)]
                lexState = lexeme.startState
                nullable = lexeme.isAccepting(lexState)
            }
            // An item already present had its nullable successors added with it: stopping here
            // keeps a run of n nullable lexemes O(n) per set rather than O(n²).
            guard insert(Item(production: production, dot: dot, origin: origin, lexState: lexState, keys: keys)), nullable else { return }
            dot += 1
        }
    }

    /// - Returns: whether the item is new to the set.
    @discardableResult
    private mutating func insert(_ item: Item) -> Bool {
        let start = Int(setStarts[setStarts.count - 1])
        if !seenInUse {
            if items.count - start < Self.linearDedupLimit {
                for i in start..<items.count where items[i] == item { return false }
                items.append(item)
                return true
            }
            seen.formUnion(items[start...])
            seenInUse = true
        }
        guard seen.insert(item).inserted else { return false }
        items.append(item)
        return true
    }

    /// Starts deduplication afresh for a new set.
    private mutating func resetSeen() {
        if seenInUse {
            seen.removeAll(keepingCapacity: true)
            seenInUse = false
        }
    }

    /// Runs prediction and completion over the set being built until nothing new appears.
    private mutating func close() {
        let current = Int32(setStarts.count - 1)
        var i = Int(setStarts[Int(current)])
        while i < items.count {
            let item = items[i]
            i += 1
            work += 1
            if work > workLimit { return }
            let production = grammar.productions[Int(item.production)]
            if Int(item.dot) == production.rhs.count {
                // Completion: advance every item in the origin set waiting for this rule.
                let lhs = production.lhs
                let originStart = Int(setStarts[Int(item.origin)])
                let originEnd = item.origin == current ? items.count : Int(setStarts[Int(item.origin) + 1])
                var j = originStart
                work += originEnd - originStart
                if work > workLimit { return }
                while j < originEnd {
                    let waiting = items[j]
                    j += 1
                    let rhs = grammar.productions[Int(waiting.production)].rhs
                    if Int(waiting.dot) < rhs.count, case .rule(let r) = rhs[Int(waiting.dot)], r == lhs {
                        add(production: waiting.production, dot: waiting.dot + 1, origin: waiting.origin, keys: waiting.keys)
                    }
                }
            } else if case .rule(let r) = production.rhs[Int(item.dot)] {
                if grammar.inheritsKeys[Int(r)] {
                    // A member loop: the keys read so far, with the one this production wrote.
                    let keys = production.uniqueKey < 0 ? item.keys : grammar.keySets.adding(production.uniqueKey, to: item.keys)
                    for p in grammar.productionsOfRule[Int(r)] {
                        let key = grammar.productions[Int(p)].uniqueKey
                        if key >= 0, grammar.keySets.contains(key, in: keys) { continue }
                        add(production: p, dot: 0, origin: current, keys: keys)
                    }
                } else {
                    for p in grammar.productionsOfRule[Int(r)] { add(production: p, dot: 0, origin: current, keys: KeySetTable.empty) }
                }
                if grammar.nullable[Int(r)] {
                    add(production: item.production, dot: item.dot + 1, origin: item.origin, keys: item.keys)
                }
            }
        }
    }

    /// Reads one byte.
    /// - Parameter byte: the byte.
    /// - Returns: `false` (and no change) when no sentence of the grammar continues with it.
    mutating func advance(_ byte: UInt8) -> Bool {
        let previous = lastSet
        let newStart = beginSet()
        for i in previous {
            let item = items[i]
            let rhs = grammar.productions[Int(item.production)].rhs
            guard Int(item.dot) < rhs.count else { continue }
            switch rhs[Int(item.dot)] {
            case .bytes(let set):
                if set.contains(byte) { add(production: item.production, dot: item.dot + 1, origin: item.origin, keys: item.keys) }
            case .lexeme(let l):
                let lexeme = grammar.lexemes[Int(l)]
                let next = lexeme.next(item.lexState, byte)
                if next >= 0 {
                    insert(Item(production: item.production, dot: item.dot, origin: item.origin, lexState: next, keys: item.keys))
                    if lexeme.isAccepting(next) {
                        add(production: item.production, dot: item.dot + 1, origin: item.origin, keys: item.keys)
                    }
                }
            case .rule:
                continue
            }
        }
        return endSet(startingAt: newStart)
    }

    /// Opens a new, empty set after the last one.
    /// - Returns: the new set's first item index.
    private mutating func beginSet() -> Int32 {
        let start = Int32(items.count)
        setStarts.append(start)
        resetSeen()
        return start
    }

    /// Closes the set opened by `beginSet()`, or drops it when nothing was scanned into it.
    /// - Returns: whether the set was kept.
    private mutating func endSet(startingAt start: Int32) -> Bool {
        if items.count == Int(start) {
            setStarts.removeLast()
            return false
        }
        close()
        if work > workLimit {
            // The closure stopped part way: drop the set, so the chart stays what it was.
            if exhausted == nil {
                exhausted = ConstraintError(.limitExceeded, at: "byte \(byteCount - 1)", feature: "parser work",
                                            "the grammar needed more than \(callLimit) Earley chart items in one call (a mask or a token; limit \(callLimit), `Constraint.maxParserWork`): it is too ambiguous here (`root ::= root root | \"a\" | \"\"` costs time cubic in the output); make it unambiguous or the output shorter")
            }
            items.removeSubrange(Int(start)...)
            setStarts.removeLast()
            return false
        }
        return true
    }

    /// Starts a fresh budget of `limit` chart items for the next operation and forgets an earlier
    /// exhaustion.
    mutating func budget(_ limit: Int) {
        exhausted = nil
        callLimit = limit
        workLimit = work > Int.max - limit ? Int.max : work + limit
    }

    /// Undoes bytes back to `count` bytes read.
    /// - Parameter count: a byte count not above `byteCount`.
    mutating func rollback(toBytes count: Int) {
        guard count < byteCount else { return }
        items.removeSubrange(Int(setStarts[count + 1])...)
        setStarts.removeSubrange((count + 1)...)
    }

    /// Reads bytes, stopping at the first rejected one (which is not read).
    /// - Returns: whether all were read.
    mutating func advance(bytes: [UInt8]) -> Bool {
        for b in bytes where !advance(b) { return false }
        return true
    }

    /// Pushes the set where the lexeme items of the last set at (`lexeme`, `state`) have just ended:
    /// their successors, closed. It stands for every position where the lexeme may end after bytes
    /// that stay inside it, since what may follow the lexeme does not depend on its bytes (the items
    /// completed, and their origins, are the same); only set numbers differ. `rollback(toBytes:)`
    /// removes it.
    /// - Returns: `false` (nothing pushed) when no item continues.
    mutating func pushLexemeEnd(lexeme: Int32, state: Int32) -> Bool {
        let previous = lastSet
        let newStart = beginSet()
        for i in previous {
            let item = items[i]
            let rhs = grammar.productions[Int(item.production)].rhs
            if item.lexState == state, Int(item.dot) < rhs.count, case .lexeme(let l) = rhs[Int(item.dot)], l == lexeme {
                add(production: item.production, dot: item.dot + 1, origin: item.origin, keys: item.keys)
            }
        }
        return endSet(startingAt: newStart)
    }

    /// Visits what can read the next byte in the last set: byte-set terminals are added to `bytes`,
    /// each lexeme item's (lexeme, automaton state) goes to `lexeme`, which returns `false` to stop.
    /// - Returns: `false` when `lexeme` stopped the visit.
    private func forEachScanner(bytes: inout ByteSet, lexeme: (Int32, Int32) -> Bool) -> Bool {
        for i in lastSet {
            let item = items[i]
            let rhs = grammar.productions[Int(item.production)].rhs
            guard Int(item.dot) < rhs.count else { continue }
            switch rhs[Int(item.dot)] {
            case .rule: continue
            case .bytes(let set): bytes.formUnion(set)
            case .lexeme(let l): if !lexeme(l, item.lexState) { return false }
            }
        }
        return true
    }

    /// When the last set reads bytes through one lexeme only — every lexeme item is lexeme `L` in
    /// automaton state `s` — and what follows `L`'s end reads only byte-set terminals: `L`, `s`, the
    /// byte terminals of the last set (`here`), and the bytes that may follow wherever `L` ends
    /// (`follow`, the same at every end position). Below such a set, bytes that `L` reads and that
    /// cannot follow its end need no parser step (the mask's trie walk runs the lexeme's automaton
    /// alone there). Leaves the parser unchanged.
    mutating func lexemeRun() -> (lexeme: Int32, state: Int32, here: ByteSet, follow: ByteSet)? {
        var group: (Int32, Int32)? = nil
        var here = ByteSet()
        let single = forEachScanner(bytes: &here) { l, state in
            guard let g = group else { group = (l, state); return true }
            return g.0 == l && g.1 == state
        }
        guard single, let (lexeme, state) = group else { return nil }
        let base = byteCount
        guard pushLexemeEnd(lexeme: lexeme, state: state) else { return (lexeme, state, here, ByteSet()) }
        defer { rollback(toBytes: base) }
        var follow = ByteSet()
        guard forEachScanner(bytes: &follow, lexeme: { _, _ in false }) else { return nil }
        return (lexeme, state, here, follow)
    }

    /// What can read the next byte: the lexeme items (lexeme, automaton state), deduplicated, and the
    /// union of the byte-set terminals after a dot.
    var scannable: (lexemes: [(Int32, Int32)], bytes: ByteSet) {
        var lexemes: [(Int32, Int32)] = []
        var bytes = ByteSet()
        _ = forEachScanner(bytes: &bytes) { l, state in
            if !lexemes.contains(where: { $0.0 == l && $0.1 == state }) { lexemes.append((l, state)) }
            return true
        }
        return (lexemes, bytes)
    }

    /// The bytes some continuation may read next.
    var allowedBytes: ByteSet {
        var allowed = ByteSet()
        var lexemeBytes = ByteSet()
        _ = forEachScanner(bytes: &allowed) { l, state in
            let lexeme = grammar.lexemes[Int(l)]
            for b in 0...255 where lexeme.next(state, UInt8(b)) >= 0 { lexemeBytes.insert(UInt8(b)) }
            return true
        }
        allowed.formUnion(lexemeBytes)
        return allowed
    }
}
