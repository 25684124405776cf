import Constraints
import Foundation
import Graph
import Synchronization
import Tokenization

/// `reward`: a judge of finished outputs, named by the searches and rerankers that weigh them
/// (`search.mcts`'s `reward`, `rerank`'s `by: reward`), so one judgement serves both — PG-TD's
/// reward node. `by: loglik` is the output's mean log-probability; `constraint` its validity under
/// a declared constraint; `command` an external program's verdict on its text.
public struct RewardOp: RewardOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "reward", family: .reward,
        doc: "A judge of finished outputs, called by the search or reranker that names it (search.mcts's reward, rerank's by: reward): loglik is the output's mean log-probability; constraint, 1 when its text is complete and valid under a declared constraint, else half the share of its bytes the constraint accepted (every valid output beats every invalid one); command runs a program on its text (stdin) and reads its verdict.",
        parameters: [by.spec, constraint.spec, command.spec, timeout.spec],
        output: OutputSpec(PortType(rawValue: "reward"), doc: "Nothing flows: the nodes that name this one call it."),
        validate: OpValidation.checks { node, plan in
            if try RewardOp.rule(node) == .constraint { _ = try ConstraintReward.grammar(node, plan: plan) }
        })

    /// What an output is worth.
    public enum Rule: String, Sendable, CaseIterable, ParameterEnumeration {
        /// Its mean log-probability under the model.
        case loglik
        /// Its validity under a declared constraint.
        case constraint
        /// An external program's verdict on its text.
        case command
    }

    static let by = OpParameter<Rule>("by", default: .loglik, doc: "loglik: the output's mean log-probability; constraint: 1 when the text is complete and valid under `constraint`, else half the share of its bytes the constraint accepted before refusing; command: the verdict of `command` on its text.")
    static let constraint = OpParameter<String?>("constraint", .constraintRef, doc: "by: constraint's constraint, declared under `constraints:` (regex, json_schema or grammar), enforced as the constrain.* op of its kind with its defaults would.")
    static let command = OpParameter<[String]?>("command", nonEmpty: true,
                                                doc: "by: command's program and arguments (no shell). It reads the output's text on standard input, in a fresh temporary directory, with only PATH in its environment; its reward is the number on the last line of its standard output if there is one, else 1 for exit status 0 and 0 otherwise. It runs as this user, with no further sandbox: give only programs you trust.")
    static let timeout = OpParameter<Double>("timeout", default: 10, range: .closed(0.01, 3600), doc: "by: command's time limit per output in seconds; a program still running is killed and scores 0.")

    let judge: @Sendable ([Int32], Double) throws -> Double

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: the target's tokenizer (constraints and programs read text).
    /// - Throws: `OperatorError.invalidParameter` for settings that do not go together.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        switch try Self.rule(node) {
        case .loglik:
            judge = { _, mean in mean }
        case .constraint:
            // A grammar fills caches as it runs, so the sessions sharing this node take turns.
            let grammar = Mutex(try ConstraintReward.grammar(node, plan: environment.plan))
            let tokenizer = environment.tokenizer
            judge = { tokens, _ in
                let output = Array((tokenizer?.decode(tokens, skipSpecialTokens: true) ?? "").utf8)
                return grammar.withLock { ConstraintReward.score(output, grammar: $0) }
            }
        case .command:
            let program = try node[Self.command]!, limit = try node[Self.timeout]
            let tokenizer = environment.tokenizer
            judge = { tokens, _ in
                let text = tokenizer?.decode(tokens, skipSpecialTokens: true) ?? tokens.map(String.init).joined(separator: " ")
                return try CommandReward.run(program, input: text, timeout: limit)
            }
        }
    }

    /// What an output is worth.
    public func reward(_ tokens: [Int32], meanLogProbability: Double) throws -> Double {
        try judge(tokens, meanLogProbability)
    }

    /// The rule, checked against `constraint` and `command`.
    static func rule(_ node: Plan.Node) throws -> Rule {
        let rule = try node[by]
        let program = try node[command], declared = try node[constraint]
        if rule == .constraint, declared == nil {
            throw OperatorError(.invalidParameter, at: constraint.name, "by: constraint needs a constraint declared under constraints:")
        }
        if rule != .constraint, declared != nil {
            throw OperatorError(.invalidParameter, at: constraint.name, "constraint is read only with by: constraint")
        }
        if rule == .command, program == nil {
            throw OperatorError(.invalidParameter, at: command.name, "by: command needs the program to run")
        }
        if rule != .command, program != nil {
            throw OperatorError(.invalidParameter, at: command.name, "command is read only with by: command")
        }
        return rule
    }

    /// The reward node a search or reranker names, checked to be one.
    /// - Parameters:
    ///   - name: the node parameter's value (`nil`: none named).
    ///   - plan: the plan.
    ///   - parameter: the naming parameter, where errors are located.
    /// - Returns: the node, or `nil` when none is named.
    /// - Throws: `OperatorError.invalidParameter` for a node that is not a `reward`.
    static func named(_ name: String?, in plan: Plan, at parameter: String) throws -> Plan.Node? {
        guard let name else { return nil }
        guard let node = plan.node(named: name), node.op == spec.name else {
            throw OperatorError(.invalidParameter, at: parameter, "'\(name)' is not a reward node (op: reward)")
        }
        return node
    }

    /// The judgement of the reward node a search or reranker names.
    /// - Parameters:
    ///   - name: the node parameter's value.
    ///   - environment: binds the reward node.
    ///   - parameter: the naming parameter.
    /// - Returns: the reward node's judge, or `nil` when none is named.
    /// - Throws: as `named` and the reward node's `init`.
    static func judge(named name: String?, environment: any OperatorEnvironment, at parameter: String) throws -> RewardOp? {
        try named(name, in: environment.plan, at: parameter).map { try RewardOp(node: $0, environment: environment) }
    }
}

