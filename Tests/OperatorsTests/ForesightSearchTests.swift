import Testing
@testable import Operators

/// φ-Decoding's search on scripted distributions over six tokens: 0 is EOS, 1 ends a step.
@Suite struct ForesightSearchTests {
    /// A distribution that depends on the last token; `peak` concentrates it on one token.
    static func distribution(after tokens: [Int32], peak: Bool = false) -> [Float] {
        let last = Int(tokens.last ?? 2)
        var weights: [Float] = (0 ..< 6).map { t in t == 0 ? 0.02 * Float(tokens.count) : Float((t * 3 + last) % 5 + 1) }
        if peak { weights[(last + 1) % 5 + 1] *= 60 }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    static func run(_ search: ForesightSearch, seed: UInt64, peak: Bool = false) throws -> ForesightSearch.State {
        var state = search.start(seed: seed)
        while !state.isDone {
            try search.step(&state, rows: state.running.map { distribution(after: $0, peak: peak) })
        }
        return state
    }

    static func search(consensus: Double = 0.75, prune: Bool = true, candidates: Int = 4) throws -> ForesightSearch {
        try ForesightSearch(candidates: candidates, clusters: 2, consensus: consensus, temperature: 0.6, prune: prune, maxStepTokens: 5,
                            stepEnds: [1], maxNewTokens: 30, eosTokens: [0])
    }

    @Test func stepsEndAtLinesAndTheSeedFixesTheOutput() throws {
        let search = try Self.search(consensus: 1)
        let a = try Self.run(search, seed: 5), b = try Self.run(search, seed: 5)
        #expect(a.committed == b.committed)
        #expect(try (0 ..< 6 as Range<UInt64>).map { try Self.run(search, seed: $0).committed }.reduce(into: Set<[Int32]>()) { $0.insert($1) }.count > 1)
        // Every step ends with the step token, at five tokens, or with EOS at the very end.
        var step = 0
        for (i, token) in a.committed.enumerated() {
            step += 1
            if token == 1 || step == 5 { step = 0 }
            if token == 0 { #expect(i == a.committed.count - 1) }
        }
        #expect(a.stepsChosen >= 1)
        #expect(a.committed.count <= 30)
    }

    @Test func consensusHandsTheRestToGreedyDecoding() throws {
        let state = try Self.run(Self.search(consensus: 0.75), seed: 3, peak: true)
        let converged = try #require(state.convergedAtStep)
        #expect(converged >= 1)
        // After the converged step, each token is the argmax of its distribution.
        let steps = Self.stepLengths(state.committed)
        let start = steps.prefix(converged).reduce(0, +)
        for i in start ..< state.committed.count {
            let row = Self.distribution(after: Array(state.committed[..<i]), peak: true)
            #expect(Int(state.committed[i]) == Distribution.topIndices(row, 1)[0], "token \(i) after convergence at step \(converged)")
        }
        #expect(start < state.committed.count, "greedy decoding took over before the end")
    }

    /// Step lengths of an output whose steps end at token 1 or after five tokens.
    static func stepLengths(_ tokens: [Int32]) -> [Int] {
        var lengths: [Int] = [], current = 0
        for token in tokens {
            current += 1
            if token == 1 || current == 5 { lengths.append(current); current = 0 }
        }
        if current > 0 { lengths.append(current) }
        return lengths
    }

    @Test func pruningDropsOnlyWithPruneOn() throws {
        let pruned = try (0 ..< 8 as Range<UInt64>).reduce(0) { $0 + (try Self.run(Self.search(consensus: 1), seed: $1).pruned) }
        let kept = try (0 ..< 8 as Range<UInt64>).reduce(0) { $0 + (try Self.run(Self.search(consensus: 1, prune: false), seed: $1).pruned) }
        #expect(pruned > 0)
        #expect(kept == 0)
    }

    @Test(arguments: [1, 2, 3])
    func foresightRunsItsStepsAndStops(steps: Int) throws {
        let search = try ForesightSearch(candidates: 3, clusters: 2, consensus: 1, temperature: 0.6, prune: false, foresightSteps: steps,
                                         maxStepTokens: 5, stepEnds: [1], maxNewTokens: 60, eosTokens: [0])
        var state = search.start(seed: 9)
        var checked = 0
        while !state.isDone {
            try search.step(&state, rows: state.running.map { Self.distribution(after: $0) })
            guard state.phase == .foresight else { continue }
            for branch in state.branches {
                let ends = Self.stepLengths(branch.foresight).count
                #expect(ends <= steps)
                if branch.finished, !branch.ended, !branch.foresight.contains(0) { #expect(ends == steps || branch.foresight.isEmpty) }
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    /// Step beams (the reference's step_beam_size): the prompt is one row however many beams; each
    /// open beam samples `candidates` steps; the beams are drawn from all of them, kept at their
    /// number (pruned candidates are drawn back when too few survive), and built of whole steps.
    @Test func stepBeamsSampleFromEachBeamAndKeepTheirNumber() throws {
        let search = try ForesightSearch(candidates: 2, beams: 3, clusters: 2, consensus: 1, temperature: 0.6, prune: true,
                                         maxStepTokens: 5, stepEnds: [1], maxNewTokens: 30, eosTokens: [0])
        var state = search.start(seed: 4)
        #expect(state.running.count == 1, "three beams at the prompt are one hypothesis")
        var sampledFrom = Set<Int>(), steps = 0
        while !state.isDone {
            if state.phase == .sampling, !state.branches.isEmpty {
                sampledFrom.formUnion(state.branches.map(\.parent))
                for b in state.beams.indices where !state.beams[b].ended {
                    #expect(state.branches.count { $0.parent == b } == 2, "beam \(b) samples its own candidates")
                }
            }
            if state.phase == .foresight { #expect(state.branches.count >= min(3, state.beams.count { !$0.ended } * 2)) }
            try search.step(&state, rows: state.running.map { Self.distribution(after: $0) })
            steps += 1
            if state.phase == .sampling, state.branches.isEmpty, !state.isDone { #expect(state.beams.count == 3) }
        }
        #expect(sampledFrom == [0, 1, 2], "every beam sampled")
        #expect(state.beams.count == 3)
        // Beams are whole steps: every beam but an ended one closes at a step end.
        for beam in state.beams where !beam.ended {
            #expect(beam.tokens.last == 1 || Self.stepLengths(beam.tokens).last == 5)
        }
        // Best first by value; the same seed, the same beams.
        #expect(zip(state.beams, state.beams.dropFirst()).allSatisfy { $0.value >= $1.value })
        var again = search.start(seed: 4)
        while !again.isDone { try search.step(&again, rows: again.running.map { Self.distribution(after: $0) }) }
        #expect(again.beams == state.beams)
    }

    @Test func clusteringGroupsEqualBagsOfTokens() {
        let assignment = ForesightSearch.cluster([[2, 3, 1], [3, 2, 1], [4, 5, 5], [5, 4, 5]], into: 2)
        #expect(assignment[0] == assignment[1] && assignment[2] == assignment[3] && assignment[0] != assignment[2])
        #expect(ForesightSearch.cluster([[2], [2]], into: 3) == [0, 0])
    }
}
