/// Which decoder layers a forward pass runs, for self-speculation and early exit: every layer,
/// the first `n` (LayerSkip, Kangaroo, CALM's exits), or every layer but a skipped set (Draft &
/// Verify, SWIFT, CLaSp). A skipped layer is the identity on the residual stream: its attention
/// and MLP are not computed and its keys and values are not written. The final norm and the LM
/// head always run.
public struct LayerSelection: Hashable, Sendable, CustomStringConvertible {
    /// The model's layer count.
    public let total: Int
    /// The layers run, ascending, each in `0..<total`, at least one.
    public let layers: [Int]

    /// Every layer of a `total`-layer model.
    /// - Parameter total: the layer count.
    public static func all(_ total: Int) -> LayerSelection { LayerSelection(total: total, uncheckedLayers: Array(0..<total)) }

    private init(total: Int, uncheckedLayers: [Int]) {
        self.total = total
        layers = uncheckedLayers
    }

    /// The first `depth` layers.
    /// - Parameters:
    ///   - depth: layers run, in `1...total`.
    ///   - total: the model's layer count.
    /// - Throws: `RuntimeError.badInput` for a depth outside `1...total`.
    public init(depth: Int, of total: Int) throws {
        guard depth >= 1 && depth <= total else {
            throw RuntimeError(.badInput, "depth \(depth) outside 1...\(total)")
        }
        self.init(total: total, uncheckedLayers: Array(0..<depth))
    }

    /// Every layer except `skipped`.
    /// - Parameters:
    ///   - skipped: layer indices not run, each in `0..<total`.
    ///   - total: the model's layer count.
    /// - Throws: `RuntimeError.badInput` for an index outside the model or a set that skips
    ///   every layer.
    public init(skipping skipped: Set<Int>, of total: Int) throws {
        if let bad = skipped.first(where: { $0 < 0 || $0 >= total }) {
            throw RuntimeError(.badInput, "layer \(bad) outside 0..<\(total)")
        }
        guard skipped.count < total else {
            throw RuntimeError(.badInput, "skipping all \(total) layers leaves nothing to run")
        }
        self.init(total: total, uncheckedLayers: (0..<total).filter { !skipped.contains($0) })
    }

    /// Whether every layer runs.
    public var isComplete: Bool { layers.count == total }

    /// Whether `other` runs only layers this selection runs.
    /// - Parameter other: a selection of the same model.
    /// - Returns: whether `other`'s layers are a subset of these.
    public func covers(_ other: LayerSelection) -> Bool {
        var i = 0
        for layer in other.layers {
            while i < layers.count && layers[i] < layer { i += 1 }
            guard i < layers.count && layers[i] == layer else { return false }
        }
        return true
    }

    /// The layers both selections run.
    /// - Parameter other: a selection of the same model.
    /// - Returns: the intersection (may be empty of layers only for disjoint selections, which
    ///   callers treat as "nothing shared").
    func intersection(_ other: LayerSelection) -> LayerSelection {
        let theirs = Set(other.layers)
        return LayerSelection(total: total, uncheckedLayers: layers.filter { theirs.contains($0) })
    }

    /// `all`, `first N`, or `skip [i, j, …]`.
    public var description: String {
        if isComplete { return "all \(total) layers" }
        if layers == Array(0..<layers.count) { return "first \(layers.count) of \(total) layers" }
        let skipped = (0..<total).filter { !Set(layers).contains($0) }
        return "\(total) layers skipping \(skipped)"
    }
}
