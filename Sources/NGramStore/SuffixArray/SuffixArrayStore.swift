#if canImport(Glibc)
import Glibc
#endif

/// A read-only retrieval datastore for exact long matches: the corpus tokens and their suffix
/// array in one memory-mapped file (REST, He et al., "REST: Retrieval-Based Speculative
/// Decoding", NAACL 2024). A query finds the suffixes that start with a context by binary search,
/// and summarises the tokens after them: the suffixes of one context are sorted by what follows
/// it, so each continuation is a contiguous run whose length is its exact count.
///
/// The file is immutable once written (builds and merges write a new file and rename it), so the
/// store is shared freely between threads (`@unchecked Sendable`: nothing in it changes after
/// `open`). Every suffix-array entry read is checked against the token count: a damaged entry is a
/// located `.corrupt` error, never a read outside the map.
public final class SuffixArrayStore: @unchecked Sendable {
    /// The store's file.
    public let path: String
    /// Its header.
    public let header: SuffixArrayHeader
    let mapping: UnsafeMutableRawPointer?
    let mappedBytes: Int
    let tokens: UnsafePointer<UInt32>
    let suffixes: UnsafePointer<UInt32>
    /// Tokens in the array (`header.tokenCount`).
    let n: Int
    /// `bucketStarts[t]` is the rank of the first suffix starting with a token ≥ `t`, for every id up
    /// to the largest in the corpus (and one past it): the suffixes starting with `t` are
    /// `bucketStarts[t]..<bucketStarts[t + 1]`, so a search starts inside its first token's bucket
    /// instead of the whole array, from a table that stays in the cache. Empty when the largest id
    /// is `maximumBucketedID` or more (the searches then span the whole array).
    let bucketStarts: [UInt32]

    /// Every `sampleStride`-th suffix (`sampleWidth + 1` values each): its position and its first
    /// `sampleWidth` tokens, contiguous. A search first narrows to `sampleStride` ranks (or to the
    /// ranks sharing the first `sampleWidth` tokens, for a longer pattern) by a binary search in this
    /// array — a fifth of the file's size, one cache miss per step at most — before it reads the
    /// suffix array and the tokens at random, two misses per step. Set once, when the store opens
    /// (a `var` only because a throwing method of the store fills it).
    private(set) var samples: [UInt32]

    /// Ranks between samples: a search ends with log₂(8) = 3 steps in the suffix array. Samples take
    /// (1 + `sampleWidth`) × 4 / `sampleStride` = 2.5 bytes per token in memory, built when opened.
    static let sampleStride = 8
    /// Tokens kept per sample: contexts of up to 4 tokens are located by the samples alone, a
    /// longer one within the suffixes that share its first 4. Measured on the CPython standard
    /// library (`bench suffix-array`, 2026-12-07), 8 tokens (4.5 bytes per token) gave no draft step
    /// faster beyond the noise of the shared machine.
    static let sampleWidth = 4

    /// Largest token id for which the first-token table is built: 4 bytes per id up to it, 64 MiB
    /// at most; tokenizers' vocabularies stay far below (150 k for the largest in use).
    static let maximumBucketedID: UInt32 = 1 << 24

    /// A continuation key at some offset after a suffix: 0 when the corpus ends first, the token + 1
    /// otherwise; the separator's key (`separatorKey`) ends a document. Keys sort as the suffixes do.
    typealias Key = UInt64
    static let separatorKey = Key(SuffixArrayHeader.separator) + 1

    /// Whether the file at `path` starts with the suffix-array magic (an unreadable or short file
    /// does not).
    /// - Parameter path: the file.
    /// - Returns: whether it is meant to be a suffix-array store.
    public static func isSuffixArray(at path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: SuffixArrayHeader.magic.count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return got == bytes.count && bytes == SuffixArrayHeader.magic
    }

