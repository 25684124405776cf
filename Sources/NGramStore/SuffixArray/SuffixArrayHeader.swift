/// The fixed part of a suffix-array store file and its checks (layout in docs/ngram-store.md,
/// "Suffix-array stores"). All integers are little-endian.
///
/// ```
/// offset size
///   0     8   magic "DGSUFARR"
///   8     4   format version (1)
///  12     4   reserved, 0
///  16     8   token count n (separators included)
///  24     8   document count
///  32     8   offset of the token array (8-aligned)
///  40     8   offset of the suffix array (= token offset + 4n)
///  48     2   longest context matched
///  50     1   continuation length
///  51     1   counters per depth
///  52     4   tokenizer fingerprint length f
///  56     8   reserved, 0
///  64     f   tokenizer fingerprint (UTF-8), zero-padded to 8 bytes
///   …    4n   tokens (UInt32; documents separated by 0xFFFFFFFF)
///   …    4n   suffix array (UInt32 positions into the tokens)
/// ```
public struct SuffixArrayHeader: Sendable, Equatable, Codable {
    /// The file's first 8 bytes.
    public static let magic: [UInt8] = Array("DGSUFARR".utf8)
    /// The version this program writes and reads.
    public static let currentVersion: UInt32 = 1
    /// Bytes before the fingerprint.
    static let fixedSize = 64
    /// Longest fingerprint accepted: a vocabulary fingerprint is a short hash; a larger length
    /// field is damage, and refusing it bounds what opening reads.
    static let maximumFingerprintBytes = 4096
    /// The token that separates documents (no tokenizer gives an id of 2^32 − 1): no context
    /// matches across it and no continuation continues past it.
    public static let separator = UInt32.max

    /// Format version.
    public var formatVersion: UInt32
    /// Tokens in the array, separators included.
    public var tokenCount: Int
    /// Documents (texts) the corpus holds.
    public var documentCount: Int
    /// What queries return.
    public var parameters: SuffixArrayParameters
    /// The vocabulary the ids belong to.
    public var tokenizerFingerprint: String

    /// Byte offset of the token array.
    var tokensOffset: Int { Self.align8(Self.fixedSize + tokenizerFingerprint.utf8.count) }
    /// Byte offset of the suffix array.
    var suffixesOffset: Int { tokensOffset + 4 * tokenCount }
    /// The file's size.
    public var fileSize: Int { suffixesOffset + 4 * tokenCount }

    static func align8(_ n: Int) -> Int { (n + 7) & ~7 }

