import Foundation
import Kernels
import ModelRuntime

extension CommandSpec {
    /// `decograph bench runtime`: decode/prefill/verify speed against the probed bandwidth bound.
    static let benchRuntime = CommandSpec(
        "runtime", abstract: "Decode, prefill and verification speed of a model, against the probed memory bandwidth.",
        discussion: """
            Probes this machine's memory-read bandwidth, then measures decode tokens/s (per thread count) \
            and the fraction of the bandwidth bound it reaches, prefill tokens/s, and the cost of verifying \
            k chained tokens relative to decoding one, next to the least that can cost on this machine \
            (k tokens of weight multiply-adds at the probed multiply-add rate, interleaved with the \
            verification runs). Use --model for a Hugging Face model directory or \
            --random for a random-weight model of a standard shape.
            """,
        options: RuntimeBenchmark.modelOptions + [
            .value("threads", "N", help: "Largest thread count (default: all cores)."),
            .value("decode-steps", "N", help: "Timed decode steps per thread count (default 16)."),
            .value("context", "N", help: "Cached tokens before the decode and verification measurements (default 64): decode at depth, as llama-bench's -d."),
            .value("competitors", "N", help: "Also measure decode with N competing CPU-bound processes running, against the fair-share slowdown ((threads + N) / cores)."),
            .flag("json", help: "Print one JSON object."),
        ],
        body: { args, context in
            let threads = try args.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
            let pool = ComputePool(threadCount: threads)
            var options = RuntimeBenchmark.Options(threads: threads)
            options.decodeSteps = try args.int("decode-steps", in: 1...10_000) ?? options.decodeSteps
            options.context = try args.int("context", in: 1...1_000_000) ?? options.context
            // Room for the context, the decode steps and the longest verification chain.
            let model = try RuntimeBenchmark.loadModel(args: args, pool: pool,
                                                       kvCacheTokens: options.context + options.decodeSteps + 64,
                                                       context: context)
            let report = try RuntimeBenchmark.run(model: model, options: options) { context.progress($0) }
            context.endProgress()
            context.write(args.flag("json") ? report.json + "\n" : report.text)
            if let competitors = try args.int("competitors", in: 1...64) {
                let load = try CompetingLoad.measure(model: model, threadCounts: options.threadCounts, competitors: competitors,
                                                     progress: { context.progress($0) })
                context.endProgress()
                context.write(competingLoadText(load, competitors: competitors))
            }
            return 0
        })
}

extension RuntimeBenchmark.Report {
    var text: String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        var out = "model: \(model)\nweights: \(dtype), \(f(Double(weightBytes) / 1e6, 1)) MB streamed per pass; activations: \(activations); kernels: \(isa)\n"
        for d in decode {
            out += "decode after \(context) tokens, \(d.threads) thread(s): \(f(d.tokensPerSecond)) tok/s; bandwidth probe \(f(d.bandwidth / 1e9, 1)) GB/s → bound \(f(d.boundTokensPerSecond)) tok/s; reaches \(f(d.fractionOfBound * 100, 1)) % of bound\n"
        }
        out += "prefill: \(f(prefillTokensPerSecond, 1)) tok/s\n"
        out += "verify k chained tokens / decode 1 token (\(f(decodeSeconds * 1e3, 2)) ms):"
        for v in verifyCost { out += " k=\(v.k): \(f(v.ratio))×" }
        out += "\nmultiply-add probe: \(f(multiplyAddsPerSecond / 1e9, 1)) G/s → verifying k tokens costs at least:"
        for v in verifyFloor { out += " k=\(v.k): \(f(v.ratio))×" }
        return out + "\n"
    }

    var json: String {
        let object: [String: Any] = [
            "model": model, "dtype": dtype, "activations": activations, "weight_bytes_per_pass": weightBytes, "isa": isa, "context": context,
            "decode": decode.map { d in
                ["threads": d.threads, "bandwidth_bytes_per_s": d.bandwidth, "tokens_per_s": d.tokensPerSecond,
                 "bound_tokens_per_s": d.boundTokensPerSecond, "fraction_of_bound": d.fractionOfBound] as [String: Any]
            },
            "prefill_tokens_per_s": prefillTokensPerSecond, "decode_seconds": decodeSeconds,
            "verify_cost": Dictionary(uniqueKeysWithValues: verifyCost.map { ("\($0.k)", $0.ratio) }),
            "multiply_adds_per_s": multiplyAddsPerSecond, "multiply_adds_per_token": multiplyAddsPerToken,
            "verify_floor": Dictionary(uniqueKeysWithValues: verifyFloor.map { ("\($0.k)", $0.ratio) }),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// `bench runtime --competitors N`'s lines: each thread count's step time alone and loaded, against fair share.
func competingLoadText(_ rows: [CompetingLoad.Row], competitors: Int) -> String {
    var lines = ["decode under \(competitors) competing processes (\(ProcessInfo.processInfo.activeProcessorCount) cores):"]
    for r in rows {
        lines.append(String(format: "  %d thread(s): step %.2f ms alone, %.2f ms loaded: %.2f× slower, fair share %.2f×, %.2f× of fair share",
                            r.threads, r.aloneSeconds * 1e3, r.loadedSeconds * 1e3, r.slowdown, r.fairSlowdown, r.slowdown / r.fairSlowdown))
    }
    return lines.joined(separator: "\n") + "\n"
}
