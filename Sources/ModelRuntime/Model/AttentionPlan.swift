/// What every new token of one forward pass attends to, without listing the slots.
///
/// A token sees a contiguous run of cache slots — its causal prefix, cut from below by a layer's
/// sliding window — and, if it is a tree node, its ancestors among the tokens of its pass. Chains
/// (prompts, decode, chain drafts) need no list at all: their run reaches the token itself. Only
/// tree nodes carry an explicit list, as long as their depth. So a pass over n prompt tokens plans
/// in O(n), where per-token lists of every visible slot held n²/2 integers. A masked item
/// (`ForwardMask`) lists each row's attended rows the same way, whatever their shape.
///
/// The rows of a chain whose logits are not returned (prefill: all of an `outputs: .none` item,
/// all but the last of a `.last` one) form a *causal run*, attended by the tiled kernel
/// (`PagedAttention.attendCausal`). Every row whose logits are returned goes through the per-token
/// kernel, so decode and verification keep summing the same slots in the same order
/// (bitwise-identical logits). Both kernels give each row a result that depends only on its query
/// and the slots it sees, never on how a pass is cut or what else it holds.
struct AttentionPlan {
    /// One new token.
    struct Token {
        /// Index of its item in the pass.
        var item: Int
        /// Its position (RoPE and the window's reference point).
        var position: Int
        /// End of its contiguous run of slots (the run starts at 0, or where the window starts).
        var runEnd: Int
        /// Its ancestors among the pass's tokens (tree items only): indices into `ancestorSlots`.
        var ancestors: Range<Int>
    }

    /// A stretch of consecutive positions of one chain item, attended by the tiled kernel.
    struct CausalRun {
        var item: Int
        var firstRow: Int
        var count: Int
        var firstPosition: Int
    }

    private(set) var tokens: [Token] = []
    /// Ancestor slots of tree tokens, each token's ascending by position, and their positions.
    private(set) var ancestorSlots: [Int32] = []
    private(set) var ancestorPositions: [Int] = []
    private(set) var causalRuns: [CausalRun] = []
    /// Rows attended one by one (every row outside the causal runs).
    private(set) var perTokenRows: [Int] = []

    init(items: [ForwardItem], plans: [TokenPlan]) {
        var row = 0
        for (n, (item, plan)) in zip(items, plans).enumerated() {
            let base = item.sequence.length
            let silent = !plan.isChain ? 0 : item.outputs == .none ? plan.count : item.outputs == .last ? plan.count - 1 : 0
            if silent > 0 {
                causalRuns.append(CausalRun(item: n, firstRow: row, count: silent, firstPosition: base))
            }
            for i in 0..<plan.count {
                let position = base + plan.depths[i]
                let none = ancestorSlots.count..<ancestorSlots.count
                var token = Token(item: n, position: position, runEnd: base, ancestors: none)
                if plan.isChain {
                    token.runEnd = base + i + 1
                } else if let visible = plan.visible {
                    // An explicit mask: the validated set, ascending by position, itself last.
                    let start = ancestorSlots.count
                    for a in visible[i] {
                        ancestorSlots.append(Int32(base + a))
                        ancestorPositions.append(base + plan.depths[a])
                    }
                    token.ancestors = start..<ancestorSlots.count
                } else {
                    // Ancestors in ascending position after the cached run: a token's slots are then
                    // the same whether it is decoded alone or verified inside a chain or tree.
                    let start = ancestorSlots.count
                    var a = i
                    while a >= 0 {
                        ancestorSlots.append(Int32(base + a))
                        ancestorPositions.append(base + plan.depths[a])
                        a = plan.parents[a]
                    }
                    ancestorSlots[start...].reverse()
                    ancestorPositions[start...].reverse()
                    token.ancestors = start..<ancestorSlots.count
                }
                if i >= silent { perTokenRows.append(row) }
                tokens.append(token)
                row += 1
            }
        }
    }

    /// First slot of a token's run under a sliding window (transformers' rule: key j is visible
    /// from position i when i − window < j ≤ i).
    static func runStart(position: Int, window: Int?) -> Int {
        window.map { max(0, position - $0 + 1) } ?? 0
    }

    /// Calls `body` with a per-token row's run and its ancestors at or after the window's start.
    func withSlots<R>(row: Int, window: Int?, _ body: (Range<Int>, UnsafePointer<Int32>?, Int) -> R) -> R {
        let (run, ancestors) = slots(row: row, window: window)
        if ancestors.isEmpty { return body(run, nil, 0) }
        return ancestorSlots.withUnsafeBufferPointer { body(run, $0.baseAddress! + ancestors.lowerBound, ancestors.count) }
    }

    /// A per-token row's run and its ancestors at or after the window's start, as indices into
    /// the slot lists `withAncestorSlots` gives.
    func slots(row: Int, window: Int?) -> (run: Range<Int>, ancestors: Range<Int>) {
        let token = tokens[row]
        let lo = Self.runStart(position: token.position, window: window)
        var first = token.ancestors.lowerBound
        while first < token.ancestors.upperBound && ancestorPositions[first] < lo { first += 1 }
        return (min(lo, token.runEnd)..<token.runEnd, first..<token.ancestors.upperBound)
    }

    /// Calls `body` with every tree token's ancestor slots (`slots(row:window:)` indexes them;
    /// nil when the pass has none).
    func withAncestorSlots<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        ancestorSlots.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// How many slots a per-token row sees under a sliding window.
    func visibleCount(row: Int, window: Int?) -> Int {
        let (run, ancestors) = slots(row: row, window: window)
        return run.count + ancestors.count
    }
}
