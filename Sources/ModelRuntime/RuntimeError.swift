/// Every failure of the model runtime: what went wrong, where (file, tensor), and what to do.
public struct RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Kinds of failure, for callers that react differently.
    public enum Code: Sendable, Equatable {
        /// A file could not be opened, read or mapped.
        case io
        /// A safetensors file is damaged or inconsistent.
        case corruptWeights
        /// A tensor is missing, or has another shape or dtype than the config implies.
        case tensorMismatch
        /// config.json is missing a field, has a bad value, or asks for something unsupported.
        case badConfig
        /// The KV-cache memory limit is reached.
        case cacheExhausted
        /// A forward call's input is invalid (token out of range, bad tree).
        case badInput
    }

    /// The kind.
    public var code: Code
    /// The message, naming the file and tensor where relevant.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind.
    ///   - message: a message a user can act on.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
