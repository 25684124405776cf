import ChatTemplates
import Constraints
import Foundation
import Support
import Kernels
import ModelRuntime
import NGramStore
import Operators
import Synchronization
import Tokenization

/// Models, tokenizers, n-gram stores and constraint vocabularies loaded once per process and shared
/// by every plan and session that names them, keyed by their resolved path (symbolic links and `..`
/// resolved).
public final class ResourceRegistry: Sendable {
    /// The process-wide registry.
    public static let shared = ResourceRegistry()

    /// Loaded resources. Loading happens under the lock: a second session asking for the same
    /// model waits for the first load instead of mapping the weights twice.
    private let models = Mutex<[String: BatchingForwardService]>([:])
    private let tokenizers = Mutex<[String: Tokenizer?]>([:])
    private let chatTemplateSets = Mutex<[String: ChatTemplateSet?]>([:])
    private let stores = Mutex<[String: (store: NGramStore, writable: Bool)]>([:])
    private let suffixArrays = Mutex<[String: SuffixArrayStore]>([:])
    private let vocabularies = Mutex<[String: TokenVocabulary]>([:])

    /// The compute threads models loaded here run their passes on.
    public let pool: ComputePool

    /// Creates an empty registry (tests and tools; the CLI uses `shared`).
    /// - Parameter pool: compute threads for the models it loads (default: one per core).
    public init(pool: ComputePool = .shared) { self.pool = pool }

