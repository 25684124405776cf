import Support
import Constraints
import Dispatch
import Foundation
import Tokenization

extension CommandSpec {
    /// `decograph constrain …`: constrained-generation tools.
    static let constrain = CommandSpec(
        "constrain", abstract: "Constrained generation: check texts against a JSON Schema, regex or grammar.",
        subcommands: [.constrainTest])

    /// `decograph constrain test`: walks texts token by token through the masks.
    static let constrainTest = CommandSpec(
        "test", abstract: "Walk JSON Lines texts token by token through a constraint's masks.",
        discussion: """
            Reads one JSON object per line from standard input, {"text": "…"}, tokenizes the text with the \
            tokenizer (no special tokens added), and before each token computes the mask \
            of allowed tokens. Writes one JSON line per input: {"accepted": true|false, "tokens": N, \
            "rejected_at": i|null} (i = N when every token is allowed but the text is incomplete). Then \
            prints the mask-time percentiles to standard error. A schema or grammar that is refused exits \
            with status 1 and the located error.
            """,
        options: [
            .value("tokenizer", "PATH", help: "A directory with tokenizer.json, or a GGUF file."),
            .value("schema", "FILE", help: "A JSON Schema file (draft 4, 6, 7, 2019-09 or 2020-12 by its $schema; 2020-12 without one)."),
            .value("regex", "REGEX", help: "A regex the whole text must match."),
            .value("grammar", "FILE", help: "A grammar file (GBNF-compatible dialect, docs/constraints.md)."),
            .value("input", "FILE", help: "Read the JSON Lines from FILE instead of standard input."),
            .flag("lenient", help: "Ignore unsupported schema keywords with a warning instead of refusing."),
        ],
        body: { args, context in
            let (tokenizer, vocabulary) = try loadTokenizer(directory: try args.required("tokenizer"))
            let given = ["schema", "regex", "grammar"].filter { args.value($0) != nil }
            guard given.count == 1 else {
                throw UsageError("Give exactly one of '--schema', '--regex' or '--grammar'.", usage: args.usageLine)
            }
            let grammar: Grammar
            switch given[0] {
            case "schema":
                let file = args.value("schema")!
                guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
                do {
                    let result = try JSONSchemaCompiler.compile(Constraints.JSONValue.parse(bytes: Array(data)),
                                                               options: JSONSchemaOptions(lenient: args.flag("lenient")))
                    for w in result.warnings { context.printError("\(file):\(w.location): warning: \(w.message)") }
                    grammar = result.grammar
                } catch {
                    throw CommandFailure("\(file):\(error)")
                }
            case "regex":
                do { grammar = try Grammar.regex(args.value("regex")!) } catch { throw CommandFailure("--regex: \(error)") }
            default:
                let file = args.value("grammar")!
                guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
                do { grammar = try Grammar.parse(String(decoding: data, as: UTF8.self)) } catch { throw CommandFailure("\(file):\(error)") }
            }
            let base = Constraint(grammar: grammar, vocabulary: vocabulary)
            var maskMicros: [Double] = []
            let input: Data
            if let path = args.value("input") {
                guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
                input = data
            } else {
                input = FileHandle.standardInput.readDataToEndOfFile()
            }
            for (lineIndex, line) in String(decoding: input, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
                guard case .string(let text)? = (try? Constraints.JSONValue.parse(String(line)))?["text"] else {
                    throw CommandFailure("stdin:\(lineIndex + 1): expected a JSON object with a string \"text\"")
                }
                let tokens = tokenizer.encode(text, addSpecialTokens: false).map(Int.init)
                var c = base.restarted()
                var rejectedAt: Int? = nil
                for (i, t) in tokens.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let mask = c.mask()
                    maskMicros.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
                    if !mask.contains(t) || !c.advance(t) { rejectedAt = i; break }
                }
                if let failure = c.failure { throw CommandFailure("stdin:\(lineIndex + 1): \(failure)") }
                if rejectedAt == nil && !c.isAccepting { rejectedAt = tokens.count }
                context.print("{\"accepted\": \(rejectedAt == nil), \"tokens\": \(tokens.count), \"rejected_at\": \(rejectedAt.map(String.init) ?? "null")}")
            }
            let sorted = maskMicros.sorted()
            func p(_ q: Double) -> Double { Percentile.of(q, sorted: sorted) }
            context.printError(String(format: "masks: %d, p50 %.1f µs, p99 %.1f µs, max %.1f µs", sorted.count, p(0.5), p(0.99), sorted.last ?? 0))
            return 0
        })
}
