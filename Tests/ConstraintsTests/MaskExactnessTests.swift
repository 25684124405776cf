import Testing
@testable import Constraints

/// The optimised mask (lexeme masks shared between states of one mask class, the trie split at the
/// mask horizon, one parser set standing for every place a lexeme ends) against the brute-force
/// answer: `allows` on every token of the vocabulary, at every step of outputs that run counted
/// strings up to their bounds.
@Suite struct MaskExactnessTests {
    /// Single bytes, the JSON fragments, and longer tokens: words with and without a leading space,
    /// runs of one character (they cross many counts at once), multi-byte UTF-8 and escapes, and
    /// tokens that end a string and go on (`", "`, `"}`).
    static let tokens: [[UInt8]] = {
        var t = (0...255).map { [UInt8($0)] }
        var words = SyntheticVocabulary.fragments
        words += ["the", " the", " quick", " brown", " fox", "Ada", " Love", "lace", "Grace", " Hopper", "example",
                  ".org", "@ex", "ada@", "open", "shipped", "admin", "user", "guest", " 12", "36", "150", "151", "0.9",
                  "12.5", ", \"", "\": \"", "\"}", "\"},", "\"],", "\", \"", "}, {\"", "\\u00e9", "\\n", "é!", "x😀y",
                  "aaaa", "aaaaaaaa", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "        ", "----------------",
                  "================================", "abcdefghijklmnopqrst", "ab cd ef gh ij kl mn", "Lorem ipsum dolor",
                  " sit amet, consectetur", "a.", "a!", "a?", ".\"", "z.", "-0000-", "123e4567", "2024-02-29T12:00:00Z",
                  "(12", " + ", " * ", "3)", ") *", "1000", " (", "/ (", "ééééé", "\"ab", "\"abcdefgh\"",
                  // Partial escapes across the 16-byte mask horizon: a \u escape cut after its second
                  // hex digit, a lone low surrogate's start (never completable), a high surrogate
                  // waiting for its low half, and a whole pair ending past the horizon.
                  "aaaaaaaaaaaaaaa\\u00", "aaaaaaaaaaaaaa\\uDD", "aaaaaaaaaaaaa\\uD83D\\u", "aaaaaaaaaaaa\\uD83D\\uDE00\"",
                  "\\uD83D", "\\uDE00",
                  // Digit runs within and past the horizon (a number's digits, taken as whole
                  // subtrees), and letter runs (an e-mail's parts).
                  "0000", "4567", "12345678", "99999999999999999999", "1234567890123456789012", "examplexample",
                  // Number and word runs that the parser reaches first (after a space, a paren, a
                  // marker byte), so its lexeme walk meets whole uniform subtrees.
                  " 1000000", "(2024", " 123456789", "xabcdefgh", "x", "xab", "xabc-def", "x\"abc def", "x\"Lorem ipsum",
                  // A number going on past the horizon of 3 into what follows it.
                  "999,"]
        t += words.map { Array($0.utf8) }
        t.append([])   // EOS
        return t
    }()

    static func vocabulary(horizon: Int) -> TokenVocabulary {
        TokenVocabulary(tokenBytes: tokens, endOfSequence: [tokens.count - 1], maskHorizon: horizon)
    }

    /// The workload of `decograph bench constraints` named `name`.
    static func bench(_ name: String) -> ConstraintWorkload {
        ConstraintWorkload.named(name)!
    }