    /// The canonical key of a directory.
    /// - Parameter path: a directory path.
    /// - Returns: the absolute path with links resolved.
    public static func key(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// KV-cache size (bytes) that wins over every request's, when set: the command line's
    /// `--kv-cache-mb` overrides what graphs declare.
    public let kvCacheOverride = Atomic<Int>(0)

    /// The forward service of the model in `path`, loading it on first use. There is one service per
    /// mode the model actually runs in (`f32` or `bf16`): `auto` shares the service of the mode it
    /// resolves to. The two modes are two loads sharing the memory-mapped weights' pages but not a
    /// KV cache.
    /// - Parameters:
    ///   - path: the model directory.
    ///   - activations: what products with bf16 weights read (`ActivationPrecision`).
    ///   - kvCacheBytes: the KV cache's memory, fixed by the first load (`kvCacheOverride` wins).
    /// - Returns: the shared service.
    /// - Throws: the runtime's error naming the file at fault, or an error when the model is
    ///   already loaded with a smaller KV cache than asked for.
    public func model(at path: String, activations: ActivationPrecision = .auto,
                      kvCacheBytes: Int = Model.defaultKVCacheBytes) throws -> BatchingForwardService {
        let directory = Self.key(path)
        func key(_ mode: ActivationPrecision) -> String { directory + "#activations=" + mode.rawValue }
        let override = kvCacheOverride.load(ordering: .relaxed)
        let cacheBytes = override > 0 ? override : kvCacheBytes
        return try models.withLock { loaded in
            if let service = loaded[key(activations)] {
                let held = service.model.cache.blockCount * service.model.cache.bytesPerBlock
                guard cacheBytes <= held + service.model.cache.bytesPerBlock else {
                    throw EngineError("\(directory) is already loaded with a \(held >> 20) MiB KV cache; a process shares one cache per model, so give every graph naming it the largest size (asked: \(cacheBytes >> 20) MiB)")
                }
                return service
            }
            // What `auto` resolves to is known once the weights are read; a service already
            // running in that mode is kept, and this load dropped.
            let model = try Model(directory: directory, kvCacheBytes: cacheBytes, pool: pool, activations: activations)
            let service = loaded[key(model.activations)] ?? BatchingForwardService(model: model)
            loaded[key(activations)] = service
            loaded[key(model.activations)] = service
            return service
        }
    }

    /// The tokenizer at `path` (`TokenizerLoader`: a directory's `tokenizer.json`, or a GGUF
    /// file's metadata), or `nil` when the directory has none.
    /// - Parameter path: the model directory or GGUF file.
    /// - Returns: the shared tokenizer, if any.
    /// - Throws: the tokenizer's error for a malformed file.
    public func tokenizer(at path: String) throws -> Tokenizer? {
        let key = Self.key(path)
        return try tokenizers.withLock { loaded in
            if let tokenizer = loaded[key] { return tokenizer }
            let tokenizer = try TokenizerLoader.load(at: key)
            loaded[key] = tokenizer
            return tokenizer
        }
    }

    /// The chat templates of the model at `path` (`loadChatTemplates`), read once per process.
    /// - Parameters:
    ///   - path: the model directory or `.gguf` file.
    ///   - tokenizer: its tokenizer (a GGUF's special-token strings).
    /// - Returns: the shared templates, `nil` when the model has none.
    /// - Throws: the template's parse error.
    public func chatTemplates(at path: String, tokenizer: Tokenizer?) throws -> ChatTemplateSet? {
        let key = Self.key(path)
        return try chatTemplateSets.withLock { loaded in
            if let templates = loaded[key] { return templates }
            let templates = try Self.loadChatTemplates(at: key, tokenizer: tokenizer)
            loaded[key] = templates
            return templates
        }
    }

    /// The n-gram store in `path`, opened on first use. LMDB allows one handle per file per
    /// process, so every graph naming the store shares it.
    /// - Parameters:
    ///   - path: the store's file.
    ///   - writable: open for writing, creating an empty store when the file is missing; else
    ///     read-only (the file must exist).
    ///   - tokenizerFingerprint: the vocabulary fingerprint of the tokenizer that will use it.
    /// - Returns: the shared store.
    /// - Throws: `NGramStoreError` (missing, damaged, foreign or other-tokenizer store), or
    ///   `EngineError` when the store is already open read-only and a writer asks for it.
    public func store(at path: String, writable: Bool, tokenizerFingerprint: String) throws -> NGramStore {
        let key = Self.key(path)
        return try stores.withLock { loaded in
            if let entry = loaded[key] {
                if writable && !entry.writable {
                    throw EngineError("store \(path) is already open read-only in this process; declare it with learn: true in every graph that names it")
                }
                try entry.store.metadata.requireTokenizer(tokenizerFingerprint, path: path)
                return entry.store
            }
            let store = writable
                ? try NGramStore.create(at: key, tokenizerFingerprint: tokenizerFingerprint)
                : try NGramStore.open(at: key, tokenizerFingerprint: tokenizerFingerprint, options: NGramStore.Options(readOnly: true))
            loaded[key] = (store, writable)
            return store
        }
    }

    /// Forward passes and items each loaded model has run (items / passes is its mean batch: how
    /// far concurrent sessions' calls met in one pass), by the model's resolved path and mode.
    /// - Returns: one entry per loaded model, sorted by key.
    public func forwardCounters() -> [(model: String, passes: Int, items: Int)] {
        models.withLock { loaded in
            // `auto` shares the service of the mode it resolved to: each service once, under its mode.
            var seen = Set<ObjectIdentifier>()
            return loaded.sorted { ($0.key.hasSuffix("=auto") ? 1 : 0, $0.key) < ($1.key.hasSuffix("=auto") ? 1 : 0, $1.key) }.compactMap { key, service in
                guard seen.insert(ObjectIdentifier(service)).inserted else { return nil }
                let counters = service.counters
                return (key, counters.passes, counters.items)
            }.sorted { $0.0 < $1.0 }
        }
    }

    /// Closes every store no session holds any more (LMDB commits are already durable; this
    /// releases the files and their locks), and forgets them.
    /// - Returns: how many stores were closed.
    @discardableResult
    public func closeUnusedStores() -> Int {
        stores.withLock { loaded in
            var closed = 0
            for key in Array(loaded.keys) {
                guard var entry = loaded.removeValue(forKey: key) else { continue }
                if isKnownUniquelyReferenced(&entry.store) {
                    closed += 1
                } else {
                    loaded[key] = entry
                }
            }
            return closed
        }
    }

    /// The suffix-array store in `path`, mapped on first use and shared by every graph naming it.
    /// - Parameters:
    ///   - path: the store's file.
    ///   - tokenizerFingerprint: the vocabulary fingerprint of the tokenizer that will use it.
    /// - Returns: the shared store.
    /// - Throws: `NGramStoreError` (missing, damaged, foreign or other-tokenizer store).
    public func suffixArrayStore(at path: String, tokenizerFingerprint: String) throws -> SuffixArrayStore {
        let key = Self.key(path)
        return try suffixArrays.withLock { loaded in
            let store = try loaded[key] ?? SuffixArrayStore.open(at: key, tokenizerFingerprint: nil)
            loaded[key] = store
            try store.requireTokenizer(tokenizerFingerprint)
            return store
        }
    }

    /// The vocabulary constraints mask for the tokenizer of the model in `path`, built once per
    /// tokenizer and set of end-of-sequence tokens (its byte trie costs a pass over the vocabulary).
    /// - Parameters:
    ///   - path: the model directory.
    ///   - endOfSequence: the tokens that end a run.
    /// - Returns: the shared vocabulary, or `nil` when the directory has no tokenizer.
    /// - Throws: the tokenizer's error for a malformed file.
    public func constraintVocabulary(modelAt path: String, endOfSequence: Set<Int32>) throws -> TokenVocabulary? {
        guard let tokenizer = try tokenizer(at: path) else { return nil }
        let key = Self.key(path) + "|" + endOfSequence.sorted().map(String.init).joined(separator: ",")
        return vocabularies.withLock { built in
            if let vocabulary = built[key] { return vocabulary }
            let vocabulary = TokenVocabulary(tokenizer: tokenizer, endOfSequence: endOfSequence)
            built[key] = vocabulary
            return vocabulary
        }
    }
}
