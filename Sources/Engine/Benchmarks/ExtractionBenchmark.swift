import Constraints
import Foundation
import Graph
import Operators
import Support

/// `decograph bench extraction`: JSON extraction under `constrain.json_schema` on an instruct
/// model, in several configurations of the constraint, judged for validity and counted by who
/// decided each token (issue #24, docs/measurements.md "JSON extraction on a real instruct model").
///
/// For each case and configuration it builds the greedy graph of `graphs/extract.yaml` (score
/// masked by the case's schema, temperature 0), runs it on the case's prompt (a chat through the
/// target's chat template, or text), and records the finish reason, whether the returned output is
/// valid and complete under the schema (`ExtractionJudge`), and how its tokens split into those the
/// model chose among several allowed ones, those the constraint left no alternative to, and those
/// appended to close an output the budget cut (`finished: closed`). Cases run one after another,
/// every configuration in turn on each case, so changes in machine load hit them alike.
public enum ExtractionBenchmark {
    /// A setting of the JSON constraint to compare.
    public struct Configuration: Sendable {
        /// Its name in tables.
        public var name: String
        /// The whitespace bound written on the node (`max_whitespace`, `max_newlines`); `nil` writes
        /// none, so the op's defaults apply.
        public var whitespace: JSONWhitespace?
        /// Whether the run returns an output the budget cut with the constraint's closing tokens
        /// (today's engine), or without them, as the engine did before `finished: closed`.
        public var closesCutOutputs: Bool
        /// One line saying what it stands for.
        public var summary: String

        /// Creates a configuration.
        /// - Parameters:
        ///   - name: its name in tables.
        ///   - whitespace: the bound written on the node, `nil` for the op's defaults.
        ///   - closesCutOutputs: whether cut outputs are returned closed.
        ///   - summary: what it stands for.
        public init(name: String, whitespace: JSONWhitespace?, closesCutOutputs: Bool, summary: String) {
            self.name = name
            self.whitespace = whitespace
            self.closesCutOutputs = closesCutOutputs
            self.summary = summary
        }

        /// The constraint before issue #24, as far as today's op can express it. The op's
        /// `max_whitespace` defaulted to 2 bytes per gap (graphs/extract.yaml wrote none) and line
        /// feeds were not counted apart, so `max_newlines: 2` lets either byte be one: the same gap
        /// language, which admits `", "` and `"\n "` but no indentation token longer than 2 bytes.
        /// Cut outputs are returned as the model left them: the appended closing tokens change none
        /// of its choices, so dropping them gives the old output exactly. What cannot be reproduced:
        /// the old root rule let up to 2 whitespace bytes follow the root value before EOS.
        public static let before = Configuration(
            name: "before", whitespace: JSONWhitespace(maxBytes: 2, maxNewlines: 2), closesCutOutputs: false,
            summary: "max_whitespace 2 (line feeds among them), cut outputs returned cut")
        /// Today's defaults: the op's whitespace bound (`JSONWhitespace.standard`), nothing after the
        /// root value, cut outputs closed.
        public static let after = Configuration(
            name: "after", whitespace: nil, closesCutOutputs: true,
            summary: "op defaults (max_whitespace \(JSONWhitespace.defaultMaxBytes), max_newlines \(JSONWhitespace.defaultMaxNewlines)), cut outputs closed")
        /// The pair the benchmark compares, old first.
        public static let beforeAndAfter = [before, after]
    }

    /// What one case gave under one configuration.
    public struct Record: Sendable {
        /// The case's name.
        public var caseName: String
        /// The configuration's name.
        public var configuration: String
        /// Why the returned output ended: `eos`, `max_tokens` (cut and returned cut), `closed`.
        public var finishReason: String
        /// Tokens returned (an ending EOS included, as `RunMetrics.tokens` counts it).
        public var tokens: Int
        /// Of them, tokens the model chose where the constraint allowed several.
        public var chosen: Int
        /// Tokens the constraint allowed alone (the model had no choice).
        public var forced: Int
        /// Tokens appended to close an output the budget cut (0 where outputs are returned cut).
        public var closing: Int
        /// `RunMetrics.singleChoiceTokens` of the run, which `forced` (counted by replaying the
        /// output through the configuration's grammar) must equal.
        public var forcedByMetrics: Int
        /// Whether the returned output is valid and complete under the schema.
        public var valid: Bool
        /// Whether the model's own tokens (closing tokens dropped) are valid and complete.
        public var validUnclosed: Bool
        /// The returned output's text.
        public var output: String
        /// Seconds of the run (prompt processing included).
        public var seconds: Double
    }

