/// For every new token of a forward pass, the cache slots it may attend to: the sequence's cached
/// tokens within its sliding window (if any) plus its ancestors among the new tokens, itself
/// included. One list per distinct window size of the layers being run.
struct VisibilityLists {
    struct Lists: @unchecked Sendable {
        var flat: [Int32] = []
        var starts: [Int] = []
        var counts: [Int] = []
        var maxCount = 0

        func withList<R>(_ token: Int, _ body: (UnsafePointer<Int32>, Int) -> R) -> R {
            flat.withUnsafeBufferPointer { body($0.baseAddress! + starts[token], counts[token]) }
        }
    }

    private var byWindow: [Int?: Lists] = [:]

    init(items: [ForwardItem], plans: [TokenPlan], windows: Set<Int?>) {
        for window in windows {
            var lists = Lists()
            for (item, plan) in zip(items, plans) {
                let base = item.sequence.length
                for i in 0..<plan.count {
                    let queryPosition = base + plan.depths[i]
                    // transformers' rule: key position j is visible from i when i - window < j <= i.
                    let lowest = window.map { queryPosition - $0 + 1 } ?? 0
                    lists.starts.append(lists.flat.count)
                    let start = lists.flat.count
                    if lowest < base {
                        for slot in max(0, lowest)..<base { lists.flat.append(Int32(slot)) }
                    }
                    // Ancestors in ascending position, after the cached slots: a token's list is then
                    // the same whether it is decoded alone or verified inside a chain or tree, so
                    // attention sums in the same order and logits are bitwise identical.
                    let ancestorsStart = lists.flat.count
                    var a = i
                    while a >= 0 {
                        if base + plan.depths[a] >= lowest { lists.flat.append(Int32(base + a)) }
                        a = plan.parents[a]
                    }
                    lists.flat[ancestorsStart...].reverse()
                    let count = lists.flat.count - start
                    lists.counts.append(count)
                    lists.maxCount = max(lists.maxCount, count)
                }
            }
            byWindow[window] = lists
        }
    }

    func lists(window: Int?) -> Lists { byWindow[window]! }
}
