/// The state of one constrained sequence: which tokens may come next, given the tokens so far.
///
/// A constraint is a grammar (from a regex, a JSON Schema, or EBNF/GBNF) run by an incremental byte
/// parser, plus the vocabulary it masks. It is a value: copying it forks the sequence (draft branches,
/// beams), and the copies share storage until one advances. `rollback(tokens:)` undoes accepted tokens
/// in O(1) by truncating the parser's set stack, which is what speculative verification needs after a
/// rejected draft suffix.
public struct Constraint {
    /// The grammar being enforced.
    public let grammar: Grammar
    /// The vocabulary masked.
    public let vocabulary: TokenVocabulary
    private var parser: EarleyParser
    /// Parser byte count after each accepted token (for rollback).
    private var tokenEnds: [Int] = []
    /// Lexeme-state masks shared by this constraint and its forks (same grammar and vocabulary).
    private let cache: LexemeMaskCache
    /// Whether an end-of-sequence token has been accepted; nothing is allowed after it.
    public private(set) var isFinished = false
    /// Why the constraint stopped: a step needed more parser work than `parserWorkLimit`, or a
    /// lexeme more automaton states than its limit (`RegexLexeme.maxDFAStates`). Once set, nothing
    /// is allowed (`mask()` is empty, `allows` and `advance` refuse every token); the caller ends
    /// the sequence with this error. Rollback does not clear it.
    public private(set) var failure: ConstraintError?
    /// The Earley chart items one call (`mask()`, `advance`, `allows`, `forcedBytes`) may visit.
    let parserWorkLimit: Int
    /// The default `parserWorkLimit`. On the ambiguous `root ::= root root | "a" | ""` over the
    /// 100k-token bench vocabulary, a release build spent about 50 ns per item (masks of 0.39 s at
    /// 1,000 bytes, with no limit tripped at 20 million), so 2 million stops a call near 0.1 s.
    /// Ordinary grammars stay far below it: their slowest bench masks take about 1 ms in all, and
    /// `ConstraintBombTests` masks an arithmetic grammar and a JSON object with a tenth of it.
    public static let maxParserWork = 2_000_000

    /// Starts a sequence.
    /// - Parameters:
    ///   - grammar: what the output must match.
    ///   - vocabulary: the tokenizer's token bytes and EOS ids.
    ///   - parserWorkLimit: the Earley chart items one call may visit (see `maxParserWork`).
    public init(grammar: Grammar, vocabulary: TokenVocabulary, parserWorkLimit: Int = Constraint.maxParserWork) {
        self.init(grammar: grammar, vocabulary: vocabulary, cache: LexemeMaskCache(), parserWorkLimit: parserWorkLimit)
    }

    /// A fresh sequence under the same grammar and vocabulary, sharing this one's cache of lexeme masks
    /// (so masks computed for earlier sequences are reused).
    /// - Returns: the constraint at its start state.
    public func restarted() -> Constraint {
        Constraint(grammar: grammar, vocabulary: vocabulary, cache: cache, parserWorkLimit: parserWorkLimit)
    }

