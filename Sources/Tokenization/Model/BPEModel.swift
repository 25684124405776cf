import Synchronization

/// The BPE model of `tokenizer.json` (`"type": "BPE"`): a vocabulary, ranked merges, and the
/// unknown-token / byte-fallback rules of Hugging Face `tokenizers`.
///
/// In byte-level mode (the pipeline has a ByteLevel pre-tokenizer) words arrive as raw UTF-8 and
/// every byte is one initial symbol; the vocabulary is keyed by the raw bytes each token stands
/// for, which is the same as mapping words into GPT-2's byte alphabet first but without building
/// the mapped strings. Otherwise each Unicode character is one initial symbol.
final class BPEModel: Sendable {
    /// The token strings and their ids.
    let vocabulary: Vocabulary
    let byteLevel: Bool
    let unkID: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Merged pairs: key `left << 32 | right`, value `rank << 32 | merged id`.
    let merges: PairTable
    /// The merges in file order, as id pairs (for the vocabulary fingerprint).
    let mergeList: [(Int32, Int32)]
    /// Byte-level mode: the id of each token by the raw bytes it stands for (nil otherwise, where
    /// the vocabulary's own UTF-8 keys are the symbols).
    private let vocab: ByteKeyTable<Int32>?
    /// Byte-level mode: the id of each single byte's token, -1 when absent.
    private let byteIDs: [Int32]
    /// Character mode: the id of each ASCII character's token, -1 when absent (saves a hash per
    /// character for the common case).
    private let asciiIDs: [Int32]
    /// The `<0xXX>` token of each byte, -1 when absent.
    let byteFallbackIDs: [Int32]
    /// Words already encoded, shared by all encodes; concurrent encoders that find it busy use a
    /// private cache for that call instead of waiting.
    private let cache = Mutex(WordCache())

    /// Words the cache keeps before it is cleared; `tokenizers` keeps 10,000, and a larger cache
    /// measured faster on code (many distinct identifiers) at a few MB of memory.
    static let cacheCapacity = 200_000

    convenience init(json: JSONValue, byteLevel: Bool) throws {
        if let d = try json.member("dropout") {
            let p = (d.raw as? Double) ?? 0
            if p != 0 { throw d.error("BPE dropout is not supported (it makes encoding random)", code: .unsupported) }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = try json.member(key), try !v.string().isEmpty {
                throw v.error("BPE '\(key)' is not supported", code: .unsupported)
            }
        }
        let vocabJSON = try json.required("vocab")
        guard let vocabObject = vocabJSON.raw as? JSONObject else { throw vocabJSON.error("expected an object of token → id") }
        var entries: [(token: String, id: Int, location: JSONValue)] = []
        entries.reserveCapacity(vocabObject.keys.count)
        for (token, value) in zip(vocabObject.keys, vocabObject.values) {
            let v = JSONValue(raw: value, file: json.file, path: "\(vocabJSON.path)[\(token.debugDescription)]")
            entries.append((token, try v.int(), v))
        }
        let vocabulary = try Vocabulary(entries: entries, container: vocabJSON)
        var unkID: Int32?
        if let unk = try json.optionalString("unk_token") {
            guard let id = vocabulary.id(of: unk) else { throw try json.required("unk_token").error("unk_token '\(unk)' is not in the vocabulary") }
            unkID = id
        }
        let mergesJSON = try json.member("merges")?.array() ?? []
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(mergesJSON.count)
        for m in mergesJSON {
            if let s = m.raw as? String {
                guard let pair = Self.splitMerge(s) else {
                    throw m.error("a merge must be two tokens separated by one space (found \(s.utf8.filter { $0 == 0x20 }.count) in \(s.debugDescription))")
                }
                pairs.append(pair)
            } else if let a = m.raw as? [Any], a.count == 2, let l = a[0] as? String, let r = a[1] as? String {
                pairs.append((l, r))
            } else {
                throw m.error("a merge must be \"left right\" or [\"left\", \"right\"]")
            }
        }
        try self.init(vocabulary: vocabulary, byteLevel: byteLevel, unkID: unkID,
                      fuseUnk: try json.bool("fuse_unk", default: false), byteFallback: try json.bool("byte_fallback", default: false),
                      ignoreMerges: try json.bool("ignore_merges", default: false), merges: pairs,
                      mergeError: { mergesJSON[$0].error($1) })
    }

    /// Splits a `"left right"` merge at its one space byte, not at a Character: in "ன ்" (U+0BA9,
    /// space, U+0BCD) the space and the virama after it are one grapheme cluster, so a split by
    /// Characters finds no separator. `tokenizers` requires exactly one space.
    static func splitMerge(_ s: String) -> (String, String)? {
        let utf8 = Array(s.utf8)
        let spaces = utf8.indices.filter { utf8[$0] == UInt8(ascii: " ") }
        guard spaces.count == 1 else { return nil }
        return (String(decoding: utf8[..<spaces[0]], as: UTF8.self), String(decoding: utf8[(spaces[0] + 1)...], as: UTF8.self))
    }

