import Foundation
import Testing
@testable import NGramStore

/// The suffix-array backend against brute force: the sort, the matches, the continuation counts
/// and the drafted tree; and its file checks.
@Suite struct SuffixArrayStoreTests {
    // MARK: Brute force

    /// Whether the suffix at `a` sorts before the one at `b` (unsigned ids, a proper prefix first).
    static func naiveLess(_ text: [UInt32], _ a: Int, _ b: Int) -> Bool {
        var i = a, j = b
        while i < text.count, j < text.count {
            if text[i] != text[j] { return text[i] < text[j] }
            i += 1
            j += 1
        }
        return i == text.count && j < text.count
    }

    /// The corpus as the store holds it: documents joined by the separator.
    static func joined(_ documents: [[Int32]]) -> [Int32] {
        documents.filter { !$0.isEmpty }.enumerated().flatMap { i, d in
            (i == 0 ? [] : [Int32(bitPattern: SuffixArrayHeader.separator)]) + d
        }
    }

    /// Occurrences of `context` followed by a token of the same document, and the counts of every
    /// continuation prefix up to `depth` tokens.
    static func bruteForce(_ corpus: [Int32], _ context: [Int32], depth: Int) -> (total: Int, counts: [[Int32]: Int]) {
        let separator = Int32(bitPattern: SuffixArrayHeader.separator)
        var total = 0
        var counts: [[Int32]: Int] = [:]
        guard !context.isEmpty, corpus.count > context.count else { return (0, [:]) }
        for start in 0...(corpus.count - context.count - 1) where Array(corpus[start..<(start + context.count)]) == context {
            var prefix: [Int32] = []
            for t in corpus[(start + context.count)...].prefix(depth) {
                if t == separator { break }
                prefix.append(t)
                counts[prefix, default: 0] += 1
            }
            if !prefix.isEmpty { total += 1 }
        }
        return (total, counts)
    }

    /// A context of 1…`longest` tokens taken from the corpus, `nil` when it would span documents.
    static func corpusContext(_ corpus: [Int32], _ stream: inout TokenStream, longest: Int) -> [Int32]? {
        let length = 1 + Int(stream.next(vocabulary: longest))
        let start = Int(stream.next(vocabulary: Int(Int32.max))) % (corpus.count - length)
        let context = Array(corpus[start..<(start + length)])
        return context.contains(Int32(bitPattern: SuffixArrayHeader.separator)) ? nil : context
    }

