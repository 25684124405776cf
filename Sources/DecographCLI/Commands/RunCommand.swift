import ChatTemplates
import Engine
import Foundation
import Graph
import Operators
import Support

extension CommandSpec {
    /// `decograph run GRAPH --prompt TEXT`: runs a graph, streaming its output.
    static let run = CommandSpec(
        "run",
        abstract: "Run a graph on a prompt, streaming the generated text to standard output.",
        discussion: """
            Give the prompt as text (--prompt or --prompt-file, encoded with the target model's tokenizer), as \
            token ids (--prompt-ids "1 2 3"), or as a chat for instruct models: --chat "…" [--system "…"] or \
            --messages FILE.json, rendered with the target's chat template (with the generation prompt) and then \
            encoded. Text streams to standard output as each step commits; with --jsonl \
            each step is one JSON object instead (step, tokens, text, accepted, proposed, finish_reason, and closing_tokens when a constraint closed an output the budget cut: finish_reason closed). The \
            metrics summary (tokens, steps, target calls, MAT, acceptance by draft position, time per node) goes \
            to standard error. Without a tokenizer the token ids are printed instead of text.
            """,
        options: [
            .value("prompt", "TEXT", help: "The prompt text."),
            .value("prompt-file", "FILE", help: "A file holding the prompt text."),
            .value("prompt-ids", "IDS", help: "The prompt as token ids separated by spaces or commas."),
            .value("chat", "TEXT", help: "A user message, rendered with the target's chat template (instruct models)."),
            .value("system", "TEXT", help: "A system message before the --chat message."),
            .value("messages", "FILE", help: "A JSON file of OpenAI-style messages ([{role, content}] or {messages, tools}), rendered with the chat template."),
            .value("max-tokens", "N", help: "Most new tokens (overrides the graph's limits.max_new_tokens)."),
            .value("seed", "S", help: "Seed of every sampling node (default 0)."),
            .value("param", "NAME=VALUE", help: "Set one of the graph's declared parameters (params:), checked against its type and range; repeat for several."),
            .flag("jsonl", help: "Print one JSON object per step instead of text."),
            .value("logprobs", "N", help: "With --jsonl, each step's tokens' log-probabilities under the target (before sampling's processors and masks) with the N most likely alternatives (0-20)."),
            .value("lattice", "FILE", help: "After a search.lattice graph, write its lattice: FILE.fst (OpenFst text; labels are token id + 1), FILE.dot or FILE.json; the count of distinct paths goes to standard error."),
            .flag("n-best", help: "After a search graph's output, print every finished hypothesis, best first: rank, score, log-probability and text (with --jsonl one {\"candidates\": […]} object)."),
            .value("trace", "FILE", help: "Write a Chrome trace-event JSON of every node run."),
            DecographCLI.modelOption,
            .value("kv-cache-mb", "MIB", help: "KV-cache memory of every model the graph loads, in MiB (overrides the graph's kv_cache_mb; bounds prompt plus output length)."),
        ],
        positionals: [PositionalSpec("GRAPH", help: "The graph file.")],
        body: { arguments, context in
            let sources = ["prompt", "prompt-file", "prompt-ids", "chat", "messages"].filter { arguments.value($0) != nil }
            guard sources.count == 1 else {
                throw UsageError(sources.isEmpty ? "Missing the prompt: give one of '--prompt', '--prompt-file', '--prompt-ids', '--chat' or '--messages'."
                                                 : "Give only one of '--prompt', '--prompt-file', '--prompt-ids', '--chat' and '--messages'.",
                                 usage: arguments.usageLine)
            }
            if arguments.value("system") != nil && sources[0] != "chat" {
                throw UsageError("'--system' goes with '--chat' (a --messages file holds its own system message).", usage: arguments.usageLine)
            }
            let maxTokens = try arguments.int("max-tokens", in: 1...Int(Int32.max))
            if arguments.value("logprobs") != nil, !arguments.flag("jsonl") {
                throw UsageError("--logprobs prints with each step's JSON object: add --jsonl.", usage: arguments.usageLine)
            }
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
            let prompt: PromptInput
            switch sources[0] {
            case "prompt-ids":
                let text = arguments.value("prompt-ids")!
                guard let ids = PromptInput.ids(text) else {
                    throw UsageError("The value '\(text)' is invalid for '--prompt-ids': expected non-negative token ids separated by spaces.", usage: arguments.usageLine)
                }
                prompt = .ids(ids)
            case "prompt-file":
                prompt = .text(try readText(arguments.value("prompt-file")!, what: "prompt file"))
            case "chat":
                var messages: [ChatValue] = []
                if let system = arguments.value("system") { messages.append(.message(role: "system", content: system)) }
                messages.append(.message(role: "user", content: arguments.value("chat")!))
                prompt = .chat(ChatConversation(messages: messages))
            case "messages":
                let file = arguments.value("messages")!
                prompt = try PromptInput.chat(readText(file, what: "messages file"), origin: file)
            default:
                prompt = .text(arguments.value("prompt")!)
            }

            for item in arguments.values("param") where !item.contains("=") {
                throw UsageError("'--param' takes NAME=VALUE, not '\(item)'.", usage: arguments.usageLine)
            }
            guard let compiled = DecographCLI.compileGraph(arguments.positionals[0], context: context, parameters: arguments.values("param")) else { return 1 }
            let plan = try DecographCLI.replacingModels(in: compiled, option: arguments.values("model").isEmpty ? nil : arguments.values("model").joined(separator: ","))
            do {
                return try runPlan(plan, arguments: arguments, prompt: prompt, seed: seed, maxTokens: maxTokens, context: context)
            } catch let error as EngineError {
                // Located at the graph node or model at fault, in the compiler's diagnostic shape.
                context.printError(error.description)
                return 1
            }
        })

