/// The shortest byte strings a grammar's symbols derive, and lexemes' shortest completions: what
/// closing an output cut short (`Constraint.closingTokens`) appends.
///
/// Rules by Knuth's generalisation of Dijkstra's algorithm to grammars ("A generalization of
/// Dijkstra's algorithm", 1977): a rule's shortest yield is final once all rules of some production
/// are final, in order of length, so each rule's chosen production uses only rules finalised before
/// it and the expansion never loops. Lexemes by breadth-first search over their automaton. Lengths
/// are bounded by `maxBytes` (longer counts as none), lexeme searches by `maxLexemeStates`.
final class ShortestCompletions {
    let grammar: Grammar
    /// Longest completion considered, in bytes.
    let maxBytes: Int
    /// Per rule: its shortest yield's length (`none` when it has none within `maxBytes`).
    private var ruleLength: [Int]
    /// Per rule: the production giving it.
    private var ruleProduction: [Int32]
    /// Per rule: its shortest yield, expanded on demand.
    private var ruleYield: [Int32: [UInt8]] = [:]
    /// Per lexeme: its shortest string (from the start state), searched on demand.
    private var lexemeYield: [Int32: [UInt8]?] = [:]

    static let none = Int.max
    /// Automaton states one lexeme search visits at most: every state reads up to 256 bytes, so this
    /// bounds a search at about a million transitions.
    static let maxLexemeStates = 4096
    /// Bytes tried first, so that among completions of equal length the readable one wins (`0`, `a`,
    /// `A`, printable ASCII, then the rest).
    static let byteOrder: [UInt8] = {
        var order = Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
            + Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        let first = Set(order)
        order += (UInt8(0x20)...0x7E).filter { !first.contains($0) }
        order += Array(UInt8(0x00)...0x1F) + Array(UInt8(0x7F)...0xFF)
        return order
    }()

    init(grammar: Grammar, maxBytes: Int) {
        self.grammar = grammar
        self.maxBytes = maxBytes
        let rules = grammar.ruleNames.count
        ruleLength = [Int](repeating: Self.none, count: rules)
        ruleProduction = [Int32](repeating: -1, count: rules)
        computeRuleLengths()
    }

    /// Knuth's algorithm with a bucket queue (lengths are bounded by `maxBytes`, and a production's
    /// length is at least that of its last finalised rule, so buckets are visited in order).
    private func computeRuleLengths() {
        let productions = grammar.productions
        var pending = [Int](repeating: 0, count: productions.count)
        var uses = [[Int32]](repeating: [], count: grammar.ruleNames.count)
        var buckets = [[(rule: Int32, production: Int32)]](repeating: [], count: maxBytes + 1)
        func push(_ p: Int) {
            let length = suffixLength(Int32(p), from: 0)
            if length <= maxBytes { buckets[length].append((productions[p].lhs, Int32(p))) }
        }
        for (p, production) in productions.enumerated() {
            for case .rule(let r) in production.rhs {
                pending[p] += 1
                uses[Int(r)].append(Int32(p))
            }
            if pending[p] == 0 { push(p) }
        }
        var length = 0
        while length <= maxBytes {
            guard let (rule, production) = buckets[length].popLast() else {
                length += 1
                continue
            }
            guard ruleLength[Int(rule)] == Self.none else { continue }
            ruleLength[Int(rule)] = length
            ruleProduction[Int(rule)] = production
            for p in uses[Int(rule)] {
                pending[Int(p)] -= 1
                if pending[Int(p)] == 0 { push(Int(p)) }
            }
        }
    }

    /// The shortest length of what `symbol` derives (`none` if nothing within bounds).
    func length(of symbol: Grammar.Symbol) -> Int {
        switch symbol {
        case .bytes(let set): return set.isEmpty ? Self.none : 1
        case .rule(let r): return ruleLength[Int(r)]
        case .lexeme(let l): return lexemeShortest(l)?.count ?? Self.none
        }
    }

    /// The shortest length of production `p`'s symbols from `from` on, saturating at `none`.
    func suffixLength(_ p: Int32, from: Int) -> Int {
        var total = 0
        for symbol in grammar.productions[Int(p)].rhs[from...] {
            let n = length(of: symbol)
            guard n != Self.none, total <= maxBytes - n else { return Self.none }
            total += n
        }
        return total
    }

    /// The shortest string of production `p`'s symbols from `from` on (call only where
    /// `suffixLength` is not `none`).
    func suffixYield(_ p: Int32, from: Int) -> [UInt8] {
        var out: [UInt8] = []
        for symbol in grammar.productions[Int(p)].rhs[from...] { out += yield(of: symbol) }
        return out
    }

