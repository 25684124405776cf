import Foundation
import Graph
import Testing
@testable import Operators

/// `contrast` against the papers' formulas, evaluated here independently of the implementation:
/// in probability space (`p = exp(e) / Σ exp`, kept when `p ≥ α · max p`) rather than the
/// implementation's log space, in `Double`, on 5-token rows.
@Suite struct ContrastOpTests {
    /// 5-token rows with distinct gaps, so no token sits on the α boundary for the αs below.
    static let rows: [(expert: [Float], amateur: [Float])] = [
        ([2, 1, 0, -1, -3], [1, 1, 1, 1, 1]),
        ([0.3, 2.2, -0.4, 1.9, 0.0], [2.5, 0.1, -1.0, 1.7, 0.2]),
        ([-5, -5.5, -4.2, -9, -4.9], [-1, 3, 0.5, -2, 0]),
        ([10, 9.7, 3, 9.1, -2], [9, 1, 4, 8, 0]),
    ]

    static func probabilities(_ row: [Float]) -> [Double] {
        let exps = row.map { Foundation.exp(Double($0)) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// V_head by its definition: `p_e(x) ≥ α · max p_e`.
    static func plausible(_ expert: [Float], alpha: Double) -> [Bool] {
        let p = probabilities(expert)
        let top = p.max()!
        return p.map { $0 >= alpha * top }
    }

    static func op(beta: Double = ContrastOp.defaultBeta, alpha: Double = ContrastOp.defaultAlpha,
                   formula: ContrastiveCombination.Formula = .extrapolate,
                   selection: ContrastiveCombination.Selection = .always) -> ContrastOp {
        ContrastOp(combination: ContrastiveCombination(beta: beta, alpha: alpha, formula: formula, selection: selection))
    }

    static func run(_ op: ContrastOp, expert: [[Float]], amateur: [[Float]], tree: TokenTree = TokenTree(), amateurTree: TokenTree? = nil) throws -> [[Float]] {
        let input = StepInput(history: LogitsContext(tokens: [1], promptCount: 1),
                              inputs: ["expert": [.scores(tree: tree, logits: expert)],
                                       "amateur": [.scores(tree: amateurTree ?? tree, logits: amateur)]])
        var rng = Xoshiro256StarStar(seed: 1)
        guard case .scores(_, let rows) = try op.run(input, rng: &rng) else { throw OperatorError(.shapeMismatch, at: "out", "not scores") }
        return rows
    }

    @Test func handDerivedCase() throws {
        // e = [2, 1, 0, -1, -3], a = 1 everywhere, β = 1: 2e − a = [3, 1, -1, -3, -7]. p_e / max p_e =
        // exp(e − 2) = [1, 0.37, 0.14, 0.050, 0.0067]: α = 0.1 keeps the first three.
        let op = Self.op(beta: 1, alpha: 0.1)
        let out = try Self.run(op, expert: [Self.rows[0].expert], amateur: [Self.rows[0].amateur])
        #expect(out == [[3, 1, -1, -.infinity, -.infinity]])
    }

    @Test(arguments: [0.0, 0.3, 0.5, 1.0, 2.5], [0.0, 0.05, 0.1, 0.4])
    func extrapolateMatchesTheFormula(beta: Double, alpha: Double) throws {
        let op = Self.op(beta: beta, alpha: alpha)
        let out = try Self.run(op, expert: Self.rows.map(\.expert), amateur: Self.rows.map(\.amateur))
        for (row, pair) in zip(out, Self.rows) {
            let keep = Self.plausible(pair.expert, alpha: alpha)
            for x in 0..<5 {
                if keep[x] {
                    let expected = (1 + beta) * Double(pair.expert[x]) - beta * Double(pair.amateur[x])
                    #expect(abs(Double(row[x]) - expected) <= 1e-5 * max(1, abs(expected)), "β \(beta) α \(alpha) token \(x)")
                } else {
                    #expect(row[x] == -.infinity, "β \(beta) α \(alpha) token \(x) is outside V_head")
                }
            }
        }
    }

    @Test(arguments: [0.0, 0.3, 1.0], [0.0, 0.1])
    func subtractIsInstructiveDecoding(beta: Double, alpha: Double) throws {
        let op = Self.op(beta: beta, alpha: alpha, formula: .subtract)
        let out = try Self.run(op, expert: Self.rows.map(\.expert), amateur: Self.rows.map(\.amateur))
        for (row, pair) in zip(out, Self.rows) {
            let keep = Self.plausible(pair.expert, alpha: alpha)
            for x in 0..<5 {
                let expected = keep[x] ? Double(pair.expert[x]) - beta * Double(pair.amateur[x]) : -.infinity
                #expect(row[x] == -.infinity ? expected == -.infinity : abs(Double(row[x]) - expected) <= 1e-5 * max(1, abs(expected)), "β \(beta) α \(alpha) token \(x)")
            }
        }
    }

    @Test(arguments: [0.0, 0.1, 0.4])
    func differenceIsLiEtAlsObjective(alpha: Double) throws {
        let op = Self.op(alpha: alpha, formula: .difference)
        let out = try Self.run(op, expert: Self.rows.map(\.expert), amateur: Self.rows.map(\.amateur))
        for (row, pair) in zip(out, Self.rows) {
            let pe = Self.probabilities(pair.expert), pa = Self.probabilities(pair.amateur)
            let keep = Self.plausible(pair.expert, alpha: alpha)
            for x in 0..<5 {
                let expected = keep[x] ? Foundation.log(pe[x]) - Foundation.log(pa[x]) : -.infinity
                #expect(row[x] == -.infinity ? expected == -.infinity : abs(Double(row[x]) - expected) <= 1e-5, "α \(alpha) token \(x)")
            }
        }
    }

    @Test func betaZeroIsTheExpertExactly() throws {
        let rows = Self.rows.map(\.expert)
        let uncut = Self.op(beta: 0, alpha: 0)
        #expect(try Self.run(uncut, expert: rows, amateur: Self.rows.map(\.amateur)) == rows)
        // With the cut, the expert's own logits survive bit for bit on V_head.
        let cut = Self.op(beta: 0, alpha: 0.1)
        for (row, expert) in zip(try Self.run(cut, expert: rows, amateur: Self.rows.map(\.amateur)), rows) {
            let keep = Self.plausible(expert, alpha: 0.1)
            #expect(row == expert.indices.map { keep[$0] ? expert[$0] : -.infinity })
        }
    }

    /// The cut keeps exactly V_head, whatever the amateur says, on a 200-token row with tokens on
    /// both sides of the bound.
    @Test(arguments: [0.001, 0.1, 0.5, 0.9, 1.0])
    func plausibilityCutKeepsExactlyVHead(alpha: Double) throws {
        var rng = Xoshiro256StarStar(seed: 7)
        let expert = (0..<200).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53) * 12 - 6) }
        let amateur = (0..<200).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53) * 12 - 6) }
        let keep = Self.plausible(expert, alpha: alpha)
        let op = Self.op(beta: 3, alpha: alpha)
        let out = try Self.run(op, expert: [expert], amateur: [amateur])[0]
        #expect(out.map { $0 > -.infinity } == keep)
        #expect(keep.contains(true) && (alpha < 0.01 || keep.contains(false)))
    }

    @Test func onlyUncertainRowsAreContrasted() throws {
        // Row 0 is confident (one token dominates), row 1 flat.
        let confident: [Float] = [9, 0, 0, 0, 0], flat: [Float] = [0.1, 0, 0.2, -0.1, 0]
        let amateur: [[Float]] = [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]]
        func entropy(_ row: [Float]) -> Double { -Self.probabilities(row).reduce(0) { $0 + $1 * Foundation.log($1) } }
        let bound = 1.0
        #expect(entropy(confident) < bound && entropy(flat) > bound)
        let byEntropy = Self.op(selection: .entropyAbove(bound))
        let full = Self.op()
        let contrasted = try Self.run(full, expert: [confident, flat], amateur: amateur)
        let selective = try Self.run(byEntropy, expert: [confident, flat], amateur: amateur)
        #expect(selective[0] == confident, "a confident row passes through, uncut")
        #expect(selective[1] == contrasted[1])
        #expect(contrasted[0] != confident)

        let topBound = 0.5
        #expect(Self.probabilities(confident).max()! >= topBound && Self.probabilities(flat).max()! < topBound)
        let byTop = Self.op(selection: .maxProbabilityBelow(topBound))
        #expect(try Self.run(byTop, expert: [confident, flat], amateur: amateur) == [confident, contrasted[1]])
    }

    @Test func refusesMismatchedInputs() throws {
        let op = Self.op()
        let row: [Float] = [1, 2, 3, 4, 5]
        #expect(throws: OperatorError.self) { try Self.run(op, expert: [row], amateur: [row + [0]]) }
        var tree = TokenTree()
        var other = TokenTree()
        try tree.append(3, parent: TokenTree.root, source: "t")
        try other.append(4, parent: TokenTree.root, source: "t")
        do {
            _ = try Self.run(op, expert: [row, row], amateur: [row, row], tree: tree, amateurTree: other)
            Issue.record("different trees were combined")
        } catch let error as OperatorError {
            #expect(error.code == .shapeMismatch && error.location == "amateur")
        }
        // An amateur that rules out a plausible token would give it +inf.
        #expect(throws: OperatorError.self) { try Self.run(op, expert: [row], amateur: [[0, 0, 0, 0, -.infinity]]) }
        #expect(throws: OperatorError.self) { try Self.run(op, expert: [row], amateur: [[0, .nan, 0, 0, 0]]) }
    }

    static func compile(_ contrast: String, weakTree: String = "") -> GraphCompiler.Compilation {
        GraphCompiler(registry: OperatorRegistry.all).compile(source: """
        graph: c
        models:
          expert: { path: e }
          amateur: { path: a }
        nodes:
          small: { op: draft.model, model: amateur, tokens: 2 }
          strong: { op: score, model: expert, tree: small }
          weak: { op: score, model: amateur\(weakTree) }
          contrasted: { op: contrast, expert: strong, amateur: weak\(contrast) }
          pick: { op: sample, from: contrasted, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        """, file: "g.yaml")
    }

    @Test func compilerChecksTheNode() {
        #expect(Self.compile("", weakTree: ", tree: small").diagnostics.isEmpty, "\(Self.compile("", weakTree: ", tree: small").rendered)")
        #expect(Self.compile("").rendered.contains("g.yaml:9:"), "the amateur scores the root only: \(Self.compile("").rendered)")
        #expect(Self.compile("").rendered.contains("same tree"))
        #expect(Self.compile(", contrast_when: entropy_above", weakTree: ", tree: small").rendered.contains("needs a threshold"))
        #expect(Self.compile(", threshold: 1", weakTree: ", tree: small").rendered.contains("only applies"))
        #expect(Self.compile(", contrast_when: max_prob_below, threshold: 1.5", weakTree: ", tree: small").rendered.contains("threshold"))
        #expect(Self.compile(", formula: difference, beta: 1", weakTree: ", tree: small").rendered.contains("has no beta"))
    }
}