    /// Opens a store.
    /// - Parameters:
    ///   - path: the file.
    ///   - tokenizerFingerprint: the caller's tokenizer; `nil` accepts any.
    /// - Returns: the store, mapped read-only.
    /// - Throws: `NGramStoreError`: `.notFound`, `.notAStore`, `.formatVersionMismatch`, `.corrupt`
    ///   (a truncated file or inconsistent header, located at a byte offset), `.tokenizerMismatch`.
    public static func open(at path: String, tokenizerFingerprint: String?) throws -> SuffixArrayStore {
        let store = try SuffixArrayStore(path: path)
        if let tokenizerFingerprint { try store.requireTokenizer(tokenizerFingerprint) }
        return store
    }

    /// Checks that the store was built with a tokenizer.
    /// - Parameter fingerprint: the caller's tokenizer's vocabulary fingerprint.
    /// - Throws: `NGramStoreError` (`.tokenizerMismatch`) when it is another.
    public func requireTokenizer(_ fingerprint: String) throws {
        guard fingerprint == header.tokenizerFingerprint else {
            throw NGramStoreError(.tokenizerMismatch, path: path, "the store was built with tokenizer '\(header.tokenizerFingerprint)', not '\(fingerprint)'; build a store for this tokenizer")
        }
    }

    private init(path: String) throws {
        self.path = path
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "opening the suffix-array store") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw NGramStoreError.system(errno, path: path, doing: "reading the file's size") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw NGramStoreError(.notAStore, path: path, "not a suffix-array store: not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw NGramStoreError(.notAStore, path: path, "not a suffix-array store: the file is empty") }
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else {
            throw NGramStoreError.system(errno, path: path, doing: "mapping the suffix-array store")
        }
        do {
            header = try SuffixArrayHeader.decode(UnsafeRawBufferPointer(start: map, count: size), path: path)
        } catch {
            munmap(map, size)
            throw error
        }
        // Lookups touch the file at random: read-ahead would only evict other pages. The pages are
        // faulted in now rather than on a drafter's critical path (a first touch costs a page fault,
        // which would set the latency tail).
        madvise(map, size, MADV_RANDOM)
        madvise(map, size, MADV_WILLNEED)
        mapping = map
        mappedBytes = size
        n = header.tokenCount
        // Both offsets are multiples of 4 from a page-aligned base (checked by decode).
        let tokens = UnsafePointer(map.advanced(by: header.tokensOffset).assumingMemoryBound(to: UInt32.self))
        self.tokens = tokens
        suffixes = UnsafePointer(map.advanced(by: header.suffixesOffset).assumingMemoryBound(to: UInt32.self))
        bucketStarts = Self.bucketStarts(UnsafeBufferPointer(start: tokens, count: header.tokenCount))
        samples = []
        do {
            samples = try sampleSuffixes()
        } catch {
            munmap(map, size)
            throw error
        }
    }

    /// The samples (`samples`), one checked suffix-array read each.
    private func sampleSuffixes() throws -> [UInt32] {
        let width = Self.sampleWidth
        var samples = [UInt32](repeating: 0, count: (n + Self.sampleStride - 1) / Self.sampleStride * (width + 1))
        for (j, rank) in stride(from: 0, to: n, by: Self.sampleStride).enumerated() {
            let position = try suffix(rank)
            samples[j * (width + 1)] = UInt32(position)
            for k in 0..<min(width, n - position) { samples[j * (width + 1) + 1 + k] = token(position + k) }
        }
        return samples
    }

    /// How sample `j`'s suffix compares with the first `length` (≤ `sampleWidth`) tokens of `pattern`.
    @inline(__always) private func sampleOrder(_ j: Int, _ pattern: ArraySlice<Int32>, length: Int) -> Int {
        let base = j * (Self.sampleWidth + 1)
        let position = Int(samples[base])
        var k = 0
        for t in pattern.prefix(length) {
            guard position + k < n else { return -1 }
            let a = samples[base + 1 + k], b = UInt32(bitPattern: t)
            if a != b { return a < b ? -1 : 1 }
            k += 1
        }
        return 0
    }

