/// A forward pass that may stop before the last layer (CALM, Schuster et al. 2022, "Confident
/// Adaptive Language Modeling"): after each of `depths` layers the pass asks `decide`, which reads
/// the residual stream and, if it wants them, the logits the model would give by stopping there
/// (the final norm and LM head over the exit state). Once it stops, the keys and values of the
/// layers not run are filled from the exit state — CALM's state propagation: each such layer
/// projects the exit hidden state, as if every layer between were the identity — so later tokens
/// find every layer's keys and values at every position, and the positions count as full. The
/// result is an approximation of the model, by design: graphs that use it are lossy.
public struct EarlyExit {
    /// Layers run after which the pass may stop, ascending, each in `0..<layerCount` (0: the
    /// embeddings, before any layer).
    public let depths: [Int]
    /// Whether to stop after `probe.depth` layers.
    public let decide: (ExitProbe) -> Bool

    /// Creates an exit rule.
    /// - Parameters:
    ///   - depths: candidate exit depths (layers run), ascending, in `0..<layerCount`.
    ///   - layerCount: the model's layer count.
    ///   - decide: whether to stop at a probe.
    /// - Throws: `RuntimeError.badInput` for depths out of order or outside the model.
    public init(depths: [Int], of layerCount: Int, decide: @escaping (ExitProbe) -> Bool) throws {
        if let bad = depths.first(where: { $0 < 0 || $0 >= layerCount }) {
            throw RuntimeError(.badInput, "exit depth \(bad) outside 0..<\(layerCount)")
        }
        guard zip(depths, depths.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw RuntimeError(.badInput, "exit depths \(depths) are not strictly ascending")
        }
        self.depths = depths
        self.decide = decide
    }
}

/// What an exit decision reads at one candidate depth: the residual stream of the rows the pass
/// returns logits for, and those rows' logits if the pass stopped here (computed on first use,
/// and reused as the pass's result when it does stop).
public final class ExitProbe {
    /// Layers run so far.
    public let depth: Int
    /// Rows (the returned rows of every item, in item order).
    public let rows: Int
    /// The residual stream after `depth` layers, `rows × hiddenSize`, before the final norm.
    public let hidden: [Float]
    /// The LM head over the rows, after the final norm (`true`) or over the raw residual stream.
    private let head: (_ normalized: Bool) -> [Float]
    private var computed: [Float]?

    init(depth: Int, rows: Int, hidden: [Float], head: @escaping (_ normalized: Bool) -> [Float]) {
        self.depth = depth
        self.rows = rows
        self.hidden = hidden
        self.head = head
    }

    /// The rows' logits if the pass stopped here, `rows × vocabularySize` (costs one LM-head product
    /// on first use).
    public var logits: [Float] {
        if let computed { return computed }
        let values = head(true)
        computed = values
        return values
    }

    /// The LM head over the residual stream as it stands, without the final norm — what
    /// transformers' DoLa reads from `hidden_states[depth]` — `rows × vocabularySize` (one LM-head
    /// product per use; never the pass's result).
    public var unnormalizedLogits: [Float] { head(false) }

    /// Whether `logits` was asked for (the result reuses it).
    var logitsIfComputed: [Float]? { computed }
}

/// The result of a pass with an early exit.
public struct EarlyExitResult: Sendable {
    /// Logits per item, as each item's `outputs` asks.
    public var logits: [Logits]
    /// Layers the last pass ran before its exit (the model's layer count when it did not stop).
    public var depth: Int
    /// LM-head products the exit decisions asked for (the final one included when it is reused).
    public var headEvaluations: Int
}
