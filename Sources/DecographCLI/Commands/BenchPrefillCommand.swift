import Foundation
import Kernels
import ModelRuntime
import Support

extension CommandSpec {
    /// `decograph bench prefill`: prefill speed and peak memory by prompt length.
    static let benchPrefill = CommandSpec(
        "prefill", abstract: "Prefill tokens/s and peak resident memory by prompt length.",
        discussion: """
            Prefills one prompt per length (shortest first) and prints tokens/s, its ratio to the shortest \
            length's (measured in the same run: attention's own work grows with length, nothing else \
            should), and the peak resident memory beyond what the process held before and the KV cache \
            the prompt fills (work space; it should stay constant). The KV cache is sized for the longest \
            prompt. Use --model for a Hugging Face model directory or --random for a random-weight shape.
            """,
        options: RuntimeBenchmark.modelOptions + [
            .value("lengths", "N,N,…", help: "Prompt lengths in tokens (default 512,2048,8192,32768)."),
            .value("threads", "N", help: "Threads (default: all cores)."),
            .value("pass-tokens", "N", help: "Most tokens one forward pass stacks (default \(Model.defaultPassTokens))."),
            .flag("json", help: "Print one JSON object."),
        ],
        body: { args, context in
            let threads = try args.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
            let lengths = try args.intList("lengths", in: 1...(RotaryEmbedding.maximumExactPosition - 1)) ?? [512, 2048, 8192, 32768]
            let model = try RuntimeBenchmark.loadModel(args: args, pool: ComputePool(threadCount: threads),
                                                       kvCacheTokens: (lengths.max() ?? 0) + 64, context: context)
            if let passTokens = try args.int("pass-tokens", in: 1...1_000_000) { model.passTokens = passTokens }
            let rows = try PrefillBenchmark.run(model: model, lengths: lengths) { context.progress($0) }
            context.endProgress()
            let base = rows.first?.tokensPerSecond ?? 1
            if args.flag("json") {
                let items = rows.map {
                    "{\"tokens\":\($0.tokens),\"seconds\":\($0.seconds),\"tokens_per_second\":\($0.tokensPerSecond),\"ratio_to_first\":\(base / $0.tokensPerSecond),\"peak_resident_bytes\":\($0.peakResident),\"resident_before_bytes\":\($0.residentBefore),\"kv_bytes\":\($0.kvBytes),\"overhead_bytes\":\($0.overhead)}"
                }
                var name = ""
                JSONString.append(model.name, to: &name)
                context.print("{\"model\":\(name),\"threads\":\(threads),\"pass_tokens\":\(model.passTokens),\"rows\":[\(items.joined(separator: ","))]}")
            } else {
                context.print("model: \(model.name); \(threads) thread(s), passes of \(model.passTokens) tokens")
                context.print("tokens   prefill tok/s   slower than first   peak RSS   KV cache   work space")
                for r in rows {
                    context.print(String(format: "%6d   %13.1f   %16.2f×   %5.0f MB   %5.0f MB   %7.1f MB", r.tokens, r.tokensPerSecond,
                                         base / r.tokensPerSecond, Double(r.peakResident) / 1e6, Double(r.kvBytes) / 1e6,
                                         Double(r.overhead) / 1e6))
                }
            }
            return 0
        })
}

extension RuntimeBenchmark {
    /// The options that choose a benchmark's model (`loadModel`).
    static let modelOptions: [OptionSpec] = [
        .value("model", "PATH", help: "A Hugging Face model directory or a GGUF file."),
        .value("random", "SHAPE", help: "A random-weight model: \(randomShapes.keys.sorted().joined(separator: " or "))."),
        .value("dtype", "TYPE", help: "Weight precision of a --random model: bf16 (default), f16, f32, or a block-quantized type (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)."),
        .value("activations", "TYPE", help: "What products with bf16 weights read: auto (default: bf16 for bf16 weights on a CPU with AVX-512 BF16, else f32), f32 (exact) or bf16 (rounded)."),
    ]

    /// The model of a benchmark command's `--model DIR` or `--random SHAPE [--dtype T]`, with
    /// `--activations`.
    static func loadModel(args: ParsedArguments, pool: ComputePool, kvCacheTokens: Int? = nil,
                          context: CommandContext) throws -> Model {
        let activations = try args.choice("activations", as: ActivationPrecision.self) ?? .auto
        func cacheBytes(_ config: ModelConfig) -> Int {
            guard let tokens = kvCacheTokens else { return Model.defaultKVCacheBytes }
            return max(Model.defaultKVCacheBytes, tokens * 2 * config.layerCount * config.kvHeadCount * config.headDim * 4)
        }
        switch (args.value("model"), args.value("random")) {
        case (let dir?, nil):
            let config = try Model.configuration(at: dir)
            return try Model(directory: dir, kvCacheBytes: cacheBytes(config), pool: pool, activations: activations)
        case (nil, let shape?):
            guard let config = randomShapes[shape] else {
                throw UsageError("Unknown shape '\(shape)' for '--random' (expected \(randomShapes.keys.sorted().joined(separator: ", "))).")
            }
            let dtypeName = args.value("dtype") ?? "bf16"
            guard let dtype = DType(name: dtypeName) else {
                throw UsageError("Unknown dtype '\(dtypeName)' for '--dtype' (expected \(DType.allCases.map(\.description).joined(separator: ", "))).")
            }
            context.progress("building random \(shape) model (\(dtype))")
            return try Model.random(config: config, dtype: dtype, kvCacheBytes: cacheBytes(config), pool: pool,
                                    activations: activations)
        default:
            throw UsageError("Give exactly one of '--model DIR' or '--random SHAPE'.", usage: args.usageLine)
        }
    }
}