/// Runs a reward program on one output, bounded in time.
enum CommandReward {
    /// The program's verdict on `input`.
    /// - Parameters:
    ///   - program: the executable (a path, or a name looked up on `PATH`) and its arguments.
    ///   - input: the text written to its standard input.
    ///   - timeout: seconds before it is killed (reward 0).
    /// - Returns: the number on the last line of its standard output, else 1 for exit status 0 and 0 otherwise.
    /// - Throws: `OperatorError.invalidParameter` when the program cannot be started.
    static func run(_ program: [String], input: String, timeout: Double) throws -> Double {
        // A program that exits without reading its input would otherwise kill this process with
        // SIGPIPE when its input is written; ignored, the write fails with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decograph-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        let path = "/usr/local/bin:/usr/bin:/bin"
        if program[0].contains("/") {
            process.executableURL = URL(fileURLWithPath: program[0])
        } else if let found = path.split(separator: ":").map({ "\($0)/\(program[0])" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            process.executableURL = URL(fileURLWithPath: found)
        } else {
            throw OperatorError(.invalidParameter, at: "command", "'\(program[0])' is not on PATH (\(path))")
        }
        process.arguments = Array(program.dropFirst())
        process.environment = ["PATH": path]
        process.currentDirectoryURL = directory
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw OperatorError(.invalidParameter, at: "command", "cannot start '\(program[0])': \(error.localizedDescription)")
        }
        // Waiting, writing and reading each block, so each gets a thread of its own: on Dispatch's
        // global queue, whose width is the core count, concurrent rewards (MCTS's parallel
        // simulations, other work of the process) could take every thread with waits while the
        // writes that would end them stay queued — every program then timed out with reward 0.
        let exited = DispatchSemaphore(value: 0)
        Thread {
            process.waitUntilExit()
            exited.signal()
        }.start()
        Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }.start()
        let output = OutputBox()
        let reading = DispatchSemaphore(value: 0)
        Thread {
            output.data = (try? stdout.fileHandleForReading.readToEnd()) ?? Data()
            reading.signal()
        }.start()
        guard exited.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 5)
            return 0
        }
        _ = reading.wait(timeout: .now() + 5)
        let text = String(decoding: output.data, as: UTF8.self)
        if let last = text.split(whereSeparator: \.isNewline).last, let value = Double(last.trimmingCharacters(in: .whitespaces)), value.isFinite {
            return value
        }
        return process.terminationStatus == 0 ? 1 : 0
    }

    /// The program's standard output, filled by the reading thread.
    final class OutputBox: @unchecked Sendable {
        var data = Data()
    }
}

/// The constraint reward: validity of an output's text under a declared constraint.
enum ConstraintReward {
    /// Single bytes: byte walks need a vocabulary and use none of it.
    static let bytes = TokenVocabulary(tokenBytes: (0...255).map { [UInt8($0)] }, endOfSequence: [])

    /// The grammar of the constraint the node's `constraint` names, compiled as the constrain.*
    /// op of its kind compiles it with its defaults.
    static func grammar(_ node: Plan.Node, plan: Plan) throws -> Grammar {
        guard let name = try node[RewardOp.constraint], let declaration = plan.constraints.first(where: { $0.name == name }),
              case .string(let kind)? = declaration.fields["kind"] else {
            throw OperatorError(.invalidParameter, at: RewardOp.constraint.name, "the constraint is not declared under constraints:")
        }
        // The constrain op reads only `constraint` from a node that names a declaration.
        var named = node
        named.parameters = [RewardOp.constraint.name: .reference(name)]
        named.written = [RewardOp.constraint.name]
        switch kind {
        case "regex": return try ConstrainRegexOp.grammar(named, plan: plan)
        case "json_schema": return try ConstrainJSONSchemaOp.grammar(named, plan: plan)
        case "grammar": return try ConstrainGrammarOp.grammar(named, plan: plan)
        default: throw OperatorError(.invalidParameter, at: RewardOp.constraint.name, "constraint '\(name)' is of kind \(kind), which has no whole-output test")
        }
    }

    /// 1 for a complete, valid output; else half the share of its bytes accepted before the
    /// constraint refused one (or all of them, for an incomplete one).
    static func score(_ output: [UInt8], grammar: Grammar) -> Double {
        var constraint = Constraint(grammar: grammar, vocabulary: bytes)
        let accepted = constraint.advance(bytes: output)
        if accepted == output.count, constraint.isAccepting { return 1 }
        return output.isEmpty ? 0 : 0.5 * Double(accepted) / Double(output.count)
    }
}
