import Engine
import Foundation

extension CommandSpec {
    /// `decograph bench extraction`: schema-constrained JSON extraction before and after issue #24.
    static let benchExtraction = CommandSpec(
        "extraction", abstract: "JSON extraction on an instruct model: valid-and-complete outputs and who chose each token, old and new JSON constraint settings.",
        discussion: """
            Runs every case of the cases file with the greedy graph of graphs/extract.yaml (the case's \
            schema on a constrain.json_schema node, temperature 0) under two settings of the constraint, \
            one after the other on each case. "before" is the constraint as it was before issue #24, as \
            far as today's op expresses it: at most 2 whitespace bytes per gap (line feeds among them), \
            and an output the budget cuts returned cut (the closing tokens today's engine appends are \
            dropped; they change none of the model's choices). What it cannot reproduce: up to 2 \
            whitespace bytes the old grammar allowed after the root value. "after" is today's defaults. \
            Each output is judged by the schema compiled with unbounded whitespace and any string escape \
            (valid = every byte accepted and the value complete), and its tokens are split into those \
            the model chose among several allowed ones, those the constraint allowed alone (replayed \
            through the run's grammar, checked against the run's singleChoiceTokens metric) and those \
            appended to close a cut output. A cases file holds one JSON object per line: "name", \
            "schema" (a file relative to the cases file) and "messages" (a chat, rendered with the \
            model's template) or "prompt" (text). See examples/extraction/cases.jsonl.
            """,
        options: [
            .value("model", "PATH", help: "The instruct model: a .gguf file or a model directory."),
            .value("cases", "FILE", help: "The cases, one JSON object per line (examples/extraction/cases.jsonl)."),
            .value("max-tokens", "N", help: "Output budget of every run (default \(ExtractionBenchmark.defaultMaxTokens)); a tight one cuts outputs, which 'after' closes."),
            .flag("json", help: "Print one JSON object, outputs included."),
        ],
        body: { arguments, context in
            let model = try arguments.required("model")
            let casesFile = try arguments.required("cases")
            let maxTokens = try arguments.int("max-tokens", in: 1...Int(Int32.max)) ?? ExtractionBenchmark.defaultMaxTokens
            guard FileManager.default.fileExists(atPath: model) else {
                throw CommandFailure("--model \(model): no such file or directory (a .gguf file or a model directory; scripts/fetch-model.sh fetches SmolLM2-135M-Instruct)")
            }
            do {
                let cases = try ExtractionCase.load(file: casesFile)
                let report = try ExtractionBenchmark.run(model: model, cases: cases, maxTokens: maxTokens) { context.progress($0) }
                context.endProgress()
                context.write(arguments.flag("json") ? report.json + "\n" : report.text)
                return 0
            } catch let error as EngineError {
                context.endProgress()
                context.printError(error.description)
                return 1
            }
        })
}

extension ExtractionBenchmark.Report {
    /// A table of every case under every configuration, then each configuration's totals.
    var text: String {
        func percent(_ x: Double) -> String { String(format: "%5.1f %%", x * 100) }
        var out = "model: \(model); max tokens \(maxTokens); greedy; \(records.count / max(configurations.count, 1)) cases\n"
        for c in configurations { out += "  \(c.name): \(c.summary)\n" }
        let width = max(4, records.map(\.caseName.count).max() ?? 0)
        out += "case".padding(toLength: width, withPad: " ", startingAt: 0)
            + "  config  finish      valid  unclosed  tokens  chosen  forced  closing\n"
        for r in records {
            out += r.caseName.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  " + r.configuration.padding(toLength: 6, withPad: " ", startingAt: 0)
                + "  " + r.finishReason.padding(toLength: 10, withPad: " ", startingAt: 0)
                + "  " + (r.valid ? "yes  " : "no   ") + "  " + (r.validUnclosed ? "yes     " : "no      ")
                + String(format: "%6d  %6d  %6d  %7d", r.tokens, r.chosen, r.forced, r.closing) + "\n"
        }
        for c in configurations {
            let t = totals(c.name)
            let reasons = t.finishReasons.keys.sorted().map { "\($0) \(t.finishReasons[$0]!)" }.joined(separator: ", ")
            out += "\(c.name): valid and complete \(t.valid)/\(t.cases) (\(t.validUnclosed) before closing); finish: \(reasons); "
                + "tokens \(t.tokens): chosen \(percent(t.share(t.chosen))), forced \(percent(t.share(t.forced))), "
                + "closing \(percent(t.share(t.closing))); " + String(format: "%.1f tok/s", t.tokensPerSecond) + "\n"
            if t.forcedMismatches > 0 {
                out += "  warning: \(t.forcedMismatches) runs' forced counts differ from their singleChoiceTokens metric\n"
            }
        }
        return out
    }

    /// One JSON object: the settings, every record (output included) and the totals.
    var json: String {
        let object: [String: Any] = [
            "model": model, "max_tokens": maxTokens,
            "configurations": configurations.map { c in
                let t = totals(c.name)
                return ["name": c.name, "summary": c.summary, "cases": t.cases, "valid": t.valid, "valid_unclosed": t.validUnclosed,
                        "tokens": t.tokens, "chosen": t.chosen, "forced": t.forced, "closing": t.closing,
                        "forced_mismatches": t.forcedMismatches, "finish_reasons": t.finishReasons,
                        "seconds": t.seconds, "tokens_per_second": t.tokensPerSecond] as [String: Any]
            },
            "records": records.map { r in
                ["case": r.caseName, "configuration": r.configuration, "finish_reason": r.finishReason, "tokens": r.tokens,
                 "chosen": r.chosen, "forced": r.forced, "closing": r.closing, "forced_by_metrics": r.forcedByMetrics,
                 "valid": r.valid, "valid_unclosed": r.validUnclosed, "output": r.output, "seconds": r.seconds] as [String: Any]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
