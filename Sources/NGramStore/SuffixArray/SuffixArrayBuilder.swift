#if canImport(Glibc)
import Glibc
#endif

/// Collects a corpus and writes it as a suffix-array store (`SuffixArrayStore`).
///
/// Memory: the tokens (4 bytes each, in an array that may hold up to twice that while growing)
/// and, while sorting, four more 32-bit arrays of the corpus length (`SuffixSorter`): at most 24
/// bytes per corpus token at the peak, 2.4 GB for 100 M tokens.
public struct SuffixArrayBuilder {
    /// What the store's queries return.
    public let parameters: SuffixArrayParameters
    /// The vocabulary the ids belong to.
    public let tokenizerFingerprint: String
    /// The corpus so far, documents separated by `SuffixArrayHeader.separator`.
    private(set) var tokens: [UInt32] = []
    /// Documents added (empty ones are not).
    public private(set) var documentCount = 0

    /// Creates an empty builder.
    /// - Parameters:
    ///   - tokenizerFingerprint: recorded in the store.
    ///   - parameters: recorded in the store.
    /// - Throws: `NGramStoreError` (`.invalidArgument`) for out-of-range parameters.
    public init(tokenizerFingerprint: String, parameters: SuffixArrayParameters = SuffixArrayParameters()) throws {
        if let problem = parameters.problem() { throw NGramStoreError(.invalidArgument, path: "", problem) }
        guard tokenizerFingerprint.utf8.count <= SuffixArrayHeader.maximumFingerprintBytes else {
            throw NGramStoreError(.invalidArgument, path: "", "a tokenizer fingerprint is at most \(SuffixArrayHeader.maximumFingerprintBytes) bytes")
        }
        self.parameters = parameters
        self.tokenizerFingerprint = tokenizerFingerprint
    }

    /// Tokens collected, separators included.
    public var tokenCount: Int { tokens.count }

    /// Adds one document; no match or continuation crosses from one document into the next.
    /// - Parameter document: its token ids.
    /// - Throws: `NGramStoreError` (`.invalidArgument`) for the id 2^32 − 1 (the separator) or a
    ///   corpus past 2^32 − 2 tokens (suffix-array entries are 32 bits).
    public mutating func add<C: Collection>(_ document: C) throws where C.Element == Int32 {
        guard !document.isEmpty else { return }
        if let index = document.firstIndex(of: Int32(bitPattern: SuffixArrayHeader.separator)) {
            throw NGramStoreError(.invalidArgument, path: "", "token \(document.distance(from: document.startIndex, to: index)) of document \(documentCount + 1) is the id \(SuffixArrayHeader.separator), which a suffix-array store reserves to separate documents")
        }
        let needed = tokens.count + document.count + (documentCount > 0 ? 1 : 0)
        guard needed < Int(UInt32.max) else {
            throw NGramStoreError(.invalidArgument, path: "", "the corpus would hold \(needed) tokens; a suffix-array store holds fewer than 2^32 − 1 (split the corpus and build several stores)")
        }
        if documentCount > 0 { tokens.append(SuffixArrayHeader.separator) }
        for t in document { tokens.append(UInt32(bitPattern: t)) }
        documentCount += 1
    }

