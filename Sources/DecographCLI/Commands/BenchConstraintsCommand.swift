import Support
import Constraints
import Dispatch
import Foundation
import Operators
import Engine
import Tokenization

extension CommandSpec {
    /// `decograph bench constraints`: grammar compile time and per-token mask time on a large vocabulary.
    static let benchConstraints = CommandSpec(
        "constraints", abstract: "Constraint compile time and per-token mask time (p50/p99/max) on a large BPE vocabulary.",
        discussion: """
            Compiles typical JSON Schemas, a regex and a GBNF grammar, then walks valid outputs token by \
            token (as the tokenizer encodes them), computing the full vocabulary mask before each token. Prints compile-time and mask-time percentiles, and \
            the ratio of the trie walk to checking every token separately, measured in the same run. \
            Repeats share the grammar's lexeme-mask cache (as sequences of one server do): the first one \
            fills it, and "warm" percentiles cover the later ones. "next grammar" is one more walk of the \
            outputs under a freshly compiled grammar (a new schema object, an empty per-grammar cache): \
            what a server pays for each new schema once lexeme masks are shared through the vocabulary. \
            Train the default tokenizer with tools/constraints/train_bench_tokenizer.py.
            """,
        options: [
            .value("tokenizer", "PATH", help: "Directory with tokenizer.json, or a GGUF file (default .build/bench-tokenizer)."),
            .value("repeats", "N", help: "Compile repetitions and output walks per workload (default 5)."),
            .value("workload", "NAME", help: "Run only this workload (person, orders, free-text, arithmetic)."),
            .flag("json", help: "Print one JSON object."),
        ],
        body: { args, context in
            let directory = args.value("tokenizer") ?? ".build/bench-tokenizer"
            let repeats = try args.int("repeats", in: 1...1000) ?? 5
            let (tokenizer, vocabulary) = try loadTokenizer(directory: directory)
            func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
            func percentile(_ v: [Double], _ p: Double) -> Double { Percentile.of(p, sorted: v.sorted()) }
            var lines: [String] = [], json: [String] = []
            var allMasks: [Double] = [], allWarm: [Double] = [], allNext: [Double] = [], allCompiles: [Double] = []
            var naiveSeconds = 0.0, trieSeconds = 0.0
            let only = args.value("workload")
            if let only, !ConstraintWorkloads.all.contains(where: { $0.name == only }) {
                throw UsageError("Unknown workload '\(only)' for '--workload'.", usage: args.usageLine)
            }
            for w in ConstraintWorkloads.all where only == nil || w.name == only {
                var compiles: [Double] = []
                var grammar: Grammar? = nil
                for _ in 0..<repeats {
                    let t0 = now()
                    grammar = try ConstraintWorkloads.grammar(w)
                    compiles.append(Double(now() - t0) / 1e3)
                }
                let base = Constraint(grammar: grammar!, vocabulary: vocabulary)
                var masks: [Double] = [], warm: [Double] = [], tokens = 0
                for r in 0..<repeats {
                    for output in w.outputs {
                        let ids = tokenizer.encode(output, addSpecialTokens: false).map(Int.init)
                        var c = base.restarted()
                        for (k, t) in ids.enumerated() {
                            let t0 = now()
                            let m = c.mask()
                            let dt = Double(now() - t0)
                            masks.append(dt / 1e3)
                            if r > 0 { warm.append(dt / 1e3) }
                            guard m.contains(t), c.advance(t) else {
                                throw CommandFailure("workload '\(w.name)': token \(k) of a valid output was masked out")
                            }
                            tokens += 1
                            // The same-run baseline: checking each token separately, on a few steps.
                            if r == 0 && k % 8 == 0 {
                                let t1 = now()
                                var count = 0
                                for id in 0..<vocabulary.count where c.allows(id) { count += 1 }
                                naiveSeconds += Double(now() - t1) / 1e9
                                let t2 = now()
                                _ = c.mask()
                                trieSeconds += Double(now() - t2) / 1e9
                            }
                        }
                        guard c.isAccepting else { throw CommandFailure("workload '\(w.name)': valid output not accepted") }
                    }
                }
                // A fresh grammar's first sequence: only the vocabulary's shared lexeme masks carry over.
                var next: [Double] = []
                let fresh = Constraint(grammar: try ConstraintWorkloads.grammar(w), vocabulary: vocabulary)
                for output in w.outputs {
                    var c = fresh.restarted()
                    for t in tokenizer.encode(output, addSpecialTokens: false).map(Int.init) {
                        let t0 = now()
                        _ = c.mask()
                        next.append(Double(now() - t0) / 1e3)
                        c.advance(t)
                    }
                }
                allNext += next
                allMasks += masks
                allWarm += warm
                allCompiles += compiles
                let warmP99 = warm.isEmpty ? Double.nan : percentile(warm, 0.99)
                lines.append(String(format: "%-10@ %-7@ compile p50 %8.1f µs | mask p50 %7.1f µs  p99 %8.1f µs  max %8.1f µs | warm p99 %8.1f µs | next grammar p99 %8.1f µs  (%d tokens)",
                                    w.name, w.kind, percentile(compiles, 0.5), percentile(masks, 0.5), percentile(masks, 0.99),
                                    masks.max() ?? 0, warmP99, percentile(next, 0.99), tokens))
                json.append("{\"name\":\"\(w.name)\",\"kind\":\"\(w.kind)\",\"compile_p50_us\":\(percentile(compiles, 0.5)),\"mask_p50_us\":\(percentile(masks, 0.5)),\"mask_p99_us\":\(percentile(masks, 0.99)),\"mask_max_us\":\(masks.max() ?? 0),\"mask_warm_p99_us\":\(warm.isEmpty ? "null" : String(warmP99)),\"next_grammar_p99_us\":\(percentile(next, 0.99)),\"tokens\":\(tokens)}")
            }
            let speedup = naiveSeconds / max(trieSeconds, 1e-9)
            if args.flag("json") {
                context.print("{\"vocabulary\":\(vocabulary.count),\"trie_nodes\":\(vocabulary.trieNodeCount),\"mask_p50_us\":\(percentile(allMasks, 0.5)),\"mask_p99_us\":\(percentile(allMasks, 0.99)),\"mask_max_us\":\(allMasks.max() ?? 0),\"mask_warm_p99_us\":\(allWarm.isEmpty ? "null" : String(percentile(allWarm, 0.99))),\"next_grammar_p99_us\":\(percentile(allNext, 0.99)),\"compile_p50_us\":\(percentile(allCompiles, 0.5)),\"trie_vs_per_token_speedup\":\(speedup),\"workloads\":[\(json.joined(separator: ","))]}")
            } else {
                context.print("vocabulary \(vocabulary.count) tokens, \(vocabulary.trieNodeCount) trie nodes; one thread")
                for l in lines { context.print(l) }
                context.print(String(format: "all: mask p50 %.1f µs, p99 %.1f µs, max %.1f µs, warm p99 %.1f µs, next grammar p99 %.1f µs; compile p50 %.1f µs",
                                     percentile(allMasks, 0.5), percentile(allMasks, 0.99), allMasks.max() ?? 0,
                                     allWarm.isEmpty ? Double.nan : percentile(allWarm, 0.99), percentile(allNext, 0.99),
                                     percentile(allCompiles, 0.5)))
                context.print(String(format: "trie walk vs checking each token separately: %.0f× faster (same steps, same run)", speedup))
            }
            return 0
        })

    /// Loads the tokenizer in `directory` and the vocabulary masks use: each token's bytes (special
    /// tokens emit none, so they are never allowed) and the EOS id (`tokenizer_config.json`'s
    /// `eos_token`, else a special token with a conventional end name such as `<|endoftext|>`).
    static func loadTokenizer(directory: String) throws -> (Tokenizer, TokenVocabulary) {
        let tokenizer: Tokenizer
        do {
            tokenizer = try TokenizerLoader.require(at: directory)
        } catch {
            throw CommandFailure("\(error) (train one for benchmarks with tools/constraints/train_bench_tokenizer.py --out DIR)")
        }
        return (tokenizer, TokenVocabulary(tokenizer: tokenizer))
    }
}
