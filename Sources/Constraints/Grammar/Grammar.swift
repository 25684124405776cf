/// A context-free grammar over bytes whose terminals are byte sets and lexemes (regex-like automata).
///
/// Grammars come from the EBNF/GBNF front end (`Grammar.parse`), from regexes (one lexeme), and from
/// JSON Schema (`JSONSchemaCompiler`). Their rules are immutable once built; `Constraint` runs them.
///
/// Not `Sendable`: lexemes determinise lazily (they fill transition caches as they are used), so a
/// grammar and the constraints made from it are used from one thread at a time — one decoding
/// sequence and its forks. Compile one grammar per concurrent sequence, or serialise access.
public final class Grammar {
    /// One symbol on the right-hand side of a production.
    public enum Symbol: Hashable {
        /// A nonterminal, by rule index.
        case rule(Int32)
        /// One byte from the set.
        case bytes(ByteSet)
        /// A whole lexeme, by index into `lexemes`.
        case lexeme(Int32)
    }

    /// A production `lhs → rhs`.
    public struct Production {
        /// The rule it defines.
        public var lhs: Int32
        /// Its symbols; empty for an ε-production.
        public var rhs: [Symbol]
        /// The object key this production writes (an index of `GrammarBuilder.newKey()`), or -1:
        /// in a rule that inherits keys it is not predicted once the key was read, and the member
        /// loop it predicts inherits the keys read with this one added (see `EarleyParser`).
        var uniqueKey: Int32 = -1
    }

    /// Rule names, for messages and `description`.
    public let ruleNames: [String]
    /// All productions; production 0 is the augmented start `$start → root`.
    public let productions: [Production]
    /// Rule → its production indices.
    let productionsOfRule: [[Int32]]
    /// The lexeme automata referenced by `.lexeme` symbols.
    public let lexemes: [any ByteLexeme]
    /// Rule → whether it derives the empty string (needed for Earley's nullable completion).
    let nullable: [Bool]
    /// Rule → whether its items carry the object keys read by the item that predicted it (an
    /// object's member loop), so that no key is written twice.
    let inheritsKeys: [Bool]
    /// The key sets those items carry, interned as the parser reads keys.
    let keySets = KeySetTable()
    /// The root rule.
    public let root: Int32

    /// Builds a grammar from rules; adds the augmented start production.
    /// - Parameters:
    ///   - ruleNames: one name per rule.
    ///   - productions: the productions (any order).
    ///   - lexemes: the lexemes referenced.
    ///   - root: the rule a complete input must derive.
    ///   - inheritingKeys: the rules whose items carry the keys read (member loops).
    init(ruleNames: [String], productions: [Production], lexemes: [any ByteLexeme], root: Int32,
         inheritingKeys: Set<Int32> = []) {
        let start = Int32(ruleNames.count)
        inheritsKeys = (0...ruleNames.count).map { inheritingKeys.contains(Int32($0)) }
        self.ruleNames = ruleNames + ["$start"]
        self.productions = [Production(lhs: start, rhs: [.rule(root)])] + productions
        self.lexemes = lexemes
        self.root = root
        var byRule = [[Int32]](repeating: [], count: ruleNames.count + 1)
        for (i, p) in self.productions.enumerated() { byRule[Int(p.lhs)].append(Int32(i)) }
        productionsOfRule = byRule
        // Nullable rules by a worklist, linear in the grammar (a fixed point over all productions
        // took one pass per link of a nullable chain: quadratic for 10,000 chained rules). Each
        // production counts its symbols not yet known nullable; a lexeme is nullable when its start
        // state accepts.
        var isNullable = [Bool](repeating: false, count: byRule.count)
        var pendingSymbols = [Int](repeating: 0, count: self.productions.count)
        var uses = [[Int32]](repeating: [], count: byRule.count)
        var ready: [Int32] = []
        for (i, p) in self.productions.enumerated() {
            for symbol in p.rhs {
                switch symbol {
                case .rule(let r): pendingSymbols[i] += 1; uses[Int(r)].append(Int32(i))
                case .bytes: pendingSymbols[i] += 1   // never nullable: the count stays above zero
                case .lexeme(let l): if !lexemes[Int(l)].isAccepting(lexemes[Int(l)].startState) { pendingSymbols[i] += 1 }
                }
            }
            if pendingSymbols[i] == 0 { ready.append(p.lhs) }
        }
        while let r = ready.popLast() {
            guard !isNullable[Int(r)] else { continue }
            isNullable[Int(r)] = true
            for i in uses[Int(r)] {
                pendingSymbols[Int(i)] -= 1
                if pendingSymbols[Int(i)] == 0 { ready.append(self.productions[Int(i)].lhs) }
            }
        }
        nullable = isNullable
    }

