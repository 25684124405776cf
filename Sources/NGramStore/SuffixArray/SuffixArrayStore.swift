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
    /// `firstRank[t]` is the rank of the first suffix starting with a token ≥ `t`, for every id up
    /// to the largest in the corpus (and one past it): the suffixes starting with `t` are
    /// `firstRank[t]..<firstRank[t + 1]`, so a search starts inside its first token's bucket
    /// instead of the whole array, from a table that stays in the cache. Empty when the largest id
    /// is `maximumBucketedID` or more (the searches then span the whole array).
    let firstRank: [UInt32]

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
        firstRank = Self.firstRanks(UnsafeBufferPointer(start: tokens, count: header.tokenCount))
    }

    /// The first-token table (`firstRank`), from one sequential pass counting the ids: suffixes
    /// are sorted by their first token, so a bucket starts where the counts of smaller ids end.
    static func firstRanks(_ tokens: UnsafeBufferPointer<UInt32>) -> [UInt32] {
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
        guard !firstRank.isEmpty else { return 0..<n }
        let top = firstRank.count - 3
        guard token <= UInt32(top) else { return token == SuffixArrayHeader.separator ? Int(firstRank[top + 1])..<n : n..<n }
        return Int(firstRank[Int(token)])..<Int(firstRank[Int(token) + 1])
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

    /// The ranks of the suffixes that start with `pattern`: two binary searches within the bucket
    /// of its first token, the second one only up to the first rank the first search saw past the
    /// pattern.
    /// - Throws: `.corrupt` for a damaged entry met on the way.
    func range(of pattern: ArraySlice<Int32>) throws -> Range<Int> {
        guard let (first, end) = try lowerBound(of: pattern) else { return 0..<0 }
        var lo = first, hi = end
        while lo < hi {
            let mid = (lo + hi) / 2
            if compare(suffixAt: try suffix(mid), with: pattern) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        return first..<lo
    }

    /// Whether `pattern` occurs: one binary search.
    func occurs(_ pattern: ArraySlice<Int32>) throws -> Bool {
        guard let (first, end) = try lowerBound(of: pattern), first < end else { return false }
        return compare(suffixAt: try suffix(first), with: pattern) == 0
    }

    /// The first rank whose suffix is not below `pattern`, and the first rank seen above it (an
    /// upper limit for the end of its range); `nil` for a pattern that cannot occur.
    private func lowerBound(of pattern: ArraySlice<Int32>) throws -> (Int, Int)? {
        // A separator in the pattern would match across documents.
        guard let head = pattern.first, !pattern.contains(Int32(bitPattern: SuffixArrayHeader.separator)) else { return nil }
        let bucket = bucket(UInt32(bitPattern: head))
        var lo = bucket.lowerBound, hi = bucket.upperBound
        var above = hi
        while lo < hi {
            let mid = (lo + hi) / 2
            let order = compare(suffixAt: try suffix(mid), with: pattern)
            if order < 0 {
                lo = mid + 1
            } else {
                hi = mid
                if order > 0 { above = mid }
            }
        }
        return (lo, above)
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
    /// `total / (countersPerDepth + 1)`, with its exact count.
    /// - Parameter context: the context (any length; at most `longestContext` is useful).
    /// - Returns: the summary, `nil` when the context never occurs followed by a token.
    /// - Throws: `.corrupt` for a damaged suffix-array entry.
    public func continuations(of context: ArraySlice<Int32>) throws -> ContinuationSummary? {
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
        try collect(followed, offset: m, prefix: TokenRun(), threshold: threshold, into: &summary.entries)
        summary.normalize()
        return summary
    }

    /// Adds the continuations of `prefix` (the suffixes in `range`, which share `offset` tokens)
    /// that occur at least `threshold` times. A run that long must contain a rank `threshold − 1`
    /// past where the previous run ended, so probing there finds every such run in at most
    /// `range.count / threshold` probes, each a binary search within `threshold` ranks and a gallop.
    private func collect(_ range: Range<Int>, offset: Int, prefix: TokenRun, threshold: Int,
                         into entries: inout [ContinuationSummary.Entry]) throws {
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
                    try collect(lo..<hi, offset: offset + 1, prefix: next, threshold: threshold, into: &entries)
                }
            }
            start = hi
        }
    }

    /// The longest suffix of `context` (at most `longest` tokens) that occurs in the corpus, by
    /// binary search over lengths: a suffix that occurs implies every shorter one does.
    public func longestOccurringSuffix(of context: ArraySlice<Int32>, upTo longest: Int) throws -> Int {
        var lo = 0, hi = min(longest, context.count)
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if try occurs(context.suffix(mid)) { lo = mid } else { hi = mid - 1 }
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
