import Synchronization

/// The BPE model of `tokenizer.json` (`"type": "BPE"`): a vocabulary, ranked merges, and the
/// unknown-token / byte-fallback rules of Hugging Face `tokenizers`.
///
/// In byte-level mode (the pipeline has a ByteLevel pre-tokenizer) words arrive as raw UTF-8 and
/// every byte is one initial symbol; the vocabulary is keyed by the raw bytes each token stands
/// for, which is the same as mapping words into GPT-2's byte alphabet first but without building
/// the mapped strings. Otherwise each Unicode character is one initial symbol.
final class BPEModel: Sendable {
    /// Token string for every model id (the strings decoders see).
    let idToToken: [String?]
    /// Id of every model token string.
    let tokenToID: [String: Int32]
    let byteLevel: Bool
    let unkID: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Merged pairs: key `left << 32 | right`, value `rank << 32 | merged id`.
    let merges: [UInt64: UInt64]
    /// The merges in file order, as id pairs (for the vocabulary fingerprint).
    let mergeList: [(Int32, Int32)]
    private let vocab: ByteKeyTable<Int32>
    /// Byte-level mode: the id of each single byte's token, -1 when absent.
    private let byteIDs: [Int32]
    /// The `<0xXX>` token of each byte, -1 when absent.
    let byteFallbackIDs: [Int32]
    /// Words already encoded, shared by all encodes; concurrent encoders that find it busy use a
    /// private cache for that call instead of waiting.
    private let cache = Mutex(WordCache())

    /// Words the cache keeps before it is cleared; `tokenizers` keeps 10,000, and a larger cache
    /// measured faster on code (many distinct identifiers) at a few MB of memory.
    static let cacheCapacity = 200_000

    init(json: JSONValue, byteLevel: Bool) throws {
        self.byteLevel = byteLevel
        if let d = try json.member("dropout") {
            let p = (d.raw as? Double) ?? 0
            if p != 0 { throw d.error("BPE dropout is not supported (it makes encoding random)", code: .unsupported) }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = try json.member(key), try !v.string().isEmpty {
                throw v.error("BPE '\(key)' is not supported", code: .unsupported)
            }
        }
        fuseUnk = try json.bool("fuse_unk", default: false)
        byteFallback = try json.bool("byte_fallback", default: false)
        ignoreMerges = try json.bool("ignore_merges", default: false)

        let vocabJSON = try json.required("vocab")
        guard let vocabObject = vocabJSON.raw as? [String: Any] else { throw vocabJSON.error("expected an object of token → id") }
        var tokenToID: [String: Int32] = [:]
        tokenToID.reserveCapacity(vocabObject.count)
        var maxID = -1
        for (token, value) in vocabObject {
            let v = JSONValue(raw: value, file: json.file, path: "\(vocabJSON.path)[\(token.debugDescription)]")
            let id = try v.int()
            guard id >= 0, id < Int(Int32.max) else { throw v.error("token id out of range") }
            tokenToID[token] = Int32(id)
            maxID = max(maxID, id)
        }
        var idToToken = [String?](repeating: nil, count: maxID + 1)
        var vocab = ByteKeyTable<Int32>(capacity: tokenToID.count)
        for (token, id) in tokenToID {
            if let previous = idToToken[Int(id)] {
                throw vocabJSON.error("tokens '\(previous)' and '\(token)' share id \(id)")
            }
            idToToken[Int(id)] = token
            if byteLevel {
                if let bytes = ByteLevelAlphabet.bytes(of: token) { vocab.insert(bytes, id) }
            } else {
                vocab.insert(Array(token.utf8), id)
            }
        }
        self.idToToken = idToToken
        self.tokenToID = tokenToID
        self.vocab = vocab

        var byteIDs = [Int32](repeating: -1, count: 256)
        var fallback = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if byteLevel, let id = tokenToID[String(Unicode.Scalar(ByteLevelAlphabet.byteToScalar[b])!)] { byteIDs[b] = id }
            if let id = tokenToID[Self.byteFallbackName(UInt8(b))] { fallback[b] = id }
        }
        self.byteIDs = byteIDs
        self.byteFallbackIDs = fallback

        if let unk = try json.optionalString("unk_token") {
            guard let id = tokenToID[unk] else { throw try json.required("unk_token").error("unk_token '\(unk)' is not in the vocabulary") }
            unkID = id
        } else {
            unkID = nil
        }

        var merges: [UInt64: UInt64] = [:]
        var mergeList: [(Int32, Int32)] = []
        let mergesJSON = try json.member("merges")?.array() ?? []
        merges.reserveCapacity(mergesJSON.count)
        mergeList.reserveCapacity(mergesJSON.count)
        for (rank, m) in mergesJSON.enumerated() {
            let pair: [String]
            if let s = m.raw as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw m.error("a merge must be two tokens separated by one space") }
                pair = parts.map(String.init)
            } else if let a = m.raw as? [Any], a.count == 2, let l = a[0] as? String, let r = a[1] as? String {
                pair = [l, r]
            } else {
                throw m.error("a merge must be \"left right\" or [\"left\", \"right\"]")
            }
            guard let l = tokenToID[pair[0]] else { throw m.error("merge token '\(pair[0])' is not in the vocabulary") }
            guard let r = tokenToID[pair[1]] else { throw m.error("merge token '\(pair[1])' is not in the vocabulary") }
            guard let merged = tokenToID[pair[0] + pair[1]] else {
                throw m.error("merged token '\(pair[0] + pair[1])' is not in the vocabulary")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(merged)) }
            mergeList.append((l, r))
        }
        self.merges = merges
        self.mergeList = mergeList
    }

    /// `<0xAB>`: the name SentencePiece gives the byte-fallback token of a byte.
    static func byteFallbackName(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
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
        if ignoreMerges, let id = vocab.find(word) {
            out.append(id)
            return
        }
        if let hit = cache.table.find(word) {
            out.append(contentsOf: cache.ids[Int(hit.start)..<Int(hit.start + hit.count)])
            return
        }
        let start = out.count
        tokenize(word, into: &out, scratch: &cache.scratch)
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
            if let id = vocab.find(char) {
                if pendingUnk, let unkID { symbols.append(unkID) }
                pendingUnk = false
                symbols.append(id)
                continue
            }
            if byteFallback, char.allSatisfy({ byteFallbackIDs[Int($0)] >= 0 }) {
                for b in char { symbols.append(byteFallbackIDs[Int(b)]) }
                continue
            }
            guard let unkID else { continue }
            if pendingUnk && !fuseUnk { symbols.append(unkID) }
            pendingUnk = true
        }
        if pendingUnk, let unkID { symbols.append(unkID) }
    }

    @inline(__always)
    private func pairRank(_ l: Int32, _ r: Int32) -> UInt64 {
        merges[UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))] ?? UInt64.max
    }

    private func merge(_ symbols: inout [Int32]) {
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

/// Encoded words, their ids in one arena, and scratch space for the merge loop.
struct WordCache: ~Copyable {
    var table = ByteKeyTable<(start: Int32, count: Int32)>(capacity: 4096)
    var ids: [Int32] = []
    var scratch: [Int32] = []
}
