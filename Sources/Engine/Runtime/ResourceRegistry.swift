import Foundation
import Kernels
import ModelRuntime
import Operators
import Synchronization
import Tokenization

/// Models and tokenizers loaded once per process and shared by every plan and session that names
/// them, keyed by their resolved directory (symbolic links and `..` resolved).
public final class ResourceRegistry: Sendable {
    /// The process-wide registry.
    public static let shared = ResourceRegistry()

    /// Loaded resources. Loading happens under the lock: a second session asking for the same
    /// model waits for the first load instead of mapping the weights twice.
    private let models = Mutex<[String: BatchingForwardService]>([:])
    private let tokenizers = Mutex<[String: Tokenizer?]>([:])

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

    /// The forward service of the model in `path`, loading it on first use.
    /// - Parameter path: the model directory.
    /// - Returns: the shared service.
    /// - Throws: the runtime's error naming the file at fault.
    public func model(at path: String) throws -> BatchingForwardService {
        let key = Self.key(path)
        return try models.withLock { loaded in
            if let service = loaded[key] { return service }
            let service = BatchingForwardService(model: try Model(directory: key, pool: pool))
            loaded[key] = service
            return service
        }
    }

    /// The tokenizer in `path` (its `tokenizer.json`), or `nil` when the directory has none.
    /// - Parameter path: the model directory.
    /// - Returns: the shared tokenizer, if any.
    /// - Throws: the tokenizer's error for a malformed file.
    public func tokenizer(at path: String) throws -> Tokenizer? {
        let key = Self.key(path)
        return try tokenizers.withLock { loaded in
            if let tokenizer = loaded[key] { return tokenizer }
            var tokenizer: Tokenizer?
            if FileManager.default.fileExists(atPath: key + "/tokenizer.json") {
                tokenizer = try Tokenizer(directory: URL(fileURLWithPath: key))
            }
            loaded[key] = tokenizer
            return tokenizer
        }
    }
}
