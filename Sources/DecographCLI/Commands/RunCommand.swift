import Engine
import Foundation
import Graph
import Support

extension CommandSpec {
    /// `decograph run GRAPH --prompt TEXT`: runs a graph, streaming its output.
    static let run = CommandSpec(
        "run",
        abstract: "Run a graph on a prompt, streaming the generated text to standard output.",
        discussion: """
            Give the prompt as text (--prompt or --prompt-file, encoded with the target model's tokenizer) or as \
            token ids (--prompt-ids "1 2 3"). Text streams to standard output as each step commits; with --jsonl \
            each step is one JSON object instead (step, tokens, text, accepted, proposed, finish_reason, and closing_tokens when a constraint closed an output the budget cut: finish_reason closed). The \
            metrics summary (tokens, steps, target calls, MAT, acceptance by draft position, time per node) goes \
            to standard error. Without a tokenizer the token ids are printed instead of text.
            """,
        options: [
            .value("prompt", "TEXT", help: "The prompt text."),
            .value("prompt-file", "FILE", help: "A file holding the prompt text."),
            .value("prompt-ids", "IDS", help: "The prompt as token ids separated by spaces or commas."),
            .value("max-tokens", "N", help: "Most new tokens (overrides the graph's limits.max_new_tokens)."),
            .value("seed", "S", help: "Seed of every sampling node (default 0)."),
            .flag("jsonl", help: "Print one JSON object per step instead of text."),
            .value("trace", "FILE", help: "Write a Chrome trace-event JSON of every node run."),
            .value("kv-cache-mb", "MIB", help: "KV-cache memory of every model the graph loads, in MiB (overrides the graph's kv_cache_mb; bounds prompt plus output length)."),
        ],
        positionals: [PositionalSpec("GRAPH", help: "The graph file.")],
        body: { arguments, context in
            let sources = ["prompt", "prompt-file", "prompt-ids"].filter { arguments.value($0) != nil }
            guard sources.count == 1 else {
                throw UsageError(sources.isEmpty ? "Missing the prompt: give one of '--prompt', '--prompt-file' or '--prompt-ids'."
                                                 : "Give only one of '--prompt', '--prompt-file' and '--prompt-ids'.",
                                 usage: arguments.usageLine)
            }
            let maxTokens = try arguments.int("max-tokens", in: 1...Int(Int32.max))
            if let mib = try arguments.int("kv-cache-mb", in: 1...(1 << 30)) {
                ResourceRegistry.shared.kvCacheOverride.store(mib << 20, ordering: .relaxed)
            }
            let seed: UInt64
            if let text = arguments.value("seed") {
                guard let s = UInt64(text) else {
                    throw UsageError("The value '\(text)' is invalid for '--seed': expected an integer in 0...\(UInt64.max).", usage: arguments.usageLine)
                }
                seed = s
            } else {
                seed = 0
            }
            var ids: [Int32]?
            if let text = arguments.value("prompt-ids") {
                let words = text.split { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }
                let parsed = words.map { Int32($0) }
                guard !words.isEmpty, parsed.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                    throw UsageError("The value '\(text)' is invalid for '--prompt-ids': expected non-negative token ids separated by spaces.", usage: arguments.usageLine)
                }
                ids = parsed.map { $0! }
            }
            var promptText = arguments.value("prompt")
            if let file = arguments.value("prompt-file") {
                if let kind = RegularFile.otherKind(at: file) {
                    throw CommandFailure("the prompt file '\(file)' is \(kind), not a regular file")
                }
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure("cannot read the prompt file '\(file)'")
                }
                guard let text = TextInput.utf8(data) else {
                    throw CommandFailure("the prompt file '\(file)' is not valid UTF-8")
                }
                promptText = text
            }

            guard let plan = DecographCLI.compileGraph(arguments.positionals[0], context: context) else { return 1 }
            do {
                return try runPlan(plan, arguments: arguments, ids: ids, promptText: promptText, seed: seed,
                                   maxTokens: maxTokens, context: context)
            } catch let error as EngineError {
                // Located at the graph node or model at fault, in the compiler's diagnostic shape.
                context.printError(error.description)
                return 1
            }
        })

    /// Runs a compiled plan for `decograph run`.
    private static func runPlan(_ plan: Plan, arguments: ParsedArguments, ids: [Int32]?, promptText: String?,
                                seed: UInt64, maxTokens: Int?, context: CommandContext) throws -> Int32 {
            let session = try Session(plan: plan)
            let prompt = try ids ?? session.encode(promptText ?? "")
            for warning in try session.admit(promptTokens: prompt.count, maxNewTokens: maxTokens) { context.printError(warning) }
            let trace = arguments.value("trace").map { _ in TraceRecorder() }
            let jsonl = arguments.flag("jsonl")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let result = try session.run(prompt: prompt, maxNewTokens: maxTokens, seed: seed, trace: trace) { event in
                if jsonl {
                    if let data = try? encoder.encode(event) { context.print(String(decoding: data, as: UTF8.self)) }
                } else if session.tokenizer != nil {
                    context.write(event.text)
                } else if !event.tokens.isEmpty {
                    context.write(event.tokens.map(String.init).joined(separator: " ") + " ")
                }
            }
            if !jsonl { context.print() }
            if let path = arguments.value("trace"), let trace {
                do {
                    try trace.json().write(to: URL(fileURLWithPath: path))
                } catch {
                    throw CommandFailure("cannot write the trace to '\(path)': \(error.localizedDescription)")
                }
            }
            let closing = result.finishReason == "closed" ? " (\(result.metrics.closingTokens) tokens appended to close the output)" : ""
            context.printError("finished: \(result.finishReason)\(closing)")
            context.printError(result.metrics.summary)
            return 0
    }
}
