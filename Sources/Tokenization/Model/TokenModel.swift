/// The model section of `tokenizer.json`: what turns a pre-tokenized word into ids.
enum TokenModel: Sendable {
    case bpe(BPEModel)
    case unigram(UnigramModel)
    /// A GGUF `llama` vocabulary, merged by score as llama.cpp does.
    case sentencePiece(SentencePieceModel)

    /// Reads the `model` object; `type` may be missing in old files that have BPE `merges`.
    init(json: JSONValue, byteLevel: Bool) throws {
        let type = try json.member("type")?.string() ?? (try json.member("merges") != nil ? "BPE" : "unknown")
        switch type {
        case "BPE": self = .bpe(try BPEModel(json: json, byteLevel: byteLevel))
        case "Unigram": self = .unigram(try UnigramModel(json: json))
        default: throw json.unsupported("model", type)
        }
    }

    var vocabulary: Vocabulary {
        switch self {
        case .bpe(let m): return m.vocabulary
        case .unigram(let m): return m.vocabulary
        case .sentencePiece(let m): return m.vocabulary
        }
    }

    /// Encodes the words `ranges` of `words`, appending ids to `out`.
    @inline(__always)
    func encode(words: UnsafeBufferPointer<UInt8>, ranges: [Range<Int>], into out: inout [Int32]) {
        switch self {
        case .bpe(let m): m.encode(words: words, ranges: ranges, into: &out)
        case .unigram(let m): m.encode(words: words, ranges: ranges, into: &out)
        case .sentencePiece(let m): m.encode(words: words, ranges: ranges, into: &out)
        }
    }

    /// What the vocabulary fingerprint hashes besides the token strings, before them (`head`)
    /// and after them (`tail`): BPE its byte-level flag and merges (unchanged from when BPE was
    /// the only model, so stored fingerprints stay valid), Unigram a tag and its scores.
    var fingerprintParts: (head: [UInt8], tail: [UInt8]) {
        switch self {
        case .bpe(let m):
            var tail: [UInt8] = []
            tail.reserveCapacity(m.mergeList.count * 8)
            for (l, r) in m.mergeList {
                withUnsafeBytes(of: l.littleEndian) { tail += $0 }
                withUnsafeBytes(of: r.littleEndian) { tail += $0 }
            }
            return ([m.byteLevel ? 1 : 0], tail)
        case .unigram(let m):
            var tail: [UInt8] = []
            for s in m.scores { withUnsafeBytes(of: s.bitPattern.littleEndian) { tail += $0 } }
            withUnsafeBytes(of: m.unkID.littleEndian) { tail += $0 }
            tail.append(m.byteFallback ? 1 : 0)
            return ([2], tail)
        case .sentencePiece(let m):
            var tail: [UInt8] = []
            tail.reserveCapacity(m.scores.count * 4)
            for s in m.scores { withUnsafeBytes(of: s.bitPattern.littleEndian) { tail += $0 } }
            return ([3], tail)
        }
    }
}