    /// Sums over the cases of one configuration.
    public struct Totals: Sendable {
        /// Cases run.
        public var cases = 0
        /// Returned outputs valid and complete.
        public var valid = 0
        /// Outputs valid and complete before any closing tokens.
        public var validUnclosed = 0
        /// Tokens returned, and their split.
        public var tokens = 0, chosen = 0, forced = 0, closing = 0
        /// Runs whose forced count disagrees with `RunMetrics.singleChoiceTokens`.
        public var forcedMismatches = 0
        /// Runs per finish reason.
        public var finishReasons: [String: Int] = [:]
        /// Seconds of all runs.
        public var seconds = 0.0

        /// Returned tokens per second.
        public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }

        /// `part`'s share of the returned tokens.
        public func share(_ part: Int) -> Double { tokens > 0 ? Double(part) / Double(tokens) : 0 }
    }

    /// A whole run of the benchmark.
    public struct Report: Sendable {
        /// The model file or directory.
        public var model: String
        /// The output budget of every run.
        public var maxTokens: Int
        /// The configurations, in the order they ran on each case.
        public var configurations: [Configuration]
        /// Every record, case by case, configurations in order within a case.
        public var records: [Record]

        /// The sums of one configuration.
        /// - Parameter configuration: its name.
        /// - Returns: the totals.
        public func totals(_ configuration: String) -> Totals {
            var t = Totals()
            for r in records where r.configuration == configuration {
                t.cases += 1
                if r.valid { t.valid += 1 }
                if r.validUnclosed { t.validUnclosed += 1 }
                t.tokens += r.tokens
                t.chosen += r.chosen
                t.forced += r.forced
                t.closing += r.closing
                if r.forced != r.forcedByMetrics { t.forcedMismatches += 1 }
                t.finishReasons[r.finishReason, default: 0] += 1
                t.seconds += r.seconds
            }
            return t
        }
    }

    /// Default output budget: room for every case's answer (the largest, a list of line items, takes
    /// about 200 tokens pretty-printed), so only a model that loops is cut.
    public static let defaultMaxTokens = 256
    /// Tokens of the warm-up run, which loads the weights and faults the KV cache in before timing.
    static let warmUpTokens = 8

    /// Runs every case under every configuration.
    /// - Parameters:
    ///   - model: the target model (directory or `.gguf`).
    ///   - cases: the cases.
    ///   - configurations: the settings to compare.
    ///   - maxTokens: the output budget of every run.
    ///   - progress: called before each case.
    /// - Returns: the records.
    /// - Throws: `EngineError` for a graph that does not bind (a schema the compiler refuses, named
    ///   with its case), a prompt the model cannot take, or an output the constraint should have
    ///   forbidden.
    public static func run(model: String, cases: [ExtractionCase], configurations: [Configuration] = Configuration.beforeAndAfter,
                           maxTokens: Int = defaultMaxTokens, progress: (String) -> Void = { _ in }) throws -> Report {
        // The graph's paths resolve against its file, which is the cases file: a relative model
        // path means the working directory, as the user wrote it.
        let modelPath = URL(fileURLWithPath: model).standardizedFileURL.path
        var records: [Record] = []
        var warm = false
        for (index, item) in cases.enumerated() {
            progress("case \(index + 1)/\(cases.count): \(item.name)")
            let judge: ExtractionJudge
            do {
                judge = try ExtractionJudge(schema: item.schemaText)
            } catch {
                throw EngineError(at: item.location, "case '\(item.name)': the schema \(item.schemaPath) does not compile: \(error)")
            }
            for configuration in configurations {
                let session = try Session(plan: plan(for: item, configuration: configuration, model: modelPath, maxTokens: maxTokens))
                let prompt: [Int32]
                do {
                    switch item.prompt {
                    case .chat(let conversation): prompt = try session.encodeChat(conversation)
                    case .text(let text): prompt = try session.encode(text)
                    }
                } catch let error as EngineError {
                    throw EngineError(at: item.location, "case '\(item.name)': \(error.message)")
                }
                if !warm {
                    _ = try session.run(prompt: prompt, maxNewTokens: min(maxTokens, warmUpTokens))
                    warm = true
                }
                let result = try session.run(prompt: prompt, maxNewTokens: maxTokens)
                records.append(try record(result, of: item, configuration: configuration, session: session, judge: judge, model: modelPath))
            }
        }
        return Report(model: model, maxTokens: maxTokens, configurations: configurations, records: records)
    }

    /// The graph of `graphs/extract.yaml` on `model` with the case's schema, the configuration's
    /// whitespace bound and the budget.
    static func plan(for item: ExtractionCase, configuration: Configuration, model: String, maxTokens: Int) throws -> Plan {
        var schemaNode = "{ op: constrain.json_schema, path: \(JSONString.quoted(item.schemaPath))"
        if let whitespace = configuration.whitespace {
            for (name, bound) in [("max_whitespace", whitespace.maxBytes), ("max_newlines", whitespace.maxNewlines)] {
                guard let bound else { continue }
                schemaNode += ", \(name): \(bound)"
            }
        }
        schemaNode += " }"
        let source = """
            graph: extract-\(configuration.name)
            models:
              target: { path: \(JSONString.quoted(model)) }
            nodes:
              schema: \(schemaNode)
              scores: { op: score, model: target, tree: schema }
              pick: { op: sample, from: scores, temperature: 0 }
              accept: { op: verify, from: pick }
            output: accept
            limits: { max_new_tokens: \(maxTokens) }
            """
        let compilation = GraphCompiler(registry: OperatorRegistry.all)
            .compile(source: source, file: "\(item.location.file)[\(item.name), \(configuration.name)]")
        guard let plan = compilation.plan else {
            throw EngineError(at: item.location, "case '\(item.name)', configuration '\(configuration.name)': the graph does not compile:\n\(compilation.rendered)")
        }
        return plan
    }

    /// Judges one run and splits its tokens.
    static func record(_ result: RunResult, of item: ExtractionCase, configuration: Configuration, session: Session,
                       judge: ExtractionJudge, model: String) throws -> Record {
        guard let tokenizer = session.tokenizer,
              let vocabulary = try ResourceRegistry.shared.constraintVocabulary(modelAt: model, endOfSequence: session.eosTokens) else {
            throw EngineError("the model '\(model)' has no tokenizer, so outputs cannot be judged as text")
        }
        let closing = result.metrics.closingTokens
        let own = Array(result.tokens.dropLast(closing))
        let returned = configuration.closesCutOutputs ? result.tokens : own
        func bytes(_ tokens: [Int32]) -> [UInt8] {
            // An ending EOS is a special token: it ends the output and writes none of it.
            tokens.filter { !session.eosTokens.contains($0) }.flatMap { tokenizer.tokenBytes($0) }
        }
        let (chosen, forced) = try split(own, grammar: constraintGrammar(item, configuration), vocabulary: vocabulary,
                                         where: "case '\(item.name)', configuration '\(configuration.name)'")
        var reason = result.finishReason
        if reason == "closed", !configuration.closesCutOutputs { reason = "max_tokens" }
        let returnedBytes = bytes(returned)
        return Record(caseName: item.name, configuration: configuration.name, finishReason: reason, tokens: returned.count,
                      chosen: chosen, forced: forced, closing: returned.count - own.count,
                      forcedByMetrics: result.metrics.singleChoiceTokens, valid: judge.accepts(returnedBytes),
                      validUnclosed: judge.accepts(bytes(own)), output: String(decoding: returnedBytes, as: UTF8.self),
                      seconds: result.metrics.seconds)
    }

    /// The grammar the run's constraint enforced: the schema under the op's settings (`strings:
    /// canonical`, `formats: true`) and the configuration's whitespace bound.
    static func constraintGrammar(_ item: ExtractionCase, _ configuration: Configuration) throws -> Grammar {
        let options = JSONSchemaOptions(whitespace: configuration.whitespace ?? .standard, assertFormats: true, canonicalStrings: true)
        do {
            return try Grammar.jsonSchema(item.schemaText, options: options)
        } catch {
            throw EngineError(at: item.location, "case '\(item.name)': the schema \(item.schemaPath) does not compile: \(error)")
        }
    }

    /// Replays the model's tokens through the constraint: a token is forced where the mask before
    /// it allowed it alone, chosen where it allowed more.
    /// - Returns: the two counts; they add up to `tokens.count`.
    /// - Throws: `EngineError` when a token is one the constraint forbids (the run let it through).
    static func split(_ tokens: [Int32], grammar: Grammar, vocabulary: TokenVocabulary, where label: String) throws -> (chosen: Int, forced: Int) {
        var constraint = Constraint(grammar: grammar, vocabulary: vocabulary)
        var chosen = 0, forced = 0
        for (i, token) in tokens.enumerated() {
            let allowed = constraint.mask().allowedCount
            guard constraint.advance(Int(token)) else {
                throw EngineError("\(label): output token \(i) (id \(token)) is one the schema's constraint forbids there, yet the run emitted it")
            }
            if allowed == 1 { forced += 1 } else { chosen += 1 }
        }
        return (chosen, forced)
    }
}
