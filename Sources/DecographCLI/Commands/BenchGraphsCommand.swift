import Engine
import Foundation
import Graph

extension CommandSpec {
    /// `decograph bench graphs`: several graphs on the same prompts, interleaved, against the first.
    static let benchGraphs = CommandSpec(
        "graphs", abstract: "Run graphs interleaved on the same prompts: tokens/s, MAT, target calls, speedup against the first graph, identity check, hypotheses and milliseconds per step.",
        discussion: """
            Every prompt is run by every graph in turn (prompt-major, so load changes on the machine hit all \
            graphs alike) after one warm-up run per graph. Speedup is the ratio of tokens/s to the first graph's, \
            measured in this run. The identity column counts prompts whose tokens equal the first graph's: under \
            greedy decoding every lossless graph must match all of them. Each graph's output is also read by the \
            first graph's target at full depth, outside the timed runs: 'agree' is the share of its tokens that \
            the target's greedy choice after the same prefix equals (1.00 for greedy itself), 'ppl' the target's \
            perplexity of them — the quality of a lossy graph (marked *) against the model it approximates. \
            'hyp/step' is the hypotheses scored per step (1 for one hypothesis; a search's mean frontier, all of \
            them in one forward pass) and 'ms/step' the wall time per step: a search's cost against its frontier \
            size. The prompts file holds one prompt per \
            line: text, or token ids separated by spaces when the target model has no tokenizer. A .jsonl file \
            holds one JSON object per line with one of {"prompt": text}, {"messages": [...], "tools": [...]} \
            (a chat, rendered with the target's chat template) or {"ids": [...]}, so multi-line and chat prompts \
            can be benchmarked; a "category" field (examples/specbench/prompts.jsonl: Spec-Bench's six kinds of task) \
            adds a table per category before the overall one, and to the JSON and the SVG chart.
            """,
        options: [
            .value("graphs", "A,B,…", help: "Graph files, comma-separated; the first is the baseline."),
            .value("prompts", "FILE", help: "One prompt per line, or a .jsonl file of {prompt|messages|ids} objects."),
            DecographCLI.modelOption,
            .value("max-tokens", "N", help: "New tokens per prompt (overrides each graph's limit)."),
            .value("seed", "S", help: "Seed of every sampling node (default 0)."),
            .flag("json", help: "Print one JSON object."),
            .value("svg", "FILE", help: "Also write an SVG chart of speedup and MAT per category per graph (one group without categories)."),
        ],
        body: { arguments, context in
            let files = try arguments.required("graphs").split(separator: ",").map(String.init)
            guard !files.isEmpty else { throw UsageError("'--graphs' needs at least one graph file.", usage: arguments.usageLine) }
            let promptsFile = try arguments.required("prompts")
            let maxTokens = try arguments.int("max-tokens", in: 1...Int(Int32.max))
            let seed = UInt64(try arguments.int("seed", in: 0...Int.max) ?? 0)
            var plans: [Plan] = []
            for file in files {
                guard let plan = DecographCLI.compileGraph(file, context: context) else { return 1 }
                plans.append(try DecographCLI.replacingModels(in: plan, option: arguments.values("model").isEmpty ? nil : arguments.values("model").joined(separator: ",")))
            }
            do {
                let sessions = try plans.map { try Session(plan: $0) }
                let entries = try PromptInput.tokens(ofFile: promptsFile, for: sessions[0])
                let prompts = entries.map(\.tokens)
                let results = try GraphsBenchmark.run(sessions: sessions, prompts: prompts, categories: entries.map(\.category),
                                                      maxTokens: maxTokens, seed: seed) {
                    context.progress("prompt \($0)/\($1)")
                }
                context.endProgress()
                let lossless = plans.map(\.isLossless)
                func json(_ rows: [GraphsBenchmark.Row], prompts: Int) -> [[String: Any]] {
                    zip(files, zip(rows, lossless)).map { file, entry in
                        let (r, exact) = entry
                        return ["graph": file, "tokens": r.metrics.tokens, "tokens_per_second": r.metrics.tokensPerSecond,
                                "mat": r.metrics.meanAcceptedTokens, "target_calls": r.metrics.targetCalls,
                                "speedup": r.speedup, "identical_prompts": r.identicalPrompts, "prompts": prompts,
                                "lossless": exact, "agreement": r.reading.agreement, "perplexity": r.reading.perplexity,
                                "rep_2": r.reading.repetition(2), "rep_4": r.reading.repetition(4), "diversity": r.reading.diversity,
                                "hypotheses_per_step": r.metrics.hypothesesPerStep, "ms_per_step": r.metrics.millisecondsPerStep,
                                "models": r.metrics.models.map { ["name": $0.name, "full_calls": $0.fullCalls, "partial_calls": $0.partialCalls] },
                                "inner_runs": r.metrics.innerRuns.map { ["node": $0.node, "steps": $0.steps, "tokens": $0.tokens,
                                                                         "target_calls": $0.targetCalls, "mat": $0.meanAcceptedTokens] }]
                    }
                }
                if let path = arguments.value("svg") {
                    let groups = results.categories.isEmpty ? [("all", results.overall)] : results.categories.map { ($0.name, $0.rows) } + [("overall", results.overall)]
                    let chart = BenchmarkChart(
                        title: "speedup over \(files[0]) and MAT, per category", categories: groups.map(\.0), graphs: files,
                        panels: [.init(title: "speedup", values: files.indices.map { g in groups.map { $0.1[g].speedup } }, reference: 1),
                                 .init(title: "MAT", values: files.indices.map { g in groups.map { $0.1[g].metrics.meanAcceptedTokens } }, reference: 1)])
                    do {
                        try Data(chart.svg.utf8).write(to: URL(fileURLWithPath: path))
                    } catch {
                        throw CommandFailure("cannot write the chart to '\(path)': \(error.localizedDescription)")
                    }
                }
                if arguments.flag("json") {
                    var object: [String: Any] = ["graphs": json(results.overall, prompts: prompts.count)]
                    if !results.categories.isEmpty {
                        object["categories"] = results.categories.map { ["category": $0.name, "graphs": json($0.rows, prompts: $0.prompts)] as [String: Any] }
                    }
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    context.print(String(decoding: data, as: UTF8.self))
                } else {
                    func table(_ rows: [GraphsBenchmark.Row], prompts: Int) {
                        context.print("graph                           tokens   tok/s    MAT  target calls  speedup  identical  agree     ppl  rep-4   div  hyp/step  ms/step")
                        for (g, r) in rows.enumerated() {
                            let file = (lossless[g] ? "" : "*") + files[g]
                            let name = file.count > 30 ? "…" + file.suffix(29) : file
                            context.print(name.padding(toLength: 30, withPad: " ", startingAt: 0)
                                + String(format: " %7d %7.1f %6.2f %13d %7.2fx  %4d/%-4d %6.2f %7.2f %6.3f %5.3f %9.2f %8.2f", r.metrics.tokens, r.metrics.tokensPerSecond,
                                         r.metrics.meanAcceptedTokens, r.metrics.targetCalls, r.speedup, r.identicalPrompts, prompts,
                                         r.reading.agreement, r.reading.perplexity, r.reading.repetition(4), r.reading.diversity, r.metrics.hypothesesPerStep, r.metrics.millisecondsPerStep))
                        }
                        // Which model each graph spends its calls on: a drafter's calls, an inner graph's MAT.
                        guard rows.contains(where: { $0.metrics.models.count > 1 || !$0.metrics.innerRuns.isEmpty }) else { return }
                        context.print("model calls (full + partial)")
                        for (g, r) in rows.enumerated() {
                            var parts = r.metrics.models.map { "\($0.name) \($0.fullCalls)" + ($0.partialCalls > 0 ? " + \($0.partialCalls)" : "") }
                            parts += r.metrics.innerRuns.map { String(format: "inner graph of %@: MAT %.2f", $0.node, $0.meanAcceptedTokens) }
                            context.print("  " + files[g].padding(toLength: 28, withPad: " ", startingAt: 0) + parts.joined(separator: ", "))
                        }
                    }
                    for category in results.categories {
                        context.print("\(category.name) (\(category.prompts) prompts)")
                        table(category.rows, prompts: category.prompts)
                        context.print("")
                    }
                    if !results.categories.isEmpty { context.print("overall (\(prompts.count) prompts)") }
                    table(results.overall, prompts: prompts.count)
                    if lossless.contains(false) { context.print("* lossy: approximates its model (decograph check names the nodes)") }
                }
                return 0
            } catch let error as EngineError {
                context.printError(error.description)
                return 1
            }
        })
}
