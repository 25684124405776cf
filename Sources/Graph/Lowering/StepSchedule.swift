/// Orders one step's dataflow: stages of nodes that depend only on earlier stages, or the cycles
/// that make such an order impossible.
enum StepSchedule {
    /// Topological stages by longest path from a source (a node's stage is one more than the
    /// latest stage it reads), or the strongly connected components that are cycles.
    /// - Parameter dependencies: for each node, the nodes it reads in the same step.
    /// - Returns: each node's stage, or the cycles (each a list of nodes in edge order).
    static func stages(_ dependencies: [[Int]]) -> Result<[Int], Cycles> {
        let cycles = findCycles(dependencies)
        if !cycles.isEmpty { return .failure(Cycles(cycles: cycles)) }
        var stage = [Int](repeating: -1, count: dependencies.count)
        // Iterative depth-first evaluation: graphs are small, but recursion depth must not depend on input.
        for start in dependencies.indices where stage[start] < 0 {
            var stack = [start]
            while let n = stack.last {
                let pending = dependencies[n].filter { stage[$0] < 0 }
                if pending.isEmpty {
                    stage[n] = (dependencies[n].map { stage[$0] }.max() ?? -1) + 1
                    stack.removeLast()
                } else {
                    stack += pending
                }
            }
        }
        return .success(stage)
    }

    /// The cycles found, each as nodes in dependency order.
    struct Cycles: Error { var cycles: [[Int]] }

    /// Tarjan's strongly connected components, keeping those that are cycles (more than one node,
    /// or one node reading itself).
    static func findCycles(_ dependencies: [[Int]]) -> [[Int]] {
        let n = dependencies.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = [], counter = 0, result: [[Int]] = []
        for root in 0..<n where index[root] < 0 {
            // Explicit call stack of (node, next edge to visit).
            var calls: [(Int, Int)] = [(root, 0)]
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let (v, edge) = calls.last {
                if edge < dependencies[v].count {
                    calls[calls.count - 1].1 += 1
                    let w = dependencies[v][edge]
                    if index[w] < 0 {
                        index[w] = counter; low[w] = counter; counter += 1
                        stack.append(w); onStack[w] = true
                        calls.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                } else {
                    calls.removeLast()
                    if let (parent, _) = calls.last { low[parent] = min(low[parent], low[v]) }
                    if low[v] == index[v] {
                        var component: [Int] = []
                        while let w = stack.popLast() {
                            onStack[w] = false
                            component.append(w)
                            if w == v { break }
                        }
                        if component.count > 1 || dependencies[v].contains(v) { result.append(component.sorted()) }
                    }
                }
            }
        }
        return result.sorted { $0[0] < $1[0] }
    }

    /// A path around a cycle, starting and ending at its first node, following dependencies.
    static func path(around cycle: [Int], _ dependencies: [[Int]]) -> [Int] {
        let members = Set(cycle)
        var path = [cycle[0]]
        var visited: Set<Int> = [cycle[0]]
        var current = cycle[0]
        while true {
            let next = dependencies[current].filter { members.contains($0) }
            if next.contains(cycle[0]), path.count == cycle.count || next.allSatisfy({ visited.contains($0) }) {
                return path + [cycle[0]]
            }
            guard let step = next.first(where: { !visited.contains($0) }) else { return path + [cycle[0]] }
            path.append(step)
            visited.insert(step)
            current = step
        }
    }
}
