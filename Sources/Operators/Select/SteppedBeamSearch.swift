/// What the beam searches (`BeamSearch`, `GroupBeamSearch`, `ConstrainedBeamSearch`,
/// `GridBeamSearch`) share: a state started from the prompt and advanced one token per step from
/// one row of logits per running beam, and a pool of finished hypotheses.
public protocol SteppedBeamSearch: Sendable {
    /// The search's state.
    associatedtype State: BeamSearchState
    /// The state before the first step.
    /// - Parameter prompt: the prompt every beam continues.
    func start(prompt: [Int32]) -> State
    /// Advances every running beam by one token.
    /// - Parameters:
    ///   - state: the state.
    ///   - logits: one row per running beam, in `state.running` order.
    /// - Returns: for each new running beam, the index of the beam it extends.
    /// - Throws: `OperatorError` for malformed rows.
    @discardableResult
    func step(_ state: inout State, logits: [[Float]]) throws -> [Int]
}

/// A beam search's state as the frontier reads it.
public protocol BeamSearchState: Sendable {
    /// The running beams' generated tokens, in frontier order.
    var running: [[Int32]] { get }
    /// Whether the search has stopped.
    var isDone: Bool { get }
    /// The finished hypotheses, best first.
    var finished: [BeamSearch.Hypothesis] { get }
}

extension SteppedBeamSearch {
    /// Runs the search to the end against a scorer, scoring every running beam's whole context.
    /// - Parameters:
    ///   - prompt: the prompt tokens.
    ///   - scorer: the model (root-only trees, one call per running beam and step).
    /// - Returns: the finished hypotheses, best first.
    /// - Throws: what the scorer or `step` throws.
    public func run(prompt: [Int32], scorer: some TreeScorer) throws -> [BeamSearch.Hypothesis] {
        var state = start(prompt: prompt)
        while !state.isDone {
            let rows = try state.running.map { try scorer.nextLogits(context: prompt + $0) }
            try step(&state, logits: rows)
        }
        return state.finished
    }
}

/// Any beam search as a graph's frontier: the op's rows in, the search's beams and pool out.
struct BeamFrontier<Search: SteppedBeamSearch>: FrontierSearch {
    let search: Search
    var state: Search.State

    init(_ search: Search, prompt: [Int32]) {
        self.search = search
        state = search.start(prompt: prompt)
    }

    var running: [[Int32]] { state.running }
    var isDone: Bool { state.isDone }
    var best: [Int32]? { state.finished.first?.tokens ?? state.running.first }
    var candidates: [FrontierCandidate] { state.finished.map(FrontierCandidate.init) }

    /// Advances the search by one token per beam — or by several when the beams' input scored a
    /// drafted tree: after each beam step, a new beam whose last token is a child of its parent's
    /// place in that tree has its next row already (the pass scored it), so the search steps again
    /// from those rows, while every running beam has one. The result equals plain beam search token
    /// for token: each step ranks the same rows, only fewer passes compute them.
    /// - Returns: for each new running beam, the index of the input hypothesis it extends.
    mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
        let scored = try BeamSearchOp.ScoredTrees(inputs)
        // Each running beam's place: the hypothesis whose pass scored its row, and its row there
        // (0 the root, n + 1 tree node n).
        var places = scored.trees.indices.map { (hypothesis: $0, row: 0) }
        while true {
            let rows = try places.map { try scored.row($0.row, of: $0.hypothesis) }
            let parents = try search.step(&state, logits: rows)
            let origins = parents.map { places[$0].hypothesis }
            guard !state.isDone else { return origins }
            var next: [(hypothesis: Int, row: Int)] = []
            for (beam, parent) in parents.enumerated() {
                let place = places[parent]
                guard let token = state.running[beam].last,
                      let row = scored.row(below: place.row, of: place.hypothesis, token: token)
                else { return origins }
                next.append((place.hypothesis, row))
            }
            places = next
        }
    }
}