    /// A prompt or messages file's text: a regular file, valid UTF-8, every byte kept.
    private static func readText(_ file: String, what: String) throws -> String {
        if let kind = RegularFile.otherKind(at: file) {
            throw CommandFailure("the \(what) '\(file)' is \(kind), not a regular file")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure("cannot read the \(what) '\(file)'")
        }
        guard let text = TextInput.utf8(data) else {
            throw CommandFailure("the \(what) '\(file)' is not valid UTF-8")
        }
        return text
    }

    /// `--n-best`: a search's finished hypotheses, best first.
    private static func printCandidates(_ candidates: [FrontierCandidate], session: Session, jsonl: Bool,
                                        context: CommandContext) throws {
        let text: ([Int32]) -> String = { tokens in
            session.tokenizer.map { $0.decode(tokens) } ?? tokens.map(String.init).joined(separator: " ")
        }
        if jsonl {
            struct Entry: Encodable { let tokens: [Int32]; let text: String; let score: Float; let logProbability: Float }
            struct Line: Encodable { let candidates: [Entry] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let line = Line(candidates: candidates.map { Entry(tokens: $0.tokens, text: text($0.tokens), score: $0.score, logProbability: $0.logProbability) })
            context.print(String(decoding: try encoder.encode(line), as: UTF8.self))
            return
        }
        for (rank, candidate) in candidates.enumerated() {
            let shown = text(candidate.tokens).replacingOccurrences(of: "\n", with: "\\n")
            context.print(String(format: "#%d  score %.4f  logprob %.4f  ", rank + 1, candidate.score, candidate.logProbability) + shown)
        }
    }

    /// Runs a compiled plan for `decograph run`.
    private static func runPlan(_ plan: Plan, arguments: ParsedArguments, prompt input: PromptInput,
                                seed: UInt64, maxTokens: Int?, context: CommandContext) throws -> Int32 {
            let session = try Session(plan: plan)
            if case .text = input, let template = session.chatTemplateName {
                context.printError("warning: the target is an instruct model (it has a chat template, \(template)) and --prompt/--prompt-file send raw text without it; it may answer with end-of-sequence at once. Use --chat \"…\" [--system \"…\"] or --messages FILE.json to apply the template.")
            }
            let latticeFormat = try arguments.value("lattice").map { path in
                guard let format = ["fst", "dot", "json"].first(where: { path.hasSuffix("." + $0) }) else {
                    throw UsageError("'--lattice' writes FILE.fst, FILE.dot or FILE.json; '\(path)' has none of those extensions.", usage: arguments.usageLine)
                }
                guard session.outputIsSearch else { throw CommandFailure("--lattice needs a search.lattice graph") }
                return format
            }
            if arguments.flag("n-best"), !session.outputIsSearch {
                throw CommandFailure("--n-best needs a search graph (its output a search.* node); this graph's output keeps one answer")
            }
            let prompt = try input.tokens(for: session)
            for warning in try session.admit(promptTokens: prompt.count, maxNewTokens: maxTokens) { context.printError(warning) }
            for note in session.notes { context.printError(note) }
            let trace = arguments.value("trace").map { _ in TraceRecorder() }
            let jsonl = arguments.flag("jsonl")
            let logprobs = try arguments.int("logprobs", in: 0...20)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            // A token a row rules out has log-probability −∞, which JSON numbers cannot hold.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let result = try session.run(prompt: prompt, maxNewTokens: maxTokens, seed: seed, trace: trace, logProbabilities: logprobs) { event in
                if jsonl {
                    if let data = try? encoder.encode(event) { context.print(String(decoding: data, as: UTF8.self)) }
                } else if session.tokenizer != nil {
                    context.write(event.text)
                } else if !event.tokens.isEmpty {
                    context.write(event.tokens.map(String.init).joined(separator: " ") + " ")
                }
            }
            if !jsonl { context.print() }
            if arguments.flag("n-best") { try printCandidates(result.candidates, session: session, jsonl: jsonl, context: context) }
            if let path = arguments.value("lattice"), let format = latticeFormat {
                guard let lattice = result.lattice else { throw CommandFailure("--lattice: this graph's search keeps no lattice (search.lattice does)") }
                let label: (Int32) -> String = { token in session.tokenizer.map { $0.decode([token]) } ?? String(token) }
                let data: Data
                switch format {
                case "fst": data = Data(lattice.openFstText().utf8)
                case "dot": data = Data(lattice.dot(label: label).utf8)
                default: data = try lattice.json(label: label)
                }
                do {
                    try data.write(to: URL(fileURLWithPath: path))
                } catch {
                    throw CommandFailure("cannot write the lattice to '\(path)': \(error.localizedDescription)")
                }
                context.printError("lattice: \(lattice.nodes.count) nodes, \(lattice.arcs.count) arcs (\(lattice.recombined) recombined), "
                    + String(format: "%.0f", lattice.distinctPaths) + " distinct paths → \(path)")
            }
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
