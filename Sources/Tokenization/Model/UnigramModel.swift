/// The Unigram model of `tokenizer.json` (`"type": "Unigram"`, Kudo 2018, "Subword
/// Regularization"): every token has a log-probability score, and a word is cut into the tokens
/// whose scores sum highest (a Viterbi search over the lattice of vocabulary tokens found at each
/// character boundary), with the rules of Hugging Face `tokenizers`:
///
/// - a character that starts no single-character token gets an unknown node scored
///   `min(score) − unknownPenalty`, so every word has a path;
/// - on the best path, consecutive unknown nodes are fused into one piece (always, as there);
/// - a fused piece that is not itself a token becomes its UTF-8 bytes as `<0xXX>` tokens when
///   `byte_fallback` is on and all 256 exist, else the unknown token.
///
/// Ties keep the first path found (scanning start positions left to right, shorter tokens
/// first), and scores add in `Double` in the same order, so ids match bit for bit.
final class UnigramModel: Sendable {
    let vocabulary: Vocabulary
    /// Score of every id (0 where the vocabulary has no token).
    let scores: [Double]
    let unkID: Int32
    let byteFallback: Bool
    /// The `<0xXX>` token of each byte, -1 when absent.
    let byteFallbackIDs: [Int32]
    /// Score of an unknown node: below every token, so a known path always wins.
    let unknownScore: Double
    private let trie: TokenTrie

    /// How far below the lowest token score an unknown character is scored; SentencePiece's
    /// `kUnkPenalty`, which `tokenizers` copies.
    static let unknownPenalty = 10.0

    init(json: JSONValue) throws {
        let vocabJSON = try json.required("vocab")
        let list = try vocabJSON.array()
        guard !list.isEmpty else { throw vocabJSON.error("a Unigram vocabulary cannot be empty") }
        var entries: [(token: String, id: Int, location: JSONValue)] = []
        var scores: [Double] = []
        entries.reserveCapacity(list.count)
        scores.reserveCapacity(list.count)
        for (id, entry) in list.enumerated() {
            let pair = try entry.array()
            guard pair.count == 2 else { throw entry.error("a Unigram entry must be [token, score]") }
            entries.append((try pair[0].string(), id, entry))
            let score = try pair[1].double()
            guard score.isFinite else { throw pair[1].error("a Unigram score must be a finite number") }
            scores.append(score)
        }
        let vocabulary = try Vocabulary(entries: entries, container: vocabJSON)
        self.vocabulary = vocabulary
        self.scores = scores
        guard let unk = try json.member("unk_id") else {
            // `tokenizers` loads such a model but fails on any text with a character outside
            // the vocabulary; refusing here keeps encoding total.
            throw json.error("a Unigram model without 'unk_id' is not supported (text with an unknown character could not be encoded); set unk_id to the unknown token's index", code: .unsupported)
        }
        let unkIndex = try unk.int()
        guard unkIndex >= 0, unkIndex < list.count else { throw unk.error("unk_id \(unkIndex) is outside the \(list.count) vocabulary entries") }
        unkID = Int32(unkIndex)
        byteFallback = try json.bool("byte_fallback", default: false)
        byteFallbackIDs = vocabulary.byteFallbackIDs()
        unknownScore = scores.min()! - Self.unknownPenalty
        trie = TokenTrie(vocabulary)
    }

    /// Encodes the words of one piece list, appending ids to `out`.
    func encode(words: UnsafeBufferPointer<UInt8>, ranges: [Range<Int>], into out: inout [Int32]) {
        var lattice = Lattice()
        for r in ranges where !r.isEmpty { encodeWord(UnsafeBufferPointer(rebasing: words[r]), lattice: &lattice, into: &out) }
    }

    /// Best path ending at each byte position of the word being encoded (reused across words).
    private struct Lattice {
        var score: [Double] = []
        var start: [Int32] = []
        var id: [Int32] = []
        var pieces: [(start: Int, end: Int, id: Int32)] = []

        mutating func reset(_ n: Int) {
            score.removeAll(keepingCapacity: true)
            start.removeAll(keepingCapacity: true)
            id.removeAll(keepingCapacity: true)
            score.append(contentsOf: repeatElement(0, count: n + 1))
            start.append(contentsOf: repeatElement(-1, count: n + 1))
            id.append(contentsOf: repeatElement(-1, count: n + 1))
            pieces.removeAll(keepingCapacity: true)
        }