    static func occurrences(_ corpus: [Int32], _ pattern: ArraySlice<Int32>) -> Int {
        guard corpus.count >= pattern.count else { return 0 }
        return (0...(corpus.count - pattern.count)).count { corpus[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    static func build(_ documents: [[Int32]], in directory: TemporaryDirectory, name: String = "s.sa",
                      parameters: SuffixArrayParameters = SuffixArrayParameters()) throws -> SuffixArrayStore {
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: "test-vocabulary", parameters: parameters)
        for d in documents { try builder.add(d) }
        let path = directory.path(name)
        try builder.write(to: path)
        return try SuffixArrayStore.open(at: path, tokenizerFingerprint: "test-vocabulary")
    }

    /// Documents with many repeats: a small vocabulary and copied phrases.
    static func repetitiveDocuments(seed: UInt64, count: Int, vocabulary: Int) -> [[Int32]] {
        var stream = TokenStream(seed: seed)
        let phrases = (0..<6).map { _ in stream.tokens(5, vocabulary: vocabulary) }
        return (0..<count).map { _ in
            var d: [Int32] = []
            let length = Int(stream.next(vocabulary: 120))
            while d.count < length {
                if stream.next(vocabulary: 2) == 0 { d += phrases[Int(stream.next(vocabulary: phrases.count))] }
                else { d.append(stream.next(vocabulary: vocabulary)) }
            }
            return d
        }
    }

    // MARK: The sort

    struct SortCase: CustomTestStringConvertible, Sendable {
        var name: String
        var text: [UInt32]
        var testDescription: String { name }
    }

    static let sortCases: [SortCase] = {
        var stream = TokenStream(seed: 11)
        var cases = [
            SortCase(name: "empty", text: []),
            SortCase(name: "one token", text: [7]),
            SortCase(name: "two equal", text: [3, 3]),
            SortCase(name: "all equal", text: [UInt32](repeating: 9, count: 300)),
            SortCase(name: "period 2", text: (0..<257).map { UInt32($0 % 2) }),
            SortCase(name: "period 3 with a break", text: (0..<200).map { UInt32($0 % 3) } + [0] + (0..<200).map { UInt32($0 % 3) }),
            SortCase(name: "descending", text: (0..<100).map { UInt32(100 - $0) }),
            SortCase(name: "ids past 2^31 and the separator", text: [0x8000_0000, 1, UInt32.max, 0x8000_0000, 1, 0x7FFF_FFFF, UInt32.max, 0x8000_0000, 1]),
            SortCase(name: "ids differing only in the high half", text: [0x1_0000, 0x2_0000, 0x1_0000, 0x1_0001, 0x2_0000, 0x1_0000]),
        ]
        for (i, vocabulary) in [2, 3, 50, 70_000].enumerated() {
            let length = 50 + Int(stream.next(vocabulary: 400))
            cases.append(SortCase(name: "random \(i): \(length) tokens, vocabulary \(vocabulary)",
                                  text: stream.tokens(length, vocabulary: vocabulary).map { UInt32(bitPattern: $0) }))
        }
        let doc = repetitiveDocuments(seed: 5, count: 8, vocabulary: 20)
        cases.append(SortCase(name: "repeated phrases", text: joined(doc).map { UInt32(bitPattern: $0) }))
        return cases
    }()

    @Test(arguments: sortCases)
    func suffixArrayEqualsNaiveSort(_ c: SortCase) {
        let sorted = c.text.withUnsafeBufferPointer { SuffixSorter.sort($0) }
        let naive = (0..<c.text.count).sorted { Self.naiveLess(c.text, $0, $1) }
        #expect(sorted.map(Int.init) == naive)
    }

    // MARK: Queries

    /// Ids offset by `idBase`: 0 uses the first-token table; 2^24 and up is past it (searches over
    /// the whole array), 2^31 and up are negative as `Int32`.
    @Test(arguments: [Int32(0), Int32(1 << 24), Int32.min + 5])
    func matchesAndLongestSuffixEqualBruteForce(idBase: Int32) throws {
        let directory = TemporaryDirectory()
        let documents = Self.repetitiveDocuments(seed: 21, count: 30, vocabulary: 12).map { $0.map { $0 &+ idBase } }
        let corpus = Self.joined(documents)
        let store = try Self.build(documents, in: directory)
        var stream = TokenStream(seed: 3)
        for trial in 0..<300 {
            // Contexts from the corpus (hits, possibly across a document boundary) or random (misses).
            let length = 1 + Int(stream.next(vocabulary: 20))
            var context: [Int32]
            if trial % 3 == 0 {
                context = stream.tokens(length, vocabulary: 12).map { $0 &+ idBase }
            } else {
                let start = Int(stream.next(vocabulary: Int(Int32.max))) % (corpus.count - length)
                context = Array(corpus[start..<(start + length)])
            }
            let range = try store.range(of: context[...])
            let expected = context.contains(Int32(bitPattern: SuffixArrayHeader.separator)) ? 0 : Self.occurrences(corpus, context[...])
            #expect(range.count == expected, "\(context)")
            for minimum in [1, 3] {
                let longest = try store.longestSuffix(of: context[...], upTo: store.longestContext, occurringAtLeast: minimum)
                let bruteLongest = (0...min(store.longestContext, context.count)).last { n in
                    let suffix = context.suffix(n)
                    return n == 0 || !suffix.contains(Int32(bitPattern: SuffixArrayHeader.separator)) && Self.occurrences(corpus, suffix) >= minimum
                }!
                #expect(longest == bruteLongest, "\(context), at least \(minimum)")
            }
        }
    }

    @Test(arguments: [1, 2, 8])
    func continuationCountsEqualBruteForce(counters: Int) throws {
        let directory = TemporaryDirectory()
        let documents = Self.repetitiveDocuments(seed: 33, count: 40, vocabulary: 10)
        let corpus = Self.joined(documents)
        let parameters = SuffixArrayParameters(longestContext: 16, continuationLength: 3, countersPerDepth: counters)
        let store = try Self.build(documents, in: directory, parameters: parameters)
        var stream = TokenStream(seed: 8)
        var checked = 0
        for _ in 0..<200 {
            guard let context = Self.corpusContext(corpus, &stream, longest: 5) else { continue }
            let (total, counts) = Self.bruteForce(corpus, context, depth: 3)
            let summary = try store.continuations(of: context[...])
            guard total > 0 else {
                #expect(summary == nil)
                continue
            }
            let s = try #require(summary)
            #expect(Int(s.total) == total)
            // Exactly the prefixes whose share of the occurrences exceeds 1 / (counters + 1), each
            // with its exact count.
            let expected = counts.filter { $0.value * (counters + 1) > total }
            let got = [[Int32]: Int](uniqueKeysWithValues: s.entries.map { (Array($0.tokens), Int($0.count)) })
            #expect(got == expected, "\(context)")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// With a share gate: exactly the prefixes that pass it, and whose every ancestor passes it,
    /// as well as the threshold of the counters.
    @Test(arguments: [0.3, 0.5, 0.66])
    func continuationsAtAShareEqualBruteForce(share: Double) throws {
        let directory = TemporaryDirectory()
        let documents = Self.repetitiveDocuments(seed: 35, count: 40, vocabulary: 6)
        let corpus = Self.joined(documents)
        let store = try Self.build(documents, in: directory)
        let counters = store.header.parameters.countersPerDepth
        var stream = TokenStream(seed: 12)
        var pruned = 0
        for _ in 0..<150 {
            guard let context = Self.corpusContext(corpus, &stream, longest: 4) else { continue }
            let (total, counts) = Self.bruteForce(corpus, context, depth: store.continuationLength)
            guard total > 0 else { continue }
            func passes(_ path: [Int32]) -> Bool {
                guard let count = counts[path], count * (counters + 1) > total else { return false }
                let parent = path.count == 1 ? total : counts[Array(path.dropLast())] ?? 0
                return Double(count) >= share * Double(parent) && (path.count == 1 || passes(Array(path.dropLast())))
            }
            let expected = counts.filter { passes($0.key) }
            let summary = try #require(try store.continuations(of: context[...], minimumShare: share))
            let got = [[Int32]: Int](uniqueKeysWithValues: summary.entries.map { (Array($0.tokens), Int($0.count)) })
            #expect(got == expected, "\(context)")
            pruned += counts.count { $0.value * (counters + 1) > total } - expected.count
        }
        #expect(pruned > 0, "the share gate left nothing out: the test corpus does not exercise it")
    }

    @Test func draftedTreeCountsEqualBruteForce() throws {
        let directory = TemporaryDirectory()
        let documents = Self.repetitiveDocuments(seed: 44, count: 40, vocabulary: 16)
        let corpus = Self.joined(documents)
        let store = try Self.build(documents, in: directory)
        // Gates that pass any continuation, so the matched context is the longest one that occurs
        // followed by a token.
        let open = DraftGates(minSamples: [1], minShare: [0])
        var drafter = NGramDrafter(maxTokens: 12, maxDepth: 4, storeGates: open)
        drafter.usesPromptLookup = false
        var stream = TokenStream(seed: 9)
        var drafted = 0
        for _ in 0..<150 {
            let start = Int(stream.next(vocabulary: Int(Int32.max))) % (corpus.count - 40)
            let context = Array(corpus[start..<(start + 30)]).split(separator: Int32(bitPattern: SuffixArrayHeader.separator)).last.map(Array.init) ?? []
            guard !context.isEmpty else { continue }
            let tree = try drafter.draft(context: context, store: store)
            // The longest suffix with a next token above the store's threshold (share over
            // 1 / (countersPerDepth + 1)), which is what passes these gates.
            let counters = store.header.parameters.countersPerDepth
            let matched = (1...min(store.longestContext, context.count)).last { n in
                let (total, next) = Self.bruteForce(corpus, Array(context.suffix(n)), depth: 1)
                return next.values.contains { $0 * (counters + 1) > total }
            }
            guard let matched else {
                #expect(tree.isEmpty)
                continue
            }
            let (total, counts) = Self.bruteForce(corpus, Array(context.suffix(matched)), depth: 4)
            #expect(!tree.isEmpty)
            for node in 0..<tree.count {
                var path: [Int32] = []
                var i = node
                while i >= 0 {
                    path.insert(tree.tokens[i], at: 0)
                    i = tree.parents[i]
                }
                #expect(Int(tree.counts[node]) == counts[path], "\(context.suffix(matched)) → \(path)")
                #expect(tree.shares[node] == Double(counts[path] ?? 0) / Double(total))
            }
            // The first node is the most frequent next token.
            let nextCounts: [(token: Int32, count: Int)] = counts.compactMap { $0.key.count == 1 ? ($0.key[0], $0.value) : nil }
            let best = nextCounts.max { a, b in a.count != b.count ? a.count < b.count : a.token > b.token }!
            #expect(tree.tokens.first == best.token && Int(tree.counts[0]) == best.count)
            drafted += 1
        }
        #expect(drafted > 100)
    }

    // MARK: Building and merging

    @Test func mergeEqualsBuildingTheConcatenatedCorpus() throws {
        let directory = TemporaryDirectory()
        let a = Self.repetitiveDocuments(seed: 1, count: 5, vocabulary: 30)
        let b = Self.repetitiveDocuments(seed: 2, count: 7, vocabulary: 30)
        let storeA = try Self.build(a, in: directory, name: "a.sa")
        let storeB = try Self.build(b, in: directory, name: "b.sa")
        try SuffixArrayStore.merge([storeA, storeB], into: directory.path("merged.sa"))
        _ = try Self.build(a + b, in: directory, name: "whole.sa")
        let merged = try Data(contentsOf: URL(fileURLWithPath: directory.path("merged.sa")))
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory.path("whole.sa")))
        #expect(merged == whole)
        var documents: [[Int32]] = []
        try SuffixArrayStore.open(at: directory.path("merged.sa"), tokenizerFingerprint: nil).forEachDocument { documents.append($0) }
        #expect(documents == (a + b).filter { !$0.isEmpty })
    }

    @Test func mergeRefusesAnotherTokenizerBeforeWriting() throws {
        let directory = TemporaryDirectory()
        let a = try Self.build([[1, 2, 3]], in: directory, name: "a.sa")
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: "other")
        try builder.add([4, 5] as [Int32])
        try builder.write(to: directory.path("b.sa"))
        let b = try SuffixArrayStore.open(at: directory.path("b.sa"), tokenizerFingerprint: nil)
        #expect { try SuffixArrayStore.merge([a, b], into: directory.path("c.sa")) } throws: { error in
            (error as? NGramStoreError)?.code == .tokenizerMismatch && "\(error)".contains("b.sa")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("c.sa")))
    }

    @Test func theSeparatorIdIsRefusedAndAnotherFileIsNotReplaced() throws {
        let directory = TemporaryDirectory()
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: "v")
        #expect { try builder.add([1, -1, 2] as [Int32]) } throws: { error in
            (error as? NGramStoreError)?.code == .invalidArgument && "\(error)".contains("token 1 of document 1")
        }
        try builder.add([1, 2] as [Int32])
        let other = directory.path("notes.txt")
        try "keep me".write(toFile: other, atomically: true, encoding: .utf8)
        #expect { try builder.write(to: other) } throws: { error in "\(error)".contains("not a suffix-array store") }
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "keep me")
    }

    @Test func anEmptyCorpusAnswersNothing() throws {
        let directory = TemporaryDirectory()
        let store = try Self.build([], in: directory)
        #expect(store.header.tokenCount == 0)
        #expect(try store.continuations(of: [1, 2][...]) == nil)
        #expect(try store.longestSuffix(of: [1, 2][...], upTo: 16, occurringAtLeast: 1) == 0)
    }

    // MARK: Damaged files

    struct Damage: CustomTestStringConvertible, Sendable {
        var name: String
        /// Changes the file's bytes.
        var apply: @Sendable (inout [UInt8]) -> Void
        var code: NGramStoreError.Code
        /// Text the message must hold (the byte offset).
        var says: String
        var testDescription: String { name }
    }

    static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    static let damages: [Damage] = [
        Damage(name: "empty", apply: { $0 = [] }, code: .notAStore, says: "empty"),
        Damage(name: "another magic", apply: { $0[0] = UInt8(ascii: "X") }, code: .notAStore, says: "DGSUFARR"),
        Damage(name: "cut inside the header", apply: { $0.removeSubrange(40...) }, code: .corrupt, says: "byte 40"),
        Damage(name: "cut inside the suffix array", apply: { $0.removeLast(6) }, code: .corrupt, says: "truncated"),
        Damage(name: "cut inside the tokens", apply: { $0.removeSubrange(90...) }, code: .corrupt, says: "truncated"),
        Damage(name: "trailing bytes", apply: { $0 += [0, 0, 0, 0] }, code: .corrupt, says: "trailing bytes"),
        Damage(name: "another version", apply: { put32(2, at: 8, in: &$0) }, code: .formatVersionMismatch, says: "version 2"),
        Damage(name: "huge token count", apply: { put32(0xFFFF_0000, at: 16, in: &$0) }, code: .corrupt, says: "byte 16"),
        Damage(name: "huge fingerprint", apply: { put32(1 << 30, at: 52, in: &$0) }, code: .corrupt, says: "byte 52"),
        Damage(name: "moved token array", apply: { put32(8, at: 32, in: &$0) }, code: .corrupt, says: "byte 32"),
        Damage(name: "continuation length 0", apply: { $0[50] = 0 }, code: .corrupt, says: "byte 48"),
    ]

    @Test(arguments: damages)
    func aDamagedFileIsALocatedError(_ damage: Damage) throws {
        let directory = TemporaryDirectory()
        _ = try Self.build(Self.repetitiveDocuments(seed: 4, count: 3, vocabulary: 9), in: directory)
        let path = directory.path("s.sa")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        damage.apply(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil) } throws: { error in
            guard let error = error as? NGramStoreError else { return false }
            return error.code == damage.code && error.path == path && error.message.contains(damage.says)
        }
    }

    @Test func aSuffixArrayEntryPastTheTokensIsALocatedErrorWhenRead() throws {
        let directory = TemporaryDirectory()
        let store = try Self.build([[1, 2, 3, 1, 2, 4, 1, 2, 3]], in: directory)
        let path = directory.path("s.sa")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func damage(ranks: Range<Int>) throws {
            var bytes = original
            for rank in ranks { Self.put32(1000 + UInt32(rank), at: store.header.suffixesOffset + 4 * rank, in: &bytes) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        func located(_ error: any Error, ranks: Range<Int>) -> Bool {
            guard let error = error as? NGramStoreError, error.code == .corrupt else { return false }
            return ranks.contains { rank in
                error.message.contains("at byte \(store.header.suffixesOffset + 4 * rank): suffix-array entry \(rank) is \(1000 + rank), past the 9 tokens")
            }
        }
        // Entries between the samples are read by queries: the first one a search reads is reported.
        let between = 1..<SuffixArrayStore.sampleStride
        try damage(ranks: between)
        let damaged = try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil)
        #expect { try damaged.continuations(of: [1, 2][...]) } throws: { located($0, ranks: between) }
        // A sampled entry is read when the store is opened.
        try damage(ranks: 0..<1)
        #expect { try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil) } throws: { located($0, ranks: 0..<1) }
    }

    @Test func anotherTokenizerIsRefusedAndTheBackendIsChosenByMagic() throws {
        let directory = TemporaryDirectory()
        _ = try Self.build([[1, 2, 3]], in: directory, name: "store.lmdb")
        // Named like an LMDB store, opened as what its bytes say.
        #expect(try RetrievalStores.open(at: directory.path("store.lmdb"), tokenizerFingerprint: nil) is SuffixArrayStore)
        #expect { try RetrievalStores.open(at: directory.path("store.lmdb"), tokenizerFingerprint: "other") } throws: { error in
            (error as? NGramStoreError)?.code == .tokenizerMismatch
        }
        _ = try NGramStore.create(at: directory.path("real.sa"), tokenizerFingerprint: "v")
        #expect(try RetrievalStores.open(at: directory.path("real.sa"), tokenizerFingerprint: nil) is NGramStore)
    }
}