    /// Builds the model from plain values (tokenizer.json and GGUF metadata both end here).
    /// - Parameter mergeError: the located error for a message about merge `index`.
    /// - Throws: `TokenizerError` when a merge names a token, or makes one, outside the vocabulary.
    init(vocabulary: Vocabulary, byteLevel: Bool, unkID: Int32?, fuseUnk: Bool, byteFallback: Bool, ignoreMerges: Bool,
         merges pairs: [(String, String)], mergeError: (Int, String) -> TokenizerError) throws {
        self.byteLevel = byteLevel
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.vocabulary = vocabulary
        self.unkID = unkID
        if byteLevel {
            var vocab = ByteKeyTable<Int32>(capacity: vocabulary.count)
            for (id, token) in vocabulary.idToToken.enumerated() {
                if let token, let bytes = ByteLevelAlphabet.bytes(of: token) { vocab.insert(bytes, Int32(id)) }
            }
            self.vocab = vocab
        } else {
            vocab = nil
        }

        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 where byteLevel {
            if let id = vocabulary.id(of: String(Unicode.Scalar(ByteLevelAlphabet.byteToScalar[b])!)) { byteIDs[b] = id }
        }
        self.byteIDs = byteIDs
        self.asciiIDs = (0..<128).map { vocabulary.id(of: String(Unicode.Scalar(UInt8($0)))) ?? -1 }
        self.byteFallbackIDs = vocabulary.byteFallbackIDs()

        var mergeList: [(Int32, Int32)] = []
        var merges = PairTable(capacity: pairs.count)
        mergeList.reserveCapacity(pairs.count)
        for (rank, pair) in pairs.enumerated() {
            guard let l = vocabulary.id(of: pair.0) else { throw mergeError(rank, "merge token \(pair.0.debugDescription) is not in the vocabulary") }
            guard let r = vocabulary.id(of: pair.1) else { throw mergeError(rank, "merge token \(pair.1.debugDescription) is not in the vocabulary") }
            guard let merged = vocabulary.id(of: pair.0 + pair.1) else {
                throw mergeError(rank, "merged token \((pair.0 + pair.1).debugDescription) is not in the vocabulary")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            merges.insertIfAbsent(key, UInt64(rank) << 32 | UInt64(UInt32(merged)))
            mergeList.append((l, r))
        }
        self.merges = merges
        self.mergeList = mergeList
    }

    /// Encodes the words of one piece list, appending ids to `out`.
    func encode(words: UnsafeBufferPointer<UInt8>, ranges: [Range<Int>], into out: inout [Int32]) {
        let used = cache.withLockIfAvailable { cache -> Bool in
            for r in ranges { encodeWord(UnsafeBufferPointer(rebasing: words[r]), cache: &cache, into: &out) }
            return true
        }
        if used == nil {
            var local = WordCache()
            for r in ranges { encodeWord(UnsafeBufferPointer(rebasing: words[r]), cache: &local, into: &out) }
        }
    }

    @inline(__always)
    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, cache: inout WordCache, into out: inout [Int32]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = symbolID(word) {
            out.append(id)
            return
        }
        if let hit = cache.table.find(word) {
            out.append(contentsOf: cache.ids[Int(hit.start)..<Int(hit.start + hit.count)])
            return
        }
        let start = out.count
        tokenize(word, into: &out, scratch: &cache.scratch)
        if word.count > Self.maximumCachedWordLength { return }
        if cache.table.count >= Self.cacheCapacity {
            cache.table.removeAll()
            cache.ids.removeAll(keepingCapacity: true)
        }
        cache.table.insert(word, (Int32(cache.ids.count), Int32(out.count - start)))
        cache.ids.append(contentsOf: out[start...])
    }