        /// Offers a node `from..<to` with token `token` scored `candidate`; keeps the first best.
        @inline(__always)
        mutating func offer(from: Int, to: Int, token: Int32, candidate: Double) {
            if start[to] < 0 || candidate > score[to] {
                score[to] = candidate
                start[to] = Int32(from)
                id[to] = token
            }
        }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, lattice: inout Lattice, into out: inout [Int32]) {
        let n = word.count
        lattice.reset(n)
        var position = 0
        while position < n {
            let base = lattice.score[position]
            let characterLength = min(scalarLength(leadByte: word[position]), n - position)
            var hasSingleCharacterToken = false
            trie.forEachPrefix(of: word, from: position) { end, token in
                lattice.offer(from: position, to: end, token: token, candidate: scores[Int(token)] + base)
                if end - position == characterLength { hasSingleCharacterToken = true }
            }
            if !hasSingleCharacterToken {
                lattice.offer(from: position, to: position + characterLength, token: unkID, candidate: unknownScore + base)
            }
            position += characterLength
        }
        // Walk back from the end, fusing runs of unknown nodes.
        var end = n
        var fusedEnd = -1, fusedStart = -1
        while end > 0 {
            let start = Int(lattice.start[end])
            let token = lattice.id[end]
            if token == unkID {
                if fusedEnd < 0 { fusedEnd = end }
                fusedStart = start
            } else {
                if fusedEnd >= 0 {
                    lattice.pieces.append((fusedStart, fusedEnd, unkID))
                    fusedEnd = -1
                }
                lattice.pieces.append((start, end, token))
            }
            end = start
        }
        if fusedEnd >= 0 { lattice.pieces.append((fusedStart, fusedEnd, unkID)) }
        for piece in lattice.pieces.reversed() {
            guard piece.id == unkID else {
                out.append(piece.id)
                continue
            }
            // A fused unknown piece: itself a token if it happens to spell one (a lone "<unk>"
            // in the text), else its bytes, else the unknown token.
            let bytes = UnsafeBufferPointer(rebasing: word[piece.start..<piece.end])
            if let id = vocabulary.id(utf8: bytes) {
                out.append(id)
            } else if !(byteFallback && Vocabulary.appendByteFallback(bytes, table: byteFallbackIDs, into: &out)) {
                out.append(unkID)
            }
        }
    }
}

/// A byte trie of the vocabulary's tokens for the Unigram lattice: every token that starts at a
/// position is found in one walk. Nodes are laid out breadth first, so each node's children are
/// contiguous and sorted by byte (found by binary search); about 11 bytes per node, where a hash
/// table of transitions needed 32 or more at a usable load factor (measured: 378 MB resident for a
/// 128,000-token vocabulary of 4.8 MB of token text, 190 MB with this layout, the BPE model of
/// the same tokens 121 MB).
struct TokenTrie: Sendable {
    /// Index of each node's first child.
    private var childStart: [Int32] = []
    /// Number of children of each node (at most 256).
    private var childCount: [UInt16] = []
    /// The byte on the edge into each node.
    private var label: [UInt8] = []
    /// The token ending at each node, -1 when none.
    private var terminal: [Int32] = []

    init(_ vocabulary: Vocabulary) {
        var keys: [(bytes: [UInt8], id: Int32)] = []
        keys.reserveCapacity(vocabulary.count)
        for (id, token) in vocabulary.idToToken.enumerated() where token?.isEmpty == false {
            keys.append((Array(token!.utf8), Int32(id)))
        }
        // Lexicographic by bytes: a prefix sorts before its extensions, and the keys below any
        // node form one contiguous range.
        keys.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        // Node k covers keys[range[k]] sharing their first depth[k] bytes.
        var ranges: [(lo: Int32, hi: Int32)] = [(0, Int32(keys.count))]
        var depths: [Int32] = [0]
        label = [0]
        var k = 0
        while k < ranges.count {
            var i = Int(ranges[k].lo)
            let hi = Int(ranges[k].hi), d = Int(depths[k])
            if i < hi, keys[i].bytes.count == d {
                terminal.append(keys[i].id)
                i += 1
            } else {
                terminal.append(-1)
            }
            childStart.append(Int32(ranges.count))
            while i < hi {
                let b = keys[i].bytes[d]
                var j = i + 1
                while j < hi, keys[j].bytes[d] == b { j += 1 }
                ranges.append((Int32(i), Int32(j)))
                depths.append(Int32(d + 1))
                label.append(b)
                i = j
            }
            childCount.append(UInt16(ranges.count - Int(childStart[k])))
            k += 1
        }
    }

    /// The child of `node` along byte `b`, or -1.
    @inline(__always)
    private func child(_ node: Int, _ b: UInt8) -> Int {
        var lo = Int(childStart[node]), hi = lo + Int(childCount[node])
        while lo < hi {
            let mid = (lo + hi) >> 1
            let l = label[mid]
            if l == b { return mid }
            if l < b { lo = mid + 1 } else { hi = mid }
        }
        return -1
    }

    /// Calls `body(end, token)` for every token that spells `bytes[from..<end]`, shortest first.
    @inline(__always)
    func forEachPrefix(of bytes: UnsafeBufferPointer<UInt8>, from: Int, _ body: (Int, Int32) -> Void) {
        var node = 0
        var k = from
        while k < bytes.count {
            node = child(node, bytes[k])
            if node < 0 { return }
            k += 1
            let token = terminal[node]
            if token >= 0 { body(k, token) }
        }
    }
}
