import Synchronization

/// What one run asked of one model: calls at full depth, partial calls (a selection of layers),
/// and their cost in layer-equivalents — a full pass counts 1, a pass over `k` of `n` layers
/// `k / n` — so self-speculative drafting is charged for what it computes. A frontier scored in
/// one pass is one call. Shared by every scorer of the model in a run (hypotheses, forks).
public final class ModelUsage: Sendable {
    private struct Counts {
        var fullCalls = 0
        var partialCalls = 0
        var layerEquivalents = 0.0
    }
    private let counts = Mutex(Counts())

    /// A zeroed counter.
    public init() {}

    /// Counts one call.
    /// - Parameters:
    ///   - layers: layers it ran.
    ///   - total: the model's layers.
    func record(layers: Int, of total: Int) {
        counts.withLock {
            if layers == total { $0.fullCalls += 1 } else { $0.partialCalls += 1 }
            $0.layerEquivalents += Double(layers) / Double(max(total, 1))
        }
    }

    /// Counts a pass that finished positions a partial pass began (`Model.complete`, LayerSkip's
    /// cache reuse): a full call, since its logits are the full model's, charged only the layers
    /// it ran.
    /// - Parameters:
    ///   - layers: layers it ran.
    ///   - total: the model's layers.
    func recordCompletion(layers: Int, of total: Int) {
        counts.withLock {
            $0.fullCalls += 1
            $0.layerEquivalents += Double(layers) / Double(max(total, 1))
        }
    }

    /// Counts one partial call that ran `steps` single layers over a few rows outside any pass
    /// (CLaSp's layer search), charged `steps / total` passes.
    /// - Parameters:
    ///   - steps: layer applications.
    ///   - total: the model's layers.
    func recordLayerSteps(_ steps: Int, of total: Int) {
        counts.withLock {
            $0.partialCalls += 1
            $0.layerEquivalents += Double(steps) / Double(max(total, 1))
        }
    }

    /// Calls that ran every layer.
    public var fullCalls: Int { counts.withLock { $0.fullCalls } }
    /// Calls that ran a selection of the layers.
    public var partialCalls: Int { counts.withLock { $0.partialCalls } }
    /// The calls' cost in full passes.
    public var layerEquivalents: Double { counts.withLock { $0.layerEquivalents } }
}