    /// Sorts the suffixes and writes the store: to `PATH.tmp-PID` in the same directory, synced, then
    /// renamed over `path`, so a failed or killed build leaves `path` as it was.
    /// - Parameter path: the store's file; an existing file there must be a suffix-array store.
    /// - Returns: the header written.
    /// - Throws: `NGramStoreError` (`.invalidArgument` for an existing file of another kind,
    ///   `.noSpace`, `.system`).
    @discardableResult
    public func write(to path: String) throws -> SuffixArrayHeader {
        var status = stat()
        if stat(path, &status) == 0, status.st_size > 0, !SuffixArrayStore.isSuffixArray(at: path) {
            throw NGramStoreError(.invalidArgument, path: path, "the file exists and is not a suffix-array store; refusing to replace it (choose another --out, or remove the file)")
        }
        let suffixArray = tokens.withUnsafeBufferPointer { SuffixSorter.sort($0) }
        let header = SuffixArrayHeader(formatVersion: SuffixArrayHeader.currentVersion, tokenCount: tokens.count,
                                       documentCount: documentCount, parameters: parameters,
                                       tokenizerFingerprint: tokenizerFingerprint)
        try Self.replace(path) { fd, temporary in
            try Self.writeAll(fd, header.encoded(), path: temporary)
            try Self.writeLittleEndian(fd, tokens, path: temporary)
            try Self.writeLittleEndian(fd, suffixArray, path: temporary)
        }
        return header
    }

    /// Writes through a temporary file renamed over `path` when `body` succeeds.
    private static func replace(_ path: String, _ body: (Int32, String) throws -> Void) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NGramStoreError.system(errno, path: temporary, doing: "creating the suffix-array store") }
        do {
            try body(fd, temporary)
            guard fsync(fd) == 0 else { throw NGramStoreError.system(errno, path: temporary, doing: "syncing the suffix-array store") }
            close(fd)
            guard rename(temporary, path) == 0 else { throw NGramStoreError.system(errno, path: path, doing: "renaming the new store into place") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    private static func writeLittleEndian(_ fd: Int32, _ values: [UInt32], path: String) throws {
        #if _endian(little)
        try values.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        #else
        try writeAll(fd, values.map(\.littleEndian), path: path)
        #endif
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw NGramStoreError.system(errno, path: path, doing: "writing the suffix-array store")
            }
            offset += written
        }
    }
}

extension SuffixArrayStore {
    /// Calls `body` with each document of the corpus, in order.
    /// - Parameter body: receives a document's ids.
    /// - Throws: what `body` throws.
    public func forEachDocument(_ body: ([Int32]) throws -> Void) rethrows {
        var document: [Int32] = []
        for p in 0..<n {
            let t = token(p)
            if t == SuffixArrayHeader.separator {
                try body(document)
                document.removeAll(keepingCapacity: true)
            } else {
                document.append(Int32(bitPattern: t))
            }
        }
        if !document.isEmpty { try body(document) }
    }

    /// Concatenates the corpora of suffix-array stores, documents kept apart, and writes their
    /// store: a suffix array cannot be merged entry by entry, so the result is rebuilt (as large a
    /// build as the merged corpus).
    /// - Parameters:
    ///   - sources: the stores, in order; a store named twice adds its corpus twice.
    ///   - path: the output, written through a temporary file (see `SuffixArrayBuilder.write`).
    /// - Returns: the output's header.
    /// - Throws: `NGramStoreError`: `.tokenizerMismatch` or `.parametersMismatch` naming the first
    ///   source that differs from the first (before anything is written), or a write error.
    @discardableResult
    public static func merge(_ sources: [SuffixArrayStore], into path: String) throws -> SuffixArrayHeader {
        guard let first = sources.first else {
            throw NGramStoreError(.invalidArgument, path: path, "nothing to merge")
        }
        for source in sources.dropFirst() {
            guard source.header.tokenizerFingerprint == first.header.tokenizerFingerprint else {
                throw NGramStoreError(.tokenizerMismatch, path: source.path, "built with tokenizer '\(source.header.tokenizerFingerprint)', but \(first.path) with '\(first.header.tokenizerFingerprint)'; merge stores of one tokenizer")
            }
            guard source.header.parameters == first.header.parameters else {
                throw NGramStoreError(.parametersMismatch, path: source.path, "its query parameters differ from \(first.path)'s; merge stores built with the same parameters")
            }
        }
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: first.header.tokenizerFingerprint, parameters: first.header.parameters)
        for source in sources { try source.forEachDocument { try builder.add($0) } }
        return try builder.write(to: path)
    }
}