    /// Where the ranks of the suffixes starting with `pattern` begin and end: windows of at most
    /// `sampleStride` ranks for a pattern of up to `sampleWidth` tokens, from the samples alone.
    /// - Returns: `lower` holds the first rank not below the pattern (or that is its end),
    ///   `upper` the first rank above it; `nil` when it cannot occur.
    private func windows(of pattern: ArraySlice<Int32>) -> (lower: Range<Int>, upper: Range<Int>)? {
        // A separator in the pattern would match across documents.
        guard let head = pattern.first, !pattern.contains(Int32(bitPattern: SuffixArrayHeader.separator)) else { return nil }
        let bucket = bucket(UInt32(bitPattern: head))
        guard !bucket.isEmpty else { return nil }
        let stride = Self.sampleStride
        let length = min(pattern.count, Self.sampleWidth)
        let exact = length == pattern.count
        let jStart = (bucket.lowerBound + stride - 1) / stride, jEnd = (bucket.upperBound + stride - 1) / stride
        func firstSample(from start: Int, where order: (Int) -> Bool) -> Int {
            var lo = start, hi = jEnd
            while lo < hi {
                let mid = (lo + hi) / 2
                if order(sampleOrder(mid, pattern, length: length)) { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        let a = firstSample(from: jStart) { $0 >= 0 }
        let b = firstSample(from: a) { $0 > 0 }
        func rank(_ j: Int) -> Int { j < jEnd ? j * stride : bucket.upperBound }
        // Sample a − 1 is below the pattern, sample b above it; sample a is not below it when the
        // samples hold the whole pattern, and b − 1 is then not above it.
        let lowerStart = a > jStart ? rank(a - 1) + 1 : bucket.lowerBound
        let lower = lowerStart..<(exact ? rank(a) : rank(b))
        let upper = (exact && b > jStart ? rank(b - 1) + 1 : lowerStart)..<rank(b)
        return (lower, upper)
    }

    /// The first-token table (`bucketStarts`), from one sequential pass counting the ids: suffixes
    /// are sorted by their first token, so a bucket starts where the counts of smaller ids end.
    static func bucketStarts(_ tokens: UnsafeBufferPointer<UInt32>) -> [UInt32] {
        // The separator is bucketed as the id two past the largest other id: it sorts last.
        var top: UInt32 = 0
        for t in tokens where UInt32(littleEndian: t) != SuffixArrayHeader.separator { top = max(top, UInt32(littleEndian: t)) }
        guard !tokens.isEmpty, top < maximumBucketedID else { return [] }
        var starts = [UInt32](repeating: 0, count: Int(top) + 3)
        for t in tokens {
            let id = UInt32(littleEndian: t)
            starts[id == SuffixArrayHeader.separator ? Int(top) + 2 : Int(id) + 1] += 1
        }
        for i in 1..<starts.count { starts[i] += starts[i - 1] }
        return starts
    }

    /// The ranks of the suffixes whose first token is `token`, or all ranks without a table.
    @inline(__always) func bucket(_ token: UInt32) -> Range<Int> {
        guard !bucketStarts.isEmpty else { return 0..<n }
        let top = bucketStarts.count - 3
        guard token <= UInt32(top) else { return token == SuffixArrayHeader.separator ? Int(bucketStarts[top + 1])..<n : n..<n }
        return Int(bucketStarts[Int(token)])..<Int(bucketStarts[Int(token) + 1])
    }

    deinit {
        if let mapping { munmap(mapping, mappedBytes) }
    }

    /// The token at a corpus position (`position < n`).
    @inline(__always) func token(_ position: Int) -> UInt32 { UInt32(littleEndian: tokens[position]) }

    /// The corpus position of the suffix of rank `rank`, checked.
    /// - Throws: `.corrupt`, located at the entry's byte offset, when it points past the tokens.
    @inline(__always) func suffix(_ rank: Int) throws -> Int {
        let position = Int(UInt32(littleEndian: suffixes[rank]))
        guard position < n else { throw corruptEntry(rank, position) }
        return position
    }

    func corruptEntry(_ rank: Int, _ position: Int) -> NGramStoreError {
        NGramStoreError(.corrupt, path: path, "damaged suffix-array store at byte \(header.suffixesOffset + 4 * rank): suffix-array entry \(rank) is \(position), past the \(n) tokens; rebuild it with 'decograph store build --format suffix-array'")
    }

    /// The continuation key `offset` tokens into the suffix of rank `rank`.
    @inline(__always) func key(_ rank: Int, offset: Int) throws -> Key {
        let p = try suffix(rank) + offset
        return p < n ? Key(token(p)) + 1 : 0
    }

    /// How the suffix at `position` compares with `pattern` over the pattern's length: negative,
    /// zero when the suffix starts with the pattern, positive.
    @inline(__always) func compare(suffixAt position: Int, with pattern: ArraySlice<Int32>) -> Int {
        var p = position
        for t in pattern {
            guard p < n else { return -1 }
            let a = token(p), b = UInt32(bitPattern: t)
            if a != b { return a < b ? -1 : 1 }
            p += 1
        }
        return 0
    }

    /// The ranks of the suffixes that start with `pattern`: the samples' windows, then a binary
    /// search in each.
    /// - Throws: `.corrupt` for a damaged entry met on the way.
    func range(of pattern: ArraySlice<Int32>) throws -> Range<Int> {
        guard let windows = windows(of: pattern) else { return 0..<0 }
        let first = try firstRank(in: windows.lower) { compare(suffixAt: $0, with: pattern) >= 0 }
        let end = try firstRank(in: max(first, windows.upper.lowerBound)..<max(first, windows.upper.upperBound)) {
            compare(suffixAt: $0, with: pattern) > 0
        }
        return first..<end
    }

    /// Whether `pattern` occurs at least `times` times: one search for the first suffix starting
    /// with it, then one comparison `times − 1` ranks on (the suffixes that start with it are
    /// consecutive ranks).
    func occurs(_ pattern: ArraySlice<Int32>, atLeast times: Int) throws -> Bool {
        guard let windows = windows(of: pattern) else { return false }
        let first = try firstRank(in: windows.lower) { compare(suffixAt: $0, with: pattern) >= 0 }
        let last = first + max(1, times) - 1
        guard last < n else { return false }
        return compare(suffixAt: try suffix(last), with: pattern) == 0
    }

    /// The first rank in `ranks` whose suffix (its position) satisfies `holds`, which is false and
    /// then true along the ranks; `ranks.upperBound` when none does.
    @inline(__always) private func firstRank(in ranks: Range<Int>, where holds: (Int) -> Bool) throws -> Int {
        var lo = ranks.lowerBound, hi = ranks.upperBound
        while lo < hi {
            let mid = (lo + hi) / 2
            if holds(try suffix(mid)) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// The first rank in `range` whose key at `offset` is at least `key` (keys ascend in a range of
    /// suffixes that share their first `offset` tokens).
    func lowerBound(_ key: Key, in range: Range<Int>, offset: Int) throws -> Int {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi {
            let mid = (lo + hi) / 2
            if try self.key(mid, offset: offset) < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first rank from `start` (below `limit`) whose key at `offset` exceeds `key`, found by
    /// galloping: a run's end costs the logarithm of its length, not of the range.
    func upperBound(_ key: Key, from start: Int, limit: Int, offset: Int) throws -> Int {
        var lo = start, step = 1
        var hi = start
        while hi < limit, try self.key(hi, offset: offset) <= key {
            lo = hi + 1
            hi = min(limit, hi + step)
            step *= 2
        }
        while lo < hi {
            let mid = (lo + hi) / 2
            if try self.key(mid, offset: offset) <= key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension SuffixArrayStore: ContinuationIndex {
    public var longestContext: Int { header.parameters.longestContext }

    /// What followed a context: its occurrences followed by a token of the same document
    /// (`total`, exact) and every continuation prefix whose count at its depth exceeds
    /// `total / (countersPerDepth + 1)` and is at least `minimumShare` of its parent's, with its
    /// exact count.
    /// - Parameters:
    ///   - context: the context (any length; at most `longestContext` is useful).
    ///   - minimumShare: the share of its parent's count a prefix needs (0: none).
    /// - Returns: the summary, `nil` when the context never occurs followed by a token.
    /// - Throws: `.corrupt` for a damaged suffix-array entry.
    public func continuations(of context: ArraySlice<Int32>, minimumShare: Double) throws -> ContinuationSummary? {
        guard !context.isEmpty else { return nil }
        let matches = try range(of: context)
        guard !matches.isEmpty else { return nil }
        let m = context.count
        // Occurrences with nothing after them: the corpus end (key 0, sorts first) and a document's
        // end (the separator, sorts last).
        let first = try key(matches.lowerBound, offset: m) == 0 ? matches.lowerBound + 1 : matches.lowerBound
        let followed = first..<(try lowerBound(Self.separatorKey, in: first..<matches.upperBound, offset: m))
        guard !followed.isEmpty else { return nil }
        var summary = ContinuationSummary()
        summary.total = UInt32(min(followed.count, Int(UInt32.max)))
        let threshold = followed.count / (header.parameters.countersPerDepth + 1) + 1
        try collect(followed, offset: m, prefix: TokenRun(), threshold: threshold, minimumShare: minimumShare, into: &summary.entries)
        summary.normalize()
        return summary
    }

    /// Adds the continuations of `prefix` (the suffixes in `range`, which share `offset` tokens)
    /// that occur at least `threshold` times and in `minimumShare` of `range`. A run that long must
    /// contain a rank `threshold − 1` past where the previous run ended, so probing there finds
    /// every such run in at most `range.count / threshold` probes, each a binary search within
    /// `threshold` ranks and a gallop: a share gate of ½ or more leaves one probe per prefix.
    private func collect(_ range: Range<Int>, offset: Int, prefix: TokenRun, threshold global: Int, minimumShare: Double,
                         into entries: inout [ContinuationSummary.Entry]) throws {
        let threshold = max(global, Int((minimumShare * Double(range.count)).rounded(.up)))
        var start = range.lowerBound
        while start + threshold - 1 < range.upperBound {
            let probe = start + threshold - 1
            let key = try key(probe, offset: offset)
            let lo = try lowerBound(key, in: start..<probe, offset: offset)
            let hi = try upperBound(key, from: probe + 1, limit: range.upperBound, offset: offset)
            if hi - lo >= threshold, key != 0, key != Self.separatorKey {
                var next = prefix
                next.append(Int32(bitPattern: UInt32(key - 1)))
                entries.append(ContinuationSummary.Entry(tokens: next, count: UInt32(min(hi - lo, Int(UInt32.max)))))
                if next.count < header.parameters.continuationLength {
                    try collect(lo..<hi, offset: offset + 1, prefix: next, threshold: global, minimumShare: minimumShare, into: &entries)
                }
            }
            start = hi
        }
    }

    /// The longest suffix of `context` (at most `longest` tokens) that occurs at least `minimum`
    /// times in the corpus, by binary search over lengths: a suffix occurs at most as often as
    /// each shorter one. One search per length tried.
    public func longestSuffix(of context: ArraySlice<Int32>, upTo longest: Int, occurringAtLeast minimum: Int) throws -> Int {
        var lo = 0, hi = min(longest, context.count)
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            let suffix = context.suffix(mid)
            if try occurs(suffix, atLeast: minimum) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

extension SuffixArrayStore: RetrievalStore {
    public var tokenizerFingerprint: String { header.tokenizerFingerprint }
    public var continuationLength: Int { header.parameters.continuationLength }
    public var countParameters: NGramParameters { NGramParameters() }

    public func withContinuationIndex<R>(_ body: (any ContinuationIndex) throws -> R) throws -> R { try body(self) }
}