    /// The first lexeme that has run out of automaton states (see `ByteLexeme.exhausted`), if any:
    /// its transitions past the limit read as dead, so no mask from this grammar can be trusted.
    var exhaustedLexeme: ConstraintError? {
        let events = LexemeExhaustion.events.load(ordering: .relaxed)
        if events != exhaustionEventsChecked {
            exhaustionEventsChecked = events
            knownExhaustion = lexemes.lazy.compactMap(\.exhausted).first
        }
        return knownExhaustion
    }
    /// Shortest yields for closing outputs (`shortestCompletions(maxBytes:)`), built on first use.
    var completionTable: ShortestCompletions?

    /// `LexemeExhaustion.events` when the lexemes were last asked, and their answer.
    private var exhaustionEventsChecked = -1
    private var knownExhaustion: ConstraintError?

    /// The augmented start rule.
    var startRule: Int32 { productions[0].lhs }
}

/// Assembles a `Grammar` rule by rule; the JSON Schema compiler and the EBNF front end share it.
struct GrammarBuilder {
    private(set) var names: [String] = []
    private(set) var productions: [Grammar.Production] = []
    private(set) var lexemes: [any ByteLexeme] = []
    /// The rules `repetition(_:_:min:max:)` made, with what they repeat: folding a regular body
    /// (`GrammarParser`) turns one into a counted regex instead of walking its unrolled chain.
    private(set) var repetitions: [Int32: (body: [Grammar.Symbol], min: Int, max: Int?)] = [:]
    /// Rules whose items carry the object keys read (`Grammar.inheritsKeys`).
    private(set) var inheritingKeys: Set<Int32> = []
    private var keyCount: Int32 = 0

    /// A new object key index for `add(_:_:writingKey:)`.
    mutating func newKey() -> Int32 {
        keyCount += 1
        return keyCount - 1
    }

    /// Makes a rule's items carry the keys read by the item that predicts it.
    mutating func inheritKeys(_ rule: Int32) {
        inheritingKeys.insert(rule)
    }

    /// Declares a rule with no productions yet.
    mutating func newRule(_ name: String) -> Int32 {
        names.append(name)
        return Int32(names.count - 1)
    }

    /// Adds one alternative to a rule.
    /// - Parameters:
    ///   - rule: the rule.
    ///   - rhs: its symbols.
    ///   - key: the object key it writes (`newKey()`), which it may not write twice in one member
    ///     loop (see `Grammar.Production.uniqueKey`); -1 for none.
    mutating func add(_ rule: Int32, _ rhs: [Grammar.Symbol], writingKey key: Int32 = -1) {
        productions.append(.init(lhs: rule, rhs: rhs, uniqueKey: key))
    }

    /// Registers a lexeme and returns the symbol that matches it.
    mutating func lexeme(_ lexeme: any ByteLexeme) -> Grammar.Symbol {
        lexemes.append(lexeme)
        return .lexeme(Int32(lexemes.count - 1))
    }

    /// The symbols matching the UTF-8 bytes of `text` exactly.
    func literal(_ text: String) -> [Grammar.Symbol] {
        text.utf8.map { .bytes(ByteSet(byte: $0)) }
    }

    /// A new rule matching any of the alternatives.
    mutating func choice(_ name: String, _ alternatives: [[Grammar.Symbol]]) -> Grammar.Symbol {
        let r = newRule(name)
        for a in alternatives { add(r, a) }
        return .rule(r)
    }

    /// A new rule matching `body` between `min` and `max` times (`max == nil`: unbounded).
    ///
    /// Unbounded tails are right-recursive (`R → ε | body R`); bounded ones are unrolled into a chain
    /// of optional rules so that each count is one parser state.
    mutating func repetition(_ name: String, _ body: [Grammar.Symbol], min: Int, max: Int?) -> Grammar.Symbol {
        var tail: Grammar.Symbol
        if let max {
            // opt_k → ε | body opt_{k-1}, nested (max - min) deep.
            tail = choice(name + "_end", [[]])
            if max > min {
                for k in 1...(max - min) {
                    tail = choice("\(name)_opt\(k)", [[], body + [tail]])
                }
            }
        } else {
            let r = newRule(name + "_star")
            add(r, [])
            add(r, body + [.rule(r)])
            tail = .rule(r)
        }
        var rhs: [Grammar.Symbol] = []
        for _ in 0..<min { rhs += body }
        rhs.append(tail)
        let symbol = choice(name, [rhs])
        if case .rule(let r) = symbol { repetitions[r] = (body, min, max) }
        return symbol
    }

    /// Finishes the grammar.
    func build(root: Int32) -> Grammar {
        Grammar(ruleNames: names, productions: productions, lexemes: lexemes, root: root, inheritingKeys: inheritingKeys)
    }
}