    /// The bytes before the token array.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: tokensOffset)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
        }
        bytes.replaceSubrange(0..<8, with: Self.magic)
        put(formatVersion, at: 8)
        put(UInt64(tokenCount), at: 16)
        put(UInt64(documentCount), at: 24)
        put(UInt64(tokensOffset), at: 32)
        put(UInt64(suffixesOffset), at: 40)
        put(UInt16(parameters.longestContext), at: 48)
        put(UInt8(parameters.continuationLength), at: 50)
        put(UInt8(parameters.countersPerDepth), at: 51)
        let fingerprint = Array(tokenizerFingerprint.utf8)
        put(UInt32(fingerprint.count), at: 52)
        bytes.replaceSubrange(Self.fixedSize..<(Self.fixedSize + fingerprint.count), with: fingerprint)
        return bytes
    }

    /// Whether `bytes` start with the magic.
    static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= magic.count && zip(bytes.prefix(magic.count), magic).allSatisfy { $0 == $1 }
    }

    /// Reads and checks the header of a whole file.
    /// - Parameters:
    ///   - file: the file's bytes (mapped).
    ///   - path: the file, for errors.
    /// - Returns: the header, consistent with the file's size.
    /// - Throws: `NGramStoreError`: `.notAStore` without the magic, `.formatVersionMismatch`,
    ///   `.corrupt` (located at a byte offset) for a truncated file or an inconsistent field.
    static func decode(_ file: UnsafeRawBufferPointer, path: String) throws -> SuffixArrayHeader {
        guard hasMagic(file) else {
            throw NGramStoreError(.notAStore, path: path, "not a suffix-array store: the file does not start with \"DGSUFARR\"")
        }
        func corrupt(_ offset: Int, _ what: String) -> NGramStoreError {
            NGramStoreError(.corrupt, path: path, "damaged suffix-array store at byte \(offset): \(what); rebuild it with 'decograph store build --format suffix-array'")
        }
        guard file.count >= fixedSize else {
            throw corrupt(file.count, "the file ends inside its \(fixedSize)-byte header (it is \(file.count) bytes): truncated")
        }
        func read<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
            T(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        let version = read(UInt32.self, at: 8)
        guard version == currentVersion else {
            throw NGramStoreError(.formatVersionMismatch, path: path, "the suffix-array store has format version \(version); this program reads version \(currentVersion): rebuild it with this program")
        }
        let fingerprintLength = Int(read(UInt32.self, at: 52))
        guard fingerprintLength <= maximumFingerprintBytes, fixedSize + fingerprintLength <= file.count else {
            throw corrupt(52, "a tokenizer fingerprint of \(fingerprintLength) bytes does not fit the \(file.count)-byte file")
        }
        guard let fingerprint = String(validating: file[fixedSize..<(fixedSize + fingerprintLength)], as: UTF8.self) else {
            throw corrupt(fixedSize, "the tokenizer fingerprint is not UTF-8")
        }
        let count = read(UInt64.self, at: 16)
        // Every token takes 8 bytes (its id and its suffix-array entry): a larger count than the
        // file can hold is damage, and checking it first keeps the offset arithmetic in range.
        guard count < UInt64(UInt32.max), count <= UInt64(file.count / 8) else {
            throw corrupt(16, "a token count of \(count) does not fit the \(file.count)-byte file: truncated or damaged")
        }
        let parameters = SuffixArrayParameters(longestContext: Int(read(UInt16.self, at: 48)),
                                               continuationLength: Int(read(UInt8.self, at: 50)),
                                               countersPerDepth: Int(read(UInt8.self, at: 51)))
        let header = SuffixArrayHeader(formatVersion: version, tokenCount: Int(count), documentCount: Int(read(UInt64.self, at: 24)),
                                       parameters: parameters, tokenizerFingerprint: fingerprint)
        if let problem = parameters.problem() { throw corrupt(48, problem) }
        guard read(UInt64.self, at: 32) == UInt64(header.tokensOffset) else {
            throw corrupt(32, "the token array's offset \(read(UInt64.self, at: 32)) is not \(header.tokensOffset)")
        }
        guard read(UInt64.self, at: 40) == UInt64(header.suffixesOffset) else {
            throw corrupt(40, "the suffix array's offset \(read(UInt64.self, at: 40)) is not \(header.suffixesOffset)")
        }
        guard header.documentCount <= header.tokenCount + 1, header.tokenCount == 0 || header.documentCount >= 1 else {
            throw corrupt(24, "\(header.documentCount) documents in \(header.tokenCount) tokens")
        }
        guard file.count == header.fileSize else {
            throw corrupt(min(file.count, header.fileSize),
                          "the file is \(file.count) bytes where its header says \(header.fileSize) (\(header.tokenCount) tokens): \(file.count < header.fileSize ? "truncated" : "trailing bytes")")
        }
        return header
    }
}

/// What a suffix-array store's queries return, fixed when it is built and kept in its header.
public struct SuffixArrayParameters: Sendable, Equatable, Codable {
    /// Longest suffix of the context matched. A suffix array matches any length at the cost of one
    /// binary search; 16 is twice what the LMDB store counts, long enough that a match is almost
    /// always a verbatim repeat (the case REST's datastore exists for), short enough that finding the
    /// longest occurring suffix takes four searches.
    public var longestContext: Int
    /// Longest continuation summarised after a match (as `NGramParameters.continuationLength`).
    public var continuationLength: Int
    /// Continuations kept per depth: every continuation whose share at its depth exceeds
    /// `1 / (countersPerDepth + 1)` is returned with its exact count — the LMDB store's guarantee,
    /// without its undercount.
    public var countersPerDepth: Int

    /// Longest context the header can hold (two bytes would allow more; longer matches than this
    /// only cost time on a drafter's critical path).
    public static let maximumLongestContext = 64

    /// Creates parameters.
    /// - Parameters:
    ///   - longestContext: 1…64.
    ///   - continuationLength: 1…`TokenRun.capacity`.
    ///   - countersPerDepth: 1…255.
    public init(longestContext: Int = 16, continuationLength: Int = 4, countersPerDepth: Int = 8) {
        self.longestContext = longestContext
        self.continuationLength = continuationLength
        self.countersPerDepth = countersPerDepth
    }

    /// What is out of range, if anything.
    func problem() -> String? {
        if !(1...Self.maximumLongestContext).contains(longestContext) {
            return "longest context \(longestContext) is outside 1…\(Self.maximumLongestContext)"
        }
        if !(1...TokenRun.capacity).contains(continuationLength) {
            return "continuation length \(continuationLength) is outside 1…\(TokenRun.capacity)"
        }
        if !(1...255).contains(countersPerDepth) { return "counters per depth \(countersPerDepth) is outside 1…255" }
        return nil
    }
}