    /// The initial symbols of a word, then the merges in rank order (leftmost first on ties),
    /// which is what `tokenizers`' priority-queue merge produces.
    private func tokenize(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32], scratch: inout [Int32]) {
        scratch.removeAll(keepingCapacity: true)
        if byteLevel {
            for b in word {
                let id = byteIDs[Int(b)]
                if id >= 0 { scratch.append(id) } else if let unkID { scratch.append(unkID) }
            }
        } else {
            initialCharacterSymbols(word, into: &scratch)
        }
        merge(&scratch)
        out.append(contentsOf: scratch)
    }

    /// Characters → ids with `tokenizers`' rules: a known character is its token; otherwise its
    /// UTF-8 bytes as `<0xXX>` tokens when byte fallback is on and all exist; otherwise the unknown
    /// token, consecutive ones fused into one when `fuse_unk` (a pending unknown is emitted only
    /// at the next known character or the end, after any byte-fallback tokens, as there).
    private func initialCharacterSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) {
        var pendingUnk = false
        var i = 0
        while i < word.count {
            let length = min(scalarLength(leadByte: word[i]), word.count - i)
            let char = UnsafeBufferPointer(rebasing: word[i..<i + length])
            i += length
            let asciiID = length == 1 && char[0] < 0x80 ? asciiIDs[Int(char[0])] : -1
            if let id = asciiID >= 0 ? asciiID : vocabulary.id(utf8: char) {
                if pendingUnk, let unkID { symbols.append(unkID) }
                pendingUnk = false
                symbols.append(id)
                continue
            }
            if byteFallback, Vocabulary.appendByteFallback(char, table: byteFallbackIDs, into: &symbols) { continue }
            guard let unkID else { continue }
            if pendingUnk && !fuseUnk { symbols.append(unkID) }
            pendingUnk = true
        }
        if pendingUnk, let unkID { symbols.append(unkID) }
    }

    /// The id of the token a whole word's bytes spell (raw bytes in byte-level mode, UTF-8 otherwise).
    @inline(__always)
    private func symbolID(_ word: UnsafeBufferPointer<UInt8>) -> Int32? {
        if let vocab { return vocab.find(word) }
        return vocabulary.id(utf8: word)
    }

    @inline(__always)
    private func pairRank(_ l: Int32, _ r: Int32) -> UInt64 {
        merges.value(UInt64(UInt32(l)) << 32 | UInt64(UInt32(r)))
    }

    /// Words with more symbols than this merge through a priority queue (O(n log n)); shorter
    /// ones rescan an array of pair ranks, which is faster for the few symbols of a typical word.
    static let heapMergeThreshold = 48

    /// Words at most this long (in bytes) are cached; `tokenizers` uses the same bound, and a
    /// long word rarely repeats.
    static let maximumCachedWordLength = 256

    private func merge(_ symbols: inout [Int32]) {
        if symbols.count > Self.heapMergeThreshold {
            heapMerge(&symbols)
            return
        }
        var n = symbols.count
        guard n > 1 else { return }
        var ranks = [UInt64](repeating: .max, count: n - 1)
        for k in 0..<(n - 1) { ranks[k] = pairRank(symbols[k], symbols[k + 1]) }
        while true {
            var best = -1
            var bestRank = UInt64.max
            for k in 0..<(n - 1) where ranks[k] < bestRank {
                bestRank = ranks[k]
                best = k
            }
            if best < 0 { break }
            symbols[best] = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            n -= 1
            if best > 0 { ranks[best - 1] = pairRank(symbols[best - 1], symbols[best]) }
            if best < n - 1 { ranks[best] = pairRank(symbols[best], symbols[best + 1]) }
        }
    }
}

extension BPEModel {
    /// The merge loop over a linked list of symbols with a min-heap of `(rank, position)`: pops
    /// the lowest rank, leftmost first, skips entries a previous merge made stale.
    fileprivate func heapMerge(_ symbols: inout [Int32]) {
        let n = symbols.count
        var next = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i + 1) }; c = n }
        next[n - 1] = -1
        var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i - 1) }; c = n }
        var alive = [Bool](repeating: true, count: n)
        var heap = BinaryHeap<UInt64>()
        func push(_ pos: Int) {
            let nx = Int(next[pos])
            guard nx >= 0 else { return }
            let r = pairRankValue(symbols[pos], symbols[nx])
            if r != .max { heap.push((r >> 32) << 32 | UInt64(pos)) }
        }
        for i in 0..<(n - 1) { push(i) }
        while let top = heap.pop() {
            let rank = top >> 32
            let pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos] else { continue }
            let nx = Int(next[pos])
            guard nx >= 0 else { continue }
            let current = pairRankValue(symbols[pos], symbols[nx])
            guard current != .max, current >> 32 == rank else { continue }
            symbols[pos] = Int32(truncatingIfNeeded: current & 0xFFFF_FFFF)
            alive[nx] = false
            let after = next[nx]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            if prev[pos] >= 0 { push(Int(prev[pos])) }
            push(pos)
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 {
            out.append(symbols[i])
            i = Int(next[i])
        }
        symbols = out
    }

    @inline(__always)
    fileprivate func pairRankValue(_ l: Int32, _ r: Int32) -> UInt64 {
        merges.value(UInt64(UInt32(l)) << 32 | UInt64(UInt32(r)))
    }
}

/// Encoded words, their ids in one arena, and scratch space for the merge loop.
struct WordCache: ~Copyable {
    var table = ByteKeyTable<(start: Int32, count: Int32)>(capacity: 4096)
    var ids: [Int32] = []
    var scratch: [Int32] = []
}
