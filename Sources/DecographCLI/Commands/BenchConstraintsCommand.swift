import Support
import Constraints
import Engine
import Foundation
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
            var workloads = ConstraintWorkload.all
            if let only = args.value("workload") {
                guard let workload = ConstraintWorkload.named(only) else {
                    throw UsageError("Unknown workload '\(only)' for '--workload'.", usage: args.usageLine)
                }
                workloads = [workload]
            }
            let report = try ConstraintBenchmark.run(workloads: workloads, repeats: repeats, vocabulary: vocabulary) {
                tokenizer.encode($0, addSpecialTokens: false).map(Int.init)
            }
            context.write(args.flag("json") ? report.json + "\n" : report.text)
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

extension ConstraintBenchmark.Report {
    private static func percentile(_ v: [Double], _ p: Double) -> Double { Percentile.of(p, sorted: v.sorted()) }

    /// One line per workload, then the totals and the trie-walk speedup.
    var text: String {
        let p = Self.percentile
        var out = "vocabulary \(vocabularySize) tokens, \(trieNodes) trie nodes; one thread\n"
        for w in workloads {
            out += String(format: "%-10@ %-7@ compile p50 %8.1f µs | mask p50 %7.1f µs  p99 %8.1f µs  max %8.1f µs | warm p99 %8.1f µs | next grammar p99 %8.1f µs  (%d tokens)",
                          w.name, w.kind.rawValue, p(w.compiles, 0.5), p(w.masks, 0.5), p(w.masks, 0.99),
                          w.masks.max() ?? 0, w.warm.isEmpty ? Double.nan : p(w.warm, 0.99), p(w.next, 0.99), w.tokens) + "\n"
        }
        let all = totals
        out += String(format: "all: mask p50 %.1f µs, p99 %.1f µs, max %.1f µs, warm p99 %.1f µs, next grammar p99 %.1f µs; compile p50 %.1f µs",
                      p(all.masks, 0.5), p(all.masks, 0.99), all.masks.max() ?? 0,
                      all.warm.isEmpty ? Double.nan : p(all.warm, 0.99), p(all.next, 0.99), p(all.compiles, 0.5)) + "\n"
        out += String(format: "trie walk vs checking each token separately: %.0f× faster (same steps, same run)", trieSpeedup) + "\n"
        return out
    }

    /// One JSON object: the totals, then each workload's figures.
    var json: String {
        let p = Self.percentile
        let items = workloads.map { w in
            "{\"name\":\"\(w.name)\",\"kind\":\"\(w.kind.rawValue)\",\"compile_p50_us\":\(p(w.compiles, 0.5)),\"mask_p50_us\":\(p(w.masks, 0.5)),\"mask_p99_us\":\(p(w.masks, 0.99)),\"mask_max_us\":\(w.masks.max() ?? 0),\"mask_warm_p99_us\":\(w.warm.isEmpty ? "null" : String(p(w.warm, 0.99))),\"next_grammar_p99_us\":\(p(w.next, 0.99)),\"tokens\":\(w.tokens)}"
        }
        let all = totals
        return "{\"vocabulary\":\(vocabularySize),\"trie_nodes\":\(trieNodes),\"mask_p50_us\":\(p(all.masks, 0.5)),\"mask_p99_us\":\(p(all.masks, 0.99)),\"mask_max_us\":\(all.masks.max() ?? 0),\"mask_warm_p99_us\":\(all.warm.isEmpty ? "null" : String(p(all.warm, 0.99))),\"next_grammar_p99_us\":\(p(all.next, 0.99)),\"compile_p50_us\":\(p(all.compiles, 0.5)),\"trie_vs_per_token_speedup\":\(trieSpeedup),\"workloads\":[\(items.joined(separator: ","))]}"
    }

    /// Every workload's samples together.
    private var totals: (masks: [Double], warm: [Double], next: [Double], compiles: [Double]) {
        (workloads.flatMap(\.masks), workloads.flatMap(\.warm), workloads.flatMap(\.next), workloads.flatMap(\.compiles))
    }
}