    private init(grammar: Grammar, vocabulary: TokenVocabulary, cache: LexemeMaskCache, parserWorkLimit: Int) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        parser = EarleyParser(grammar: grammar)
        self.cache = cache
        self.parserWorkLimit = parserWorkLimit
        failure = grammar.exhaustedLexeme
    }

    /// Gives the parser a fresh budget for one call.
    private mutating func beginCall() {
        parser.budget(parserWorkLimit)
    }

    /// Records why the call just made stopped, if it did: the parser's budget or a lexeme's.
    /// - Returns: whether the constraint has failed.
    @discardableResult
    private mutating func endCall() -> Bool {
        if failure == nil { failure = parser.exhausted ?? grammar.exhaustedLexeme }
        return failure != nil
    }

    /// The number of tokens accepted so far (EOS included).
    public var tokenCount: Int { tokenEnds.count }

    /// Whether the output so far is complete: the sequence may end here (EOS allowed).
    public var isAccepting: Bool { !isFinished && failure == nil && parser.isAccepting }

    /// Whether `token` may come next, without changing the state.
    ///
    /// `mutating` only because the parser's own set stack is used as scratch (advanced, then truncated
    /// back): copying the chart would cost as much as the whole output so far.
    /// - Parameter token: a token id.
    /// - Returns: `true` when accepting it keeps the output a prefix of some accepted string.
    public mutating func allows(_ token: Int) -> Bool {
        guard !isFinished, failure == nil, token >= 0, token < vocabulary.count else { return false }
        if vocabulary.endOfSequence.contains(token) { return parser.isAccepting }
        let bytes = vocabulary.tokenBytes[token]
        if bytes.isEmpty { return false }
        let before = parser.byteCount
        beginCall()
        defer { parser.rollback(toBytes: before) }
        for b in bytes where !parser.advance(b) {
            endCall()
            return false
        }
        return !endCall()
    }

    /// Accepts a token.
    /// - Parameter token: a token id.
    /// - Returns: `false`, leaving the state unchanged, when the token is not allowed.
    @discardableResult
    public mutating func advance(_ token: Int) -> Bool {
        guard !isFinished, failure == nil, token >= 0, token < vocabulary.count else { return false }
        if vocabulary.endOfSequence.contains(token) {
            guard parser.isAccepting else { return false }
            isFinished = true
            tokenEnds.append(parser.byteCount)
            return true
        }
        let bytes = vocabulary.tokenBytes[token]
        if bytes.isEmpty { return false }
        let before = parser.byteCount
        beginCall()
        for b in bytes where !parser.advance(b) {
            parser.rollback(toBytes: before)
            endCall()
            return false
        }
        if endCall() {
            parser.rollback(toBytes: before)
            return false
        }
        tokenEnds.append(parser.byteCount)
        return true
    }

    /// Accepts raw bytes that are not tied to tokens (a prompt prefix the output must continue).
    /// - Parameter bytes: the bytes.
    /// - Returns: how many of them were accepted before the first rejected one.
    @discardableResult
    public mutating func advance(bytes: some Sequence<UInt8>) -> Int {
        var n = 0
        beginCall()
        for b in bytes {
            guard !isFinished, failure == nil, parser.advance(b) else { break }
            n += 1
        }
        endCall()
        return n
    }

    /// Undoes the last `n` accepted tokens in O(1).
    /// - Parameter n: how many tokens to undo; more than `tokenCount` undoes all.
    public mutating func rollback(tokens n: Int) {
        guard n > 0 else { return }
        let keep = max(0, tokenEnds.count - n)
        let bytes = keep == 0 ? 0 : tokenEnds[keep - 1]
        tokenEnds.removeSubrange(keep...)
        parser.rollback(toBytes: bytes)
        isFinished = false
    }

    /// The tokens allowed next.
    ///
    /// Walks the vocabulary trie with the parser: each trie node costs one parser step, a byte the
    /// parser rejects prunes the node's whole subtree, and tokens sharing a prefix share its steps.
    ///
    /// Tokens that stay inside a lexeme (a JSON string, a number, a regex) depend only on the lexeme's
    /// automaton state, not on the parser stack (XGrammar's context-independent tokens). They are
    /// computed once per (lexeme, state) with the bare automaton and cached (shared between states of
    /// one mask class for tokens up to the vocabulary's mask horizon); the parser walks only the
    /// subtrees where a lexeme may end with the token going on (after a closing quote, after a digit),
    /// all from one parser set per lexeme item, and the subtrees of bytes that grammar terminals other
    /// than lexemes allow.
    ///
    /// `mutating` only because the parser's set stack is used as scratch; the state is unchanged.
    /// - Returns: the mask (EOS bits set when the output may end here).
    public mutating func mask() -> TokenMask {
        guard !isFinished, failure == nil else { return TokenMask(count: vocabulary.count) }
        beginCall()
        let computed = computeMask()
        // A mask cut short by a budget would allow less than the grammar does: allow nothing.
        return endCall() ? TokenMask(count: vocabulary.count) : computed
    }

    /// `mask()` without the budget bookkeeping.
    private mutating func computeMask() -> TokenMask {
        var mask = TokenMask(count: vocabulary.count)
        if parser.isAccepting {
            for eos in vocabulary.endOfSequence where eos < vocabulary.count { mask.insert(eos) }
        }
        let (lexemeItems, byteTerminals) = parser.scannable
        let base = parser.byteCount
        // Tokens whose first byte a byte-set terminal allows: the parser walks their whole subtrees.
        if !byteTerminals.isEmpty {
            walk(from: 0, to: vocabulary.nodeByte.count, firstBytes: byteTerminals, base: base, into: &mask)
        }
        for (lexeme, state) in lexemeItems {
            let entry = cache.entry(lexeme: lexeme, state: state, grammar: grammar, vocabulary: vocabulary)
            mask.formUnion(entry.inside)
            // Tokens where the lexeme ends inside them: what follows the lexeme is the same wherever
            // it ends, so one parser set stands for all exits, and each exit's children are walked
            // from it.
            guard !entry.exitNodes.isEmpty, parser.pushLexemeEnd(lexeme: lexeme, state: state) else { continue }
            parser.allowedBytes.forEach { b in
                for j in Int(entry.exitChildStart[Int(b)])..<Int(entry.exitChildStart[Int(b) + 1]) {
                    // Subtrees already walked from the root need no second walk.
                    if byteTerminals.contains(entry.exitChildFirstBytes[j]) { continue }
                    let child = Int(entry.exitChildren[j])
                    walk(from: child, to: Int(vocabulary.subtreeEnd[child]), firstBytes: ByteSet(byte: b), base: base + 1, into: &mask)
                }
            }
            parser.rollback(toBytes: base)
        }
        return mask
    }

    /// Marks the tokens of trie nodes `start..<end` — a run of sibling subtrees whose roots are one
    /// byte deeper than the parser's position — that the parser accepts; `firstBytes` limits which
    /// sibling roots are tried (else the parser's allowed bytes). Leaves the parser at `base` bytes.
    private mutating func walk(from start: Int, to end: Int, firstBytes: ByteSet?, base: Int, into mask: inout TokenMask) {
        let v = vocabulary
        guard start < end else { return }
        let firstDepth = Int(v.nodeDepth[start])
        let allowedFirst = firstBytes ?? parser.allowedBytes
        let offset = parser.byteCount - (firstDepth - 1)
        var i = start
        while i < end {
            let depth = Int(v.nodeDepth[i])
            if depth == firstDepth && !allowedFirst.contains(v.nodeByte[i]) {
                i = Int(v.subtreeEnd[i])
                continue
            }
            parser.rollback(toBytes: offset + depth - 1)
            if !parser.advance(v.nodeByte[i]) {
                i = Int(v.subtreeEnd[i])
                continue
            }
            insertTokens(ofNodes: i..<(i + 1), into: &mask)
            // A subtree the parser can only read through one lexeme is walked with the lexeme's
            // automaton, the parser joining in only where the lexeme may end.
            if Int(v.subtreeEnd[i]) > i + 1, let run = parser.lexemeRun() {
                walkLexeme(below: i, run: run, into: &mask)
                i = Int(v.subtreeEnd[i])
                continue
            }
            i += 1
        }
        parser.rollback(toBytes: base)
    }

    /// Marks the tokens of the subtree below trie node `node` (the parser has just read its byte)
    /// when the parser's last set reads bytes only through lexeme `run.lexeme` in `run.state`: each
    /// node costs one automaton step instead of a parser step. A byte that may start what follows
    /// the lexeme (`run.follow` where the lexeme may end; `run.here`, the set's own byte terminals,
    /// right below `node`) hands that child's subtree back to the parser, brought down the path
    /// first. Leaves the parser where it was.
    private mutating func walkLexeme(below node: Int, run: (lexeme: Int32, state: Int32, here: ByteSet, follow: ByteSet),
                                     into mask: inout TokenMask) {
        let v = vocabulary
        let lexeme = grammar.lexemes[Int(run.lexeme)]
        let table = cache.walkTable(for: lexeme)
        let rootDepth = Int(v.nodeDepth[node])
        let parserBase = parser.byteCount
        let end = Int(v.subtreeEnd[node])
        // Per level below `node` (0: `node` itself): the automaton state as the table encodes it
        // (local state times two, plus one when accepting) and the byte read.
        let levels = v.maxDepth - rootDepth + 1
        let codes = UnsafeMutablePointer<Int32>.allocate(capacity: levels)
        let path = UnsafeMutablePointer<UInt8>.allocate(capacity: levels)
        defer {
            codes.deallocate()
            path.deallocate()
        }
        codes[0] = table.local(run.state) << 1 | (lexeme.isAccepting(run.state) ? 1 : 0)
        path[0] = v.nodeByte[node]
        var transitions = table.transitions
        var k = node + 1
        while k < end {
            let level = Int(v.nodeDepth[k]) - rootDepth
            let parent = codes[level - 1]
            let byte = v.nodeByte[k]
            if (level == 1 && run.here.contains(byte)) || (parent & 1 != 0 && run.follow.contains(byte)) {
                // Bring the parser down to the parent (those bytes stay inside the lexeme), then let
                // it walk this child's subtree.
                var synced = true
                for d in 1..<level where !parser.advance(path[d]) { synced = false; break }
                if synced {
                    walk(from: k, to: Int(v.subtreeEnd[k]), firstBytes: ByteSet(byte: byte), base: parser.byteCount, into: &mask)
                }
                parser.rollback(toBytes: parserBase)
                transitions = table.transitions   // the parser's walk may have grown the table
                k = Int(v.subtreeEnd[k])
                continue
            }
            let slot = Int(parent >> 1) &* 256 &+ Int(byte)
            var next = transitions[slot]
            if next == WalkTable.unknown {
                next = table.lookUp(slot)
                transitions = table.transitions
            }
            if next < 0 {
                k = Int(v.subtreeEnd[k])
                continue
            }
            insertTokens(ofNodes: k..<(k + 1), into: &mask)
            if v.uniformBelow[k] != 0 && table.takesUniformSubtree(v.uniformBelow[k], code: next, height: Int(v.uniformHeight[k]),
                                                                   whole: true, transitions: &transitions) {
                insertTokens(ofNodes: (k + 1)..<Int(v.subtreeEnd[k]), into: &mask)
                k = Int(v.subtreeEnd[k])
                continue
            }
            codes[level] = next
            path[level] = byte
            k += 1
        }
    }

    /// Marks the tokens of trie nodes `nodes` (a node's own, or a whole subtree's: contiguous in
    /// pre-order).
    @inline(__always)
    private func insertTokens(ofNodes nodes: Range<Int>, into mask: inout TokenMask) {
        let v = vocabulary
        for t in Int(v.nodeTokenStart[nodes.lowerBound])..<Int(v.nodeTokenStart[nodes.upperBound]) { mask.insert(Int(v.nodeTokens[t])) }
    }

    /// The bytes every continuation must start with: a run where the grammar leaves exactly one choice
    /// and the output cannot end yet.
    /// - Parameter limit: the longest run to report.
    /// - Returns: the forced bytes (empty when the next byte is not forced).
    public func forcedBytes(limit: Int = 64) -> [UInt8] {
        guard !isFinished, failure == nil else { return [] }
        var probe = parser
        probe.budget(parserWorkLimit)
        var out: [UInt8] = []
        while out.count < limit, !probe.isAccepting {
            let allowed = probe.allowedBytes
            guard allowed.count == 1, let b = allowed.members.first, probe.advance(b) else { break }
            out.append(b)
        }
        return out
    }

    /// The longest closing completion `closingTokens` looks for, in bytes. A JSON value cut deep
    /// inside closes in tens of bytes (a quote, the missing required properties with their shortest
    /// values, brackets); this bounds what a schema with large `minItems`/`minLength` could ask.
    public static let maxClosingBytes = 4096

    /// The tokens of the shortest valid completion of the output so far: what closes a value that
    /// the token budget cut (`finished: closed`).
    ///
    /// The completion is the shortest in bytes (`EarleyParser.shortestCompletion`: the grammar's
    /// shortest yields and each lexeme's shortest completion from its automaton state; among
    /// equally short ones, readable bytes first), spelled greedily with the longest vocabulary token
    /// that fits at each point. Every token is checked with `advance`, so the result always leaves
    /// the constraint accepting.
    /// - Parameter maxBytes: the longest completion searched for.
    /// - Returns: the tokens (empty when the output is already complete), or nil when the
    ///   constraint has finished or failed, no completion exists within `maxBytes` bytes and the
    ///   parser's work limit, or the vocabulary cannot spell it.
    public mutating func closingTokens(maxBytes: Int = Constraint.maxClosingBytes) -> [Int]? {
        guard !isFinished, failure == nil else { return nil }
        if parser.isAccepting { return [] }
        let table = grammar.shortestCompletions(maxBytes: maxBytes)
        guard let bytes = parser.shortestCompletion(table: table, workLimit: parserWorkLimit) else { return nil }
        var probe = self
        var tokens: [Int] = []
        var at = 0
        while at < bytes.count {
            guard let next = vocabulary.tokens(prefixing: bytes[at...]).first(where: { probe.advance($0.token) }) else { return nil }
            tokens.append(next.token)
            at += next.length
        }
        return probe.isAccepting ? tokens : nil
    }

    /// Tokens that are the only allowed choice, one after another: free speculation, as a drafter
    /// would propose them (they need no model call to be known, only to be scored).
    /// - Parameter limit: the most tokens to report.
    /// - Returns: the forced tokens, in order.
    public func forcedTokens(limit: Int = 16) -> [Int] {
        var probe = self
        var out: [Int] = []
        while out.count < limit, !probe.forcedBytes(limit: 1).isEmpty {
            let allowed = probe.mask()
            guard allowed.allowedCount == 1, let t = allowed.allowed.first,
                  !vocabulary.endOfSequence.contains(t), probe.advance(t) else { break }
            out.append(t)
        }
        return out
    }
}
