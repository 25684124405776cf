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

    /// Runs several items of different sequences in one pass (possibly with other callers' items
    /// that run the same layers).
    /// - Parameters:
    ///   - items: the work, each sequence at most once.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: logits per item.
    /// - Throws: the model's `RuntimeError`.
    func forward(batch items: [ForwardItem], layers: LayerSelection?) throws -> [Logits]
}

extension ForwardService {
    /// One item is a batch of one.
    /// - Parameter item: the work.
    /// - Returns: its logits.
    /// - Throws: the model's error.
    public func forward(_ item: ForwardItem) throws -> Logits { try forward(batch: [item], layers: nil)[0] }

    /// Every layer.
    /// - Parameter items: the work, each sequence at most once.
    /// - Returns: logits per item.
    /// - Throws: the model's error.
    public func forward(batch items: [ForwardItem]) throws -> [Logits] { try forward(batch: items, layers: nil) }

    /// A pass that may stop early (`Model.forward(_:exit:pool:)`), run by the model itself: its
    /// depth is decided inside the pass, so it batches with no other caller's items.
    /// - Parameters:
    ///   - items: the work, each sequence at most once.
    ///   - exit: the candidate depths and the decision.
    /// - Returns: logits per item and the depth the pass stopped at.
    /// - Throws: the model's error.
    public func forward(batch items: [ForwardItem], exit: EarlyExit) throws -> EarlyExitResult {
        try model.forward(items, exit: exit)
    }
}

/// Runs each item in its own forward pass: for single-session tools and tests.
public struct DirectForward: ForwardService {
    /// The model.
    public let model: Model
    /// Wraps a model.
    /// - Parameter model: the model.
    public init(model: Model) { self.model = model }
    /// Runs the items in their own pass.
    /// - Parameters:
    ///   - items: the work.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: their logits.
    /// - Throws: the model's error.
    public func forward(batch items: [ForwardItem], layers: LayerSelection?) throws -> [Logits] {
        try model.forward(items, layers: layers ?? .all(model.config.layerCount))
    }
}
