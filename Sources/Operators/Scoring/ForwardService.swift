import ModelRuntime

/// Who runs a model's forward passes: the model itself, or a service that batches concurrent
/// callers' items into one pass (the Engine's). Scorers call through it so they need not know.
public protocol ForwardService: Sendable {
    /// The model.
    var model: Model { get }
    /// Runs one item (possibly batched with other callers' items in one pass).
    /// - Parameter item: the sequence and its new tokens.
    /// - Returns: the item's logits.
    /// - Throws: the model's `RuntimeError`.
    func forward(_ item: ForwardItem) throws -> Logits
}

/// Runs each item in its own forward pass: for single-session tools and tests.
public struct DirectForward: ForwardService {
    /// The model.
    public let model: Model
    /// Wraps a model.
    /// - Parameter model: the model.
    public init(model: Model) { self.model = model }
    /// Runs the item alone.
    /// - Parameter item: the work.
    /// - Returns: its logits.
    /// - Throws: the model's error.
    public func forward(_ item: ForwardItem) throws -> Logits { try model.forward([item])[0] }
}
