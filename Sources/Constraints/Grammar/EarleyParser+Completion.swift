extension EarleyParser {
    /// The shortest bytes that complete the input read so far to a sentence of the grammar.
    ///
    /// The chart says what is open: each item of the last set has the rest of its production to
    /// read, and then what waited for its rule where it began (an item of its origin set), and so
    /// on down to the start. `finish(k, A)` — the shortest way to go on once rule `A`, begun at set
    /// `k`, is complete — is the minimum over the items of set `k` waiting for `A` of the rest of
    /// their production plus `finish` of their own rule at their origin; items begun in set `k`
    /// itself make that a shortest-path problem inside the set, solved by relaxing until nothing
    /// shortens. Sets are solved from the first one needed upwards, so no recursion follows the
    /// nesting. The answer is the best item of the last set: its own symbol's rest (a lexeme's
    /// shortest completion from the item's automaton state), its production's rest, and `finish`.
    /// - Parameters:
    ///   - table: the grammar's shortest yields.
    ///   - workLimit: chart items examined at most.
    /// - Returns: the bytes, or nil when none is found within the table's byte bound or the work
    ///   limit.
    func shortestCompletion(table: ShortestCompletions, workLimit: Int) -> [UInt8]? {
        if isAccepting { return [] }
        let productions = grammar.productions
        let last = byteCount
        func set(_ k: Int) -> Range<Int> { Int(setStarts[k])..<(k == last ? items.count : Int(setStarts[k + 1])) }

        // The sets whose `finish` values are needed: the origins reachable from the last set.
        var needed: Set<Int> = [last]
        var frontier = [last]
        var work = 0
        while let k = frontier.popLast() {
            for i in set(k) where needed.insert(Int(items[i].origin)).inserted {
                frontier.append(Int(items[i].origin))
            }
            work += set(k).count
            if work > workLimit { return nil }
        }

        /// Per set, per rule: the shortest continuation's length and the waiting item giving it.
        var finish: [Int: [Int32: (length: Int, item: Int)]] = [:]
        func finishLength(_ k: Int, _ rule: Int32) -> Int {
            if rule == grammar.startRule { return 0 }
            return finish[k]?[rule]?.length ?? ShortestCompletions.none
        }
        let bound = table.maxBytes
        func add(_ a: Int, _ b: Int) -> Int { a == ShortestCompletions.none || b == ShortestCompletions.none || a + b > bound ? ShortestCompletions.none : a + b }

        for k in needed.sorted() {
            var best: [Int32: (length: Int, item: Int)] = [:]
            finish[k] = best
            let waiting = set(k).filter { i in
                let item = items[i]
                let rhs = productions[Int(item.production)].rhs
                if Int(item.dot) < rhs.count, case .rule = rhs[Int(item.dot)] { return true }
                return false
            }
            // Relax until stable: each pass can only shorten, and a pass without change ends it.
            var changed = true
            var passes = 0
            while changed, passes <= waiting.count {
                changed = false
                passes += 1
                work += waiting.count
                if work > workLimit { return nil }
                for i in waiting {
                    let item = items[i]
                    let production = productions[Int(item.production)]
                    guard case .rule(let rule) = production.rhs[Int(item.dot)] else { continue }
                    let outer = Int(item.origin) == k ? (production.lhs == grammar.startRule ? 0 : best[production.lhs]?.length ?? ShortestCompletions.none)
                                                      : finishLength(Int(item.origin), production.lhs)
                    let length = add(table.suffixLength(item.production, from: Int(item.dot) + 1), outer)
                    if length < (best[rule]?.length ?? ShortestCompletions.none) {
                        best[rule] = (length, i)
                        changed = true
                    }
                }
            }
            finish[k] = best
        }

        // The best item of the last set to finish from.
        var bestLength = ShortestCompletions.none
        var bestItem = -1
        for i in set(last) {
            let item = items[i]
            let rhs = productions[Int(item.production)].rhs
            guard Int(item.dot) < rhs.count else { continue }
            let here: Int
            if case .lexeme(let l) = rhs[Int(item.dot)] {
                here = ShortestCompletions.shortestCompletion(of: grammar.lexemes[Int(l)], from: item.lexState, maxBytes: bound)?.count
                    ?? ShortestCompletions.none
            } else {
                here = table.length(of: rhs[Int(item.dot)])
            }
            let length = add(add(here, table.suffixLength(item.production, from: Int(item.dot) + 1)),
                             finishLength(Int(item.origin), productions[Int(item.production)].lhs))
            if length < bestLength {
                bestLength = length
                bestItem = i
            }
        }
        guard bestItem >= 0 else { return nil }

        // Spell it out: the item's symbol and production rest, then each waiting item's rest.
        var out: [UInt8] = []
        var item = items[bestItem]
        let rhs = productions[Int(item.production)].rhs
        if case .lexeme(let l) = rhs[Int(item.dot)] {
            out += ShortestCompletions.shortestCompletion(of: grammar.lexemes[Int(l)], from: item.lexState, maxBytes: bound) ?? []
        } else {
            out += table.yield(of: rhs[Int(item.dot)])
        }
        out += table.suffixYield(item.production, from: Int(item.dot) + 1)
        var steps = 0
        while productions[Int(item.production)].lhs != grammar.startRule {
            guard let next = finish[Int(item.origin)]?[productions[Int(item.production)].lhs], steps <= work else { return nil }
            steps += 1
            item = items[next.item]
            out += table.suffixYield(item.production, from: Int(item.dot) + 1)
        }
        return out
    }
}