    /// The shortest string `symbol` derives (call only where its length is not `none`).
    func yield(of symbol: Grammar.Symbol) -> [UInt8] {
        switch symbol {
        case .bytes(let set): return [Self.byteOrder.first(where: set.contains) ?? 0]
        case .lexeme(let l): return lexemeShortest(l) ?? []
        case .rule(let r): return ruleShortest(r)
        }
    }

    /// A rule's shortest yield, expanded with an explicit stack (chains of unrolled repetitions are
    /// thousands of rules deep) and memoised.
    private func ruleShortest(_ rule: Int32) -> [UInt8] {
        if let known = ruleYield[rule] { return known }
        var stack: [(rule: Int32, expanded: Bool)] = [(rule, false)]
        while let (r, expanded) = stack.popLast() {
            if ruleYield[r] != nil { continue }
            let rhs = grammar.productions[Int(ruleProduction[Int(r)])].rhs
            if expanded {
                var out: [UInt8] = []
                for symbol in rhs {
                    if case .rule(let child) = symbol { out += ruleYield[child] ?? [] } else { out += yield(of: symbol) }
                }
                ruleYield[r] = out
                continue
            }
            stack.append((r, true))
            for case .rule(let child) in rhs where ruleYield[child] == nil { stack.append((child, false)) }
        }
        return ruleYield[rule] ?? []
    }

    /// A lexeme's shortest string from its start state, memoised.
    private func lexemeShortest(_ l: Int32) -> [UInt8]? {
        if let known = lexemeYield[l] { return known }
        let lexeme = grammar.lexemes[Int(l)]
        let found = Self.shortestCompletion(of: lexeme, from: lexeme.startState, maxBytes: maxBytes)
        lexemeYield[l] = found
        return found
    }

    /// Printable ASCII but the backslash, in `byteOrder`: the bytes a first search reads. A JSON
    /// string's `\u` escape keeps the partial code point in its state, so searching through it
    /// meets 16 new states per hex digit and exhausts the state bound before any longer plain
    /// completion is found.
    static let plainBytes: [UInt8] = byteOrder.filter { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "\\") }

    /// The shortest bytes taking `lexeme` from `state` to an accepting state, breadth first: first
    /// over `plainBytes`, then, if that finds none, over every byte.
    /// - Returns: the bytes, or nil when none is found within `maxBytes` bytes and
    ///   `maxLexemeStates` states.
    static func shortestCompletion(of lexeme: any ByteLexeme, from state: Int32, maxBytes: Int) -> [UInt8]? {
        if lexeme.isAccepting(state) { return [] }
        return search(lexeme, from: state, maxBytes: maxBytes, bytes: plainBytes)
            ?? search(lexeme, from: state, maxBytes: maxBytes, bytes: byteOrder)
    }

    /// Breadth-first search over `bytes`, one byte per transition class of each state.
    private static func search(_ lexeme: any ByteLexeme, from state: Int32, maxBytes: Int, bytes: [UInt8]) -> [UInt8]? {
        var parent: [Int32: (state: Int32, byte: UInt8, depth: Int)] = [state: (-1, 0, 0)]
        var queue: [Int32] = [state]
        var head = 0
        while head < queue.count, parent.count <= maxLexemeStates {
            let s = queue[head]
            head += 1
            let depth = parent[s]!.depth
            guard depth < maxBytes else { continue }
            var tried = ByteSet()
            for b in bytes where !tried.contains(b) {
                tried.formUnion(lexeme.transitionClass(s, b))
                let t = lexeme.next(s, b)
                guard t >= 0, parent[t] == nil else { continue }
                parent[t] = (s, b, depth + 1)
                if lexeme.isAccepting(t) {
                    var out: [UInt8] = []
                    var at = t
                    while let step = parent[at], step.state >= 0 {
                        out.append(step.byte)
                        at = step.state
                    }
                    return out.reversed()
                }
                queue.append(t)
            }
        }
        return nil
    }
}

extension Grammar {
    /// The grammar's shortest yields within `maxBytes`, built once and kept (rebuilt for another bound).
    func shortestCompletions(maxBytes: Int) -> ShortestCompletions {
        if let table = completionTable, table.maxBytes == maxBytes { return table }
        let table = ShortestCompletions(grammar: self, maxBytes: maxBytes)
        completionTable = table
        return table
    }
}
