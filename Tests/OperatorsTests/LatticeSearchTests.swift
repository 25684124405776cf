import Foundation
import Testing
@testable import Operators

/// Best-first lattice search with path recombination on scripted distributions.
@Suite struct LatticeSearchTests {
    /// Next-token logits over eight tokens (0 is EOS) that depend only on the last token and the
    /// length, so different prefixes often continue alike and recombine.
    struct Scripted: TreeScorer {
        let vocabularySize = 8
        func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
            let last = Int(context.last ?? 1), n = Float(context.count)
            return [(0 ..< 8).map { t in t == 0 ? n * 0.25 - 3 : Float((t * 5 + last * 3) % 7) * 0.4 }]
        }
    }

    static func run(_ search: LatticeSearch, prompt: [Int32] = [1]) throws -> LatticeSearch.State {
        var state = search.start()
        while !state.isDone {
            try search.step(&state, logits: state.running.map { try Scripted().nextLogits(context: prompt + $0) })
        }
        return state
    }

    /// Every root-to-final path, enumerated.
    static func paths(_ lattice: SearchLattice, from node: Int = 0) -> Int {
        if lattice.nodes[node].final { return 1 }
        return lattice.arcs.filter { $0.from == node }.reduce(0) { $0 + paths(lattice, from: $1.to) }
    }

    @Test func recombinationEncodesMorePathsThanItCloses() throws {
        let plain = try Self.run(LatticeSearch(width: 3, branch: 3, budget: 40, ngram: 0, maxNewTokens: 9, eosTokens: [0]))
        // Without recombination the lattice is a tree: one path per closed candidate.
        #expect(plain.lattice.recombined == 0)
        #expect(plain.lattice.distinctPaths == Double(plain.finished.count))
        #expect(plain.expanded == 40)
        let merged = try Self.run(LatticeSearch(width: 3, branch: 3, budget: 40, ngram: 1, maxNewTokens: 9, eosTokens: [0]))
        #expect(merged.lattice.recombined > 0)
        #expect(merged.lattice.distinctPaths == Double(Self.paths(merged.lattice)))
        #expect(merged.lattice.distinctPaths > Double(merged.finished.count))
        // Arcs only join a prefix to one a token longer: the lattice is acyclic.
        #expect(merged.lattice.arcs.allSatisfy { merged.lattice.nodes[$0.to].tokens.count == merged.lattice.nodes[$0.from].tokens.count + 1 })
        // A recombined arc's target ends with the same last token.
        #expect(merged.lattice.arcs.allSatisfy { merged.lattice.nodes[$0.to].tokens.last == $0.token })
    }

    @Test func expandsBestFirstWithinTheBudget() throws {
        let search = try LatticeSearch(width: 2, branch: 2, budget: 11, ngram: 2, maxNewTokens: 12, eosTokens: [0])
        var state = search.start()
        var expandedPriorities: [[Double]] = []
        while !state.isDone {
            expandedPriorities.append(state.expanding.map { search.priority(state.lattice.nodes[$0]) })
            // Every node chosen is at least as good as every node left open.
            let best = state.open.map { search.priority(state.lattice.nodes[$0]) }.max() ?? -.infinity
            #expect(state.expanding.allSatisfy { search.priority(state.lattice.nodes[$0]) >= best })
            try search.step(&state, logits: state.running.map { try Scripted().nextLogits(context: [1] + $0) })
        }
        #expect(state.expanded == 11)
        #expect(expandedPriorities.flatMap { $0 }.count == 11)
        #expect(zip(state.finished, state.finished.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    /// With roll-out, an expanded node's most likely child — when it opened a new node — is
    /// expanded in the very next step, ahead of the queue; the lattice stays acyclic and its path
    /// count exact.
    @Test func rolloutFollowsEachExpandedNodesBestChild() throws {
        let search = try LatticeSearch(width: 2, branch: 3, budget: 30, ngram: 1, rollout: true, maxNewTokens: 12, eosTokens: [0])
        var state = search.start()
        var followed = 0
        while !state.isDone {
            let expanded = state.expanding
            let rows = try state.running.map { try Scripted().nextLogits(context: [1] + $0) }
            let arcsBefore = state.lattice.arcs.count
            try search.step(&state, logits: rows)
            // Each expanded node's first arc this step is its most likely token; where it opened a
            // new node, that node goes next (as many as the step has room for).
            let continuations = expanded.compactMap { node -> Int? in
                guard let best = state.lattice.arcs[arcsBefore...].first(where: { $0.from == node }) else { return nil }
                let child = state.lattice.nodes[best.to]
                return !child.final && child.tokens == state.lattice.nodes[node].tokens + [best.token] ? best.to : nil
            }
            guard !state.isDone else { break }
            let taken = continuations.filter(state.expanding.contains)
            #expect(taken.count == min(continuations.count, state.expanding.count), "\(continuations) not rolled out into \(state.expanding)")
            followed += taken.count
        }
        #expect(followed > 0)
        #expect(state.expanded == 30)
        #expect(state.lattice.distinctPaths == Double(Self.paths(state.lattice)))
        #expect(state.lattice.arcs.allSatisfy { state.lattice.nodes[$0.to].tokens.count == state.lattice.nodes[$0.from].tokens.count + 1 })
    }

    @Test func exportsCountEveryArcAndFinalState() throws {
        let state = try Self.run(LatticeSearch(width: 2, branch: 3, budget: 12, ngram: 1, maxNewTokens: 6, eosTokens: [0]))
        let lines = state.lattice.openFstText().split(separator: "\n")
        let finals = state.lattice.nodes.filter(\.final).count
        #expect(lines.count == state.lattice.arcs.count + finals)
        #expect(lines.filter { $0.split(separator: "\t").count == 5 }.allSatisfy { Int($0.split(separator: "\t")[2])! >= 1 })
        #expect(state.lattice.dot { "t\($0)" }.components(separatedBy: " -> ").count == state.lattice.arcs.count + 1)
        let json = try #require(try JSONSerialization.jsonObject(with: state.lattice.json { "t\($0)" }) as? [String: Any])
        #expect((json["arcs"] as? [Any])?.count == state.lattice.arcs.count)
        #expect(json["distinct_paths"] as? Double == state.lattice.distinctPaths)
    }

    /// Every root-to-final path's tokens (read off the arcs), as a set.
    static func sequences(_ lattice: SearchLattice, from node: Int = 0, prefix: [Int32] = []) -> Set<[Int32]> {
        if lattice.nodes[node].final { return [prefix] }
        return lattice.arcs.filter { $0.from == node }.reduce(into: Set<[Int32]>()) {
            $0.formUnion(sequences(lattice, from: $1.to, prefix: prefix + [$1.token]))
        }
    }

    /// Zip merges the two paths along their whole agreeing span: the search expands the same
    /// nodes as plain recombination (a merge never creates a node), the lattice encodes every
    /// sequence plain recombination encodes and more, and it stays acyclic with exact counts. Some
    /// zip arcs leave an ancestor of the recombining child rather than its parent.
    /// (With a one-token suffix two nodes agreeing on their last token are one node, so only
    /// longer suffixes leave a span to zip; these logits depend on the last two tokens alone, so
    /// different prefixes agree on long suffixes, and a zipped span's nodes have futures of
    /// their own.)
    @Test(arguments: [2, 3]) func zipMergesTheAgreeingSpan(ngram: Int) throws {
        struct LastToken: TreeScorer {
            let vocabularySize = 6
            func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
                let last = Int(context.last ?? 1), before = Int(context.dropLast().last ?? 1)
                return [(0 ..< 6).map { t in t == 0 ? -2 : Float((t * 7 + last * 3 + before) % 5) * 0.3 }]
            }
        }
        func run(_ search: LatticeSearch) throws -> LatticeSearch.State {
            var state = search.start()
            while !state.isDone { try search.step(&state, logits: state.running.map { try LastToken().nextLogits(context: [1] + $0) }) }
            return state
        }
        let node = try run(LatticeSearch(width: 3, branch: 3, budget: 40, ngram: ngram, maxNewTokens: 10, eosTokens: [0]))
        let zip = try run(LatticeSearch(width: 3, branch: 3, budget: 40, ngram: ngram, merge: .zip, maxNewTokens: 10, eosTokens: [0]))
        #expect(zip.lattice.nodes == node.lattice.nodes)
        #expect(zip.finished == node.finished)
        #expect(zip.lattice.recombined == node.lattice.recombined && node.lattice.recombined > 0)
        let (plainSequences, zipSequences) = (Self.sequences(node.lattice), Self.sequences(zip.lattice))
        #expect(zipSequences.isSuperset(of: plainSequences))
        #expect(zipSequences.count > plainSequences.count, "zip encodes sequences plain recombination does not")
        #expect(zip.lattice.distinctPaths == Double(Self.paths(zip.lattice)))
        let lattice = zip.lattice
        #expect(lattice.arcs.allSatisfy { lattice.nodes[$0.to].tokens.count == lattice.nodes[$0.from].tokens.count + 1 })
        #expect(lattice.arcs.allSatisfy { lattice.nodes[$0.to].tokens.last == $0.token })
        // An arc plain recombination did not draw, whose source is not the node its target was
        // created below (the source of the first arc into it): a span was zipped.
        let plainArcs = Set(node.lattice.arcs.map { [$0.from, $0.to] })
        func creator(_ target: Int) -> Int? { lattice.arcs.first { $0.to == target }?.from }
        #expect(lattice.arcs.contains { !plainArcs.contains([$0.from, $0.to]) && creator($0.to) != $0.from })
    }
}
