/// The token strings of a model's vocabulary and their ids.
///
/// Tokens are looked up by their exact UTF-8 bytes, never by Swift `String` equality: `String ==`
/// and `String` hashing follow canonical equivalence, under which `"é"` (U+00E9) and `"e\u{301}"`,
/// or `"Å"` (U+00C5) and U+212B, are one key — but they are distinct tokens with distinct ids in
/// `tokenizers`, and multilingual vocabularies hold both.
struct Vocabulary: Sendable {
    /// Token string for every id (`nil` for ids the vocabulary skips).
    let idToToken: [String?]
    private let ids: ByteKeyTable<Int32>

    /// Number of tokens.
    var count: Int { ids.count }

    /// Builds the table from `(token, id, where)` entries, `where` locating each entry for errors.
    /// - Throws: `TokenizerError` when an id is negative or far beyond the entry count, or when
    ///   two entries share a token or an id.
    init(entries: [(token: String, id: Int, location: JSONValue)], container: JSONValue) throws {
        try self.init(count: entries.count, entry: { (entries[$0].token, entries[$0].id) },
                      error: { index, message in index.map { entries[$0].location.error(message) } ?? container.error(message) })
    }

    /// Builds the table from a list of tokens whose ids are their positions (a GGUF
    /// `tokenizer.ggml.tokens` array).
    /// - Parameters:
    ///   - tokens: the token strings, by id.
    ///   - error: the located error for a message about entry `index` (nil: the whole list).
    /// - Throws: `TokenizerError` when two entries share a token.
    init(tokens: [String], error: (Int?, String) -> TokenizerError) throws {
        try self.init(count: tokens.count, entry: { (tokens[$0], $0) }, error: error)
    }

    private init(count: Int, entry: (Int) -> (token: String, id: Int), error: (Int?, String) -> TokenizerError) throws {
        var maxID = -1
        for k in 0..<count {
            let id = entry(k).id
            guard id >= 0, id < Int(Int32.max) else { throw error(k, "token id out of range") }
            maxID = max(maxID, id)
        }
        // Ids index tables, so a corrupt id must not make us allocate gigabytes.
        let idLimit = Self.idLimit(entries: count)
        guard maxID < idLimit else {
            throw error(nil, "token id \(maxID) is far beyond the \(count) entries (ids must be below \(idLimit))")
        }
        var idToToken = [String?](repeating: nil, count: maxID + 1)
        var ids = ByteKeyTable<Int32>(capacity: count)
        for k in 0..<count {
            let (token, id) = entry(k)
            if let previous = idToToken[id] {
                throw error(nil, "tokens \(previous.debugDescription) and \(token.debugDescription) share id \(id)")
            }
            var bytes = token
            let inserted = bytes.withUTF8 { ids.insert($0, Int32(id)) }
            guard inserted else {
                throw error(k, "token \(token.debugDescription) appears twice in the vocabulary (byte for byte)")
            }
            idToToken[id] = token
        }
        self.idToToken = idToToken
        self.ids = ids
    }

    /// The largest id a table of `entries` tokens may use, plus one: vocabularies are dense
    /// (ids 0..<n), so twice the count plus a margin for a few reserved holes is generous.
    static func idLimit(entries: Int) -> Int { 2 * entries + 1024 }

    /// The id of the token with exactly these UTF-8 bytes.
    @inline(__always)
    func id(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int32? { ids.find(bytes) }

    /// The id of a token string (compared byte for byte).
    func id(of token: String) -> Int32? {
        var token = token
        return token.withUTF8 { ids.find($0) }
    }

    /// The `<0xXX>` byte-fallback token of each byte, -1 when absent.
    func byteFallbackIDs() -> [Int32] {
        (0..<256).map { id(of: Self.byteFallbackName(UInt8($0))) ?? -1 }
    }

    /// `<0xAB>`: the name SentencePiece gives the byte-fallback token of a byte.
    static func byteFallbackName(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    /// Appends the byte-fallback tokens of `bytes` when every one exists; otherwise appends
    /// nothing and returns `false`. `tokenizers` falls back per character (BPE) or per fused
    /// unknown piece (Unigram), never partially.
    @inline(__always)
    static func appendByteFallback(_ bytes: UnsafeBufferPointer<UInt8>, table: [Int32], into out: inout [Int32]) -> Bool {
        guard bytes.allSatisfy({ table[Int($0)] >= 0 }) else { return false }
        for b in bytes { out.append(table[Int(b)]) }
        return true
    }
}