    /// The bench workloads' grammars with outputs that run their counted strings further, and two
    /// grammars of counters only.
    static let cases: [(workload: ConstraintWorkload, output: String)] = [
        (bench("person"), #"{"name": "Ada Lovelace aaaaaaaaaaaaaaaa the quick brown fox ab cd ef gh", "age": 36, "email": "ada@example.org", "tags": ["admin", "user"], "address": {"street": "12 St James's Square", "city": "London"}}"#),
        (bench("orders"), #"[{"id": "123e4567-e89b-12d3-a456-426614174000", "price": 12.5, "status": "open", "note": null, "placed": "2024-02-29T12:00:00Z"}, {"id": "00000000-0000-0000-0000-000000000000", "price": 999, "status": "shipped", "note": "Leave at the door, please."}]"#),
        (ConstraintWorkload(name: "counted string to its bound", kind: .schema,
                                      source: #"{"type": "array", "items": {"type": "string", "minLength": 3, "maxLength": 40}}"#, outputs: []),
         #"["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "éé\u00e9aaaaaaaaaaaaaaaaaaaaaaaa\n", "abc"]"#),
        (bench("free-text"),
         "The quick brown fox" + String(repeating: " Lorem ipsum dolor sit amet, consectetur", count: 6) + " aaaaaaaa ab cd ef gh ij kl mn the aaaa."),
        (ConstraintWorkload(name: "nested counters", kind: .regex, source: "(ab|c[a-z]{0,12}){2,30}x", outputs: []),
         "ab" + String(repeating: "cabcdefghijkl", count: 27) + "abx"),
        (bench("arithmetic"), "(12 + 7) * 3 - 144 / (6 * 2) + 1000 * (2 - 1) + 1000000 * (2024 - 123456789)"),
        // Digits may follow a number here: the exits inside a digit subtree are then walkable, and
        // taking the subtree at once must still give the same mask.
        (ConstraintWorkload(name: "digit after a number", kind: .grammar, source: """
            root ::= num "5" [0-9] " " num
            num  ::= [0-9]+
            """, outputs: []), "123456789999999999999999999999999959 1234567890123456789012"),
        // Nested (not regular, so not folded into one lexeme): the parser reaches the lexemes and
        // its lexeme walk meets whole uniform subtrees, accepting (words) and not (string bodies).
        (ConstraintWorkload(name: "marked words", kind: .grammar, source: """
            root ::= "(" root ")" | "x" word "-" word
            word ::= [a-z]+
            """, outputs: []), "((xabcdefgh-abc))"),
        (ConstraintWorkload(name: "marked strings", kind: .grammar, source: #"""
            root ::= "(" root ")" | "x" str
            str  ::= /"[^"\\]*"/
            """#, outputs: []), #"((x"abc def Lorem ipsum"))"#),
        (ConstraintWorkload(name: "letter loops", kind: .regex, source: "[a-z0-9]+@[a-z]+\\.(org|com)", outputs: []),
         "adaexamplexample4567@examplexample.org"),
    ]

    @Test(arguments: [1, 3, TokenVocabulary.defaultMaskHorizon])
    func maskEqualsPerTokenCheckAtEveryStep(horizon: Int) throws {
        let vocabulary = Self.vocabulary(horizon: horizon)
        for (workload, output) in Self.cases {
            let name = workload.name
            var c = Constraint(grammar: try workload.grammar(), vocabulary: vocabulary)
            let segmentation = try #require(vocabulary.greedySegmentation(Array(output.utf8)), "\(name)")
            // Twice: the second pass reads the masks the first one cached.
            for pass in 0..<2 {
                var step = c.restarted()
                for (k, t) in segmentation.enumerated() {
                    let mask = step.mask()
                    var allowed: [Int] = []
                    for candidate in 0..<vocabulary.count where step.allows(candidate) { allowed.append(candidate) }
                    #expect(mask.allowed == allowed, "\(name), horizon \(horizon), pass \(pass), step \(k)")
                    let advanced = step.advance(t)
                    #expect(advanced, "\(name): token \(k) of a valid output refused")
                    if !advanced { break }
                }
                let accepting = step.isAccepting
                #expect(accepting, "\(name)")
                if pass == 0 { c = step }
            }
        }
    }

    /// Counts far from a bound share a class; counts near it (where a short token can reach the
    /// bound) do not.
    /// Inside a JSON string, a token that ends in a partial `\\u` escape past the mask horizon is
    /// allowed exactly when the escape can still be completed to a valid string: a cut `\\u00` and a
    /// high surrogate waiting for its low half are, the start of a lone low surrogate (`\\uDD…`, which
    /// no continuation makes valid) is not — at every horizon, inside and beyond the shared classes.
    @Test(arguments: [1, 3, TokenVocabulary.defaultMaskHorizon])
    func partialEscapesPastTheHorizonAreLive(horizon: Int) throws {
        let vocabulary = Self.vocabulary(horizon: horizon)
        var c = Constraint(grammar: try Grammar.jsonSchema(#"{"type": "string"}"#), vocabulary: vocabulary)
        let quote = try #require(Self.tokens.firstIndex(of: [UInt8(ascii: "\"")]))
        let opened = c.advance(quote)
        #expect(opened)
        func token(_ text: String) throws -> Int { try #require(Self.tokens.firstIndex(of: Array(text.utf8)), "\(text)") }
        for _ in 0..<2 {  // the second mask reads the cached classes
            let mask = c.mask()
            #expect(mask.contains(try token(#"aaaaaaaaaaaaaaa\u00"#)))
            #expect(mask.contains(try token(#"aaaaaaaaaaaaa\uD83D\u"#)))
            #expect(mask.contains(try token(#"aaaaaaaaaaaa\uD83D\uDE00""#)))
            #expect(mask.contains(try token(#"\uD83D"#)))
            #expect(!mask.contains(try token(#"aaaaaaaaaaaaaa\uDD"#)), "a lone low surrogate can never be completed")
            #expect(!mask.contains(try token(#"\uDE00"#)))
        }
        // After a high surrogate, only its low half may follow.
        let high = try token(#"\uD83D"#)
        let took = c.advance(high)
        #expect(took)
        let after = c.mask()
        #expect(after.contains(try token(#"\uDE00"#)))
        #expect(!after.contains(try token(#"\uD83D"#)))
        #expect(!after.contains(try token("aaaa")))
    }

    @Test func countedRepetitionClasses() throws {
        let lexeme = try RegexLexeme(pattern: "a{0,300}", search: false)
        let horizon = 16
        func state(after n: Int) -> Int32 {
            var s = lexeme.startState
            for _ in 0..<n { s = lexeme.next(s, UInt8(ascii: "a")) }
            return s
        }
        let far = [5, 50, 200, 279].map { lexeme.maskClass(of: state(after: $0), horizon: horizon) }
        #expect(Set(far).count == 1)
        let near = [285, 290, 299, 300].map { lexeme.maskClass(of: state(after: $0), horizon: horizon) }
        #expect(Set(near).count == near.count)
        #expect(!near.contains(far[0]))
    }

    /// The slices' per-node flags that let a walk take a whole subtree at once, against their
    /// definitions checked node by node: `uniformBelow` bit k when the node has children and every
    /// byte below it is in uniform set k, `uniformHeight` the subtree's height there, and
    /// `wholeSubtree` when the node is reported and the slice holds every node of its subtree in the
    /// whole trie.
    @Test(arguments: [1, 3, TokenVocabulary.defaultMaskHorizon])
    func uniformSubtreesMatchTheirDefinition(horizon: Int) {
        let v = Self.vocabulary(horizon: horizon)
        var uniformNodes = [Int](repeating: 0, count: TokenTrieSlice.uniformSets.count), wholeNodes = 0
        for (slice, deep) in [(v.shortSlice, false), (v.deepSlice, true)] {
            for i in 0..<slice.count {
                let end = Int(slice.subtreeEnd[i])
                var bits: UInt8 = 0
                for (k, set) in TokenTrieSlice.uniformSets.enumerated()
                where end > i + 1 && (i + 1..<end).allSatisfy({ set.contains(slice.nodeByte[$0]) }) {
                    bits |= 1 << k
                    uniformNodes[k] += 1
                }
                #expect(slice.uniformBelow[i] == bits, "node \(i) of \(slice.count)")
                let height = (i..<end).map { Int(slice.nodeDepth[$0]) }.max()! - Int(slice.nodeDepth[i])
                #expect(Int(slice.uniformHeight[i]) == (bits != 0 ? height : 0), "node \(i) of \(slice.count)")
                let full = Int(slice.fullNode[i])
                let reported = !deep || Int(slice.nodeDepth[i]) > horizon
                let whole = reported && Int(v.subtreeEnd[full]) - full == end - i
                #expect(slice.wholeSubtree[i] == whole, "node \(i) of \(slice.count)")
                if whole { wholeNodes += 1 }
            }
        }
        // The vocabulary has plain words with prefixes ("t", "th", "the"), letter runs and digit
        // runs, so every fast path is used.
        #expect(uniformNodes.allSatisfy { $0 > 3 }, "\(uniformNodes)")
        #expect(wholeNodes > 10)
    }
}
