import CLMDB
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the n-gram store, located at the store's path, with a message a user can act on.
public struct NGramStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure.
    public enum Code: Sendable, Equatable {
        /// The path does not exist and the store was opened without creating it.
        case notFound
        /// The file is not a decograph n-gram store (not LMDB, or LMDB written by something else).
        case notAStore
        /// The store was written with another format version of this program.
        case formatVersionMismatch
        /// The store was built with another tokenizer.
        case tokenizerMismatch
        /// The store counts other context/continuation lengths than requested.
        case parametersMismatch
        /// The file is damaged: truncated, or a record that does not decode.
        case corrupt
        /// Every reader slot of the environment is taken.
        case readersFull
        /// A parameter or argument is out of range.
        case invalidArgument
        /// The file system is full (or the quota spent) where the store or its lock file is written.
        case noSpace
        /// Other processes have the store open, and what was asked needs it to themselves.
        case inUse
        /// Any other system call failure, with its `errno`.
        case system(Int32)
        /// Any other LMDB failure, with LMDB's code.
        case lmdb(Int32)
    }

    /// What kind of failure.
    public var code: Code
    /// The store's path.
    public var path: String
    /// What went wrong and what to do about it.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - path: the store's path.
    ///   - message: a sentence for the user.
    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `path: error: message`, the project's diagnostic format.
    public var description: String { "\(path): error: \(message)" }

    /// Maps an LMDB return code to an error with a message that says what it means here.
    /// - Parameters:
    ///   - rc: LMDB's return code (non-zero).
    ///   - path: the store's path.
    ///   - doing: what was being done, for the message ("opening the store").
    static func lmdb(_ rc: Int32, path: String, doing: String) -> NGramStoreError {
        let detail = String(cString: mdb_strerror(rc))
        switch rc {
        case MDB_INVALID:
            return NGramStoreError(.notAStore, path: path, "not an n-gram store: the file is not an LMDB environment (\(detail))")
        case MDB_VERSION_MISMATCH:
            return NGramStoreError(.notAStore, path: path, "the store was written by an incompatible LMDB version (\(detail)); rebuild it with this program")
        case MDB_CORRUPTED, MDB_PANIC, MDB_PAGE_NOTFOUND:
            return NGramStoreError(.corrupt, path: path, "the store is damaged (\(detail)) while \(doing); rebuild it or restore a copy")
        case MDB_READERS_FULL:
            return NGramStoreError(.readersFull, path: path, "all reader slots are in use while \(doing): too many processes or threads read at once; raise maxReaders or close idle readers")
        case ENOSPC, EDQUOT:
            return noSpace(path: path, doing: doing)
        case MDB_TLS_FULL, MDB_BAD_RSLOT:
            return NGramStoreError(.lmdb(rc), path: path, "reader slot misuse while \(doing) (\(detail))")
        default:
            return NGramStoreError(.lmdb(rc), path: path, "LMDB failed while \(doing): \(detail)")
        }
    }

    /// Maps a failed system call's `errno` to an error.
    /// - Parameters:
    ///   - error: the `errno` value.
    ///   - path: the file concerned.
    ///   - doing: what was being done, for the message.
    static func system(_ error: Int32, path: String, doing: String) -> NGramStoreError {
        switch error {
        case ENOENT:
            return NGramStoreError(.notFound, path: path, "no such store; build one with 'decograph store build'")
        case ENOSPC, EDQUOT:
            return noSpace(path: path, doing: doing)
        default:
            return NGramStoreError(.system(error), path: path, "failed while \(doing): \(String(cString: strerror(error)))")
        }
    }

    static func noSpace(path: String, doing: String) -> NGramStoreError {
        NGramStoreError(.noSpace, path: path, "no space left on device while \(doing); free space on its file system (or move the store) and retry; what was committed before is intact")
    }
}
