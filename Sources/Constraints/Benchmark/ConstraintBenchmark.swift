import Dispatch

/// `decograph bench constraints`: compile time and per-token mask time of workloads on a vocabulary.
///
/// Each workload is compiled `repeats` times, then its outputs are walked token by token `repeats`
/// times, the full mask computed before each token. Repeats share the grammar's lexeme-mask cache
/// (as sequences of one server do): the first fills it, "warm" covers the later ones. "Next
/// grammar" is one more walk under a freshly compiled grammar, with only the vocabulary's shared
/// lexeme masks carried over. On every eighth step of the first walk the mask is also computed by
/// checking each token separately, the same-run baseline of the trie walk.
public enum ConstraintBenchmark {
    /// Steps of the first walk between two timings of the per-token baseline (it costs a full pass
    /// over the vocabulary per step, so every step would dominate the run).
    static let baselineStride = 8

    /// One workload's figures; times in microseconds.
    public struct WorkloadResult: Sendable {
        /// The workload's name.
        public var name: String
        /// How its source is written.
        public var kind: ConstraintWorkload.Kind
        /// Compile times.
        public var compiles: [Double]
        /// Mask times of every walk.
        public var masks: [Double]
        /// Mask times of the walks after the first.
        public var warm: [Double]
        /// Mask times under a freshly compiled grammar.
        public var next: [Double]
        /// Tokens walked (all repeats).
        public var tokens: Int
    }

    /// The figures of a run.
    public struct Report: Sendable {
        /// Tokens in the vocabulary.
        public var vocabularySize: Int
        /// Nodes of the vocabulary's token trie.
        public var trieNodes: Int
        /// Per workload, in the order given.
        public var workloads: [WorkloadResult]
        /// Seconds spent checking each token separately, on the baseline steps.
        public var perTokenSeconds: Double
        /// Seconds the trie walk took on the same steps.
        public var trieSeconds: Double

        /// How many times faster the trie walk is than checking each token separately.
        public var trieSpeedup: Double { perTokenSeconds / max(trieSeconds, 1e-9) }
    }

    /// A valid output of a workload that its constraint refused: a bug in the constraint.
    public struct Refusal: Error, CustomStringConvertible {
        /// What was refused, and in which workload.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// Runs the benchmark.
    /// - Parameters:
    ///   - workloads: what to compile and walk.
    ///   - repeats: compile repetitions and output walks per workload.
    ///   - vocabulary: the vocabulary masks are computed over.
    ///   - encode: the tokenizer: an output's token ids.
    /// - Returns: the figures.
    /// - Throws: `ConstraintError` when a workload does not compile, `Refusal` when a valid output is refused.
    public static func run(workloads: [ConstraintWorkload], repeats: Int, vocabulary: TokenVocabulary,
                           encode: (String) -> [Int]) throws -> Report {
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        var report = Report(vocabularySize: vocabulary.count, trieNodes: vocabulary.trieNodeCount, workloads: [],
                            perTokenSeconds: 0, trieSeconds: 0)
        for w in workloads {
            var compiles: [Double] = []
            var grammar: Grammar? = nil
            for _ in 0..<repeats {
                let t0 = now()
                grammar = try w.grammar()
                compiles.append(Double(now() - t0) / 1e3)
            }
            let base = Constraint(grammar: grammar!, vocabulary: vocabulary)
            var masks: [Double] = [], warm: [Double] = [], tokens = 0
            for r in 0..<repeats {
                for output in w.outputs {
                    let ids = encode(output)
                    var c = base.restarted()
                    for (k, t) in ids.enumerated() {
                        let t0 = now()
                        let m = c.mask()
                        let dt = Double(now() - t0)
                        masks.append(dt / 1e3)
                        if r > 0 { warm.append(dt / 1e3) }
                        guard m.contains(t), c.advance(t) else {
                            throw Refusal(message: "workload '\(w.name)': token \(k) of a valid output was masked out")
                        }
                        tokens += 1
                        if r == 0 && k % baselineStride == 0 {
                            let t1 = now()
                            var count = 0
                            for id in 0..<vocabulary.count where c.allows(id) { count += 1 }
                            report.perTokenSeconds += Double(now() - t1) / 1e9
                            let t2 = now()
                            _ = c.mask()
                            report.trieSeconds += Double(now() - t2) / 1e9
                        }
                    }
                    guard c.isAccepting else { throw Refusal(message: "workload '\(w.name)': valid output not accepted") }
                }
            }
            var next: [Double] = []
            let fresh = Constraint(grammar: try w.grammar(), vocabulary: vocabulary)
            for output in w.outputs {
                var c = fresh.restarted()
                for t in encode(output) {
                    let t0 = now()
                    _ = c.mask()
                    next.append(Double(now() - t0) / 1e3)
                    c.advance(t)
                }
            }
            report.workloads.append(WorkloadResult(name: w.name, kind: w.kind, compiles: compiles, masks: masks, warm: warm,
                                                   next: next, tokens: tokens))
        }
        return report
    }
}

