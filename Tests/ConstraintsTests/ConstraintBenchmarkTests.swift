import Testing
@testable import Constraints

/// `ConstraintBenchmark` on the synthetic vocabulary of the mask tests: the shared workloads'
/// outputs are accepted, the figures count what was walked, and a refused output is an error.
@Suite struct ConstraintBenchmarkTests {
    static let vocabulary = MaskExactnessTests.vocabulary(horizon: TokenVocabulary.defaultMaskHorizon)

    static func encode(_ text: String) -> [Int] {
        vocabulary.greedySegmentation(Array(text.utf8)) ?? []
    }

    @Test func walksEveryWorkloadsOutputs() throws {
        let repeats = 2
        let report = try ConstraintBenchmark.run(workloads: ConstraintWorkload.all, repeats: repeats,
                                                 vocabulary: Self.vocabulary, encode: Self.encode)
        #expect(report.workloads.map(\.name) == ConstraintWorkload.all.map(\.name))
        for (w, result) in zip(ConstraintWorkload.all, report.workloads) {
            let tokens = w.outputs.map { Self.encode($0).count }.reduce(0, +)
            #expect(tokens > 0, "\(w.name)")
            #expect(result.tokens == repeats * tokens, "\(w.name)")
            #expect(result.masks.count == repeats * tokens && result.warm.count == (repeats - 1) * tokens, "\(w.name)")
            #expect(result.next.count == tokens && result.compiles.count == repeats, "\(w.name)")
        }
        #expect(report.vocabularySize == Self.vocabulary.count && report.perTokenSeconds > 0)
    }

    @Test func refusedOutputIsAnError() throws {
        let wrong = ConstraintWorkload(name: "digits", kind: .regex, source: "[0-9]+", outputs: ["12a"])
        #expect(throws: ConstraintBenchmark.Refusal.self) {
            try ConstraintBenchmark.run(workloads: [wrong], repeats: 1, vocabulary: Self.vocabulary, encode: Self.encode)
        }
    }
}
