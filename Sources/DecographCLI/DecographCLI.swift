import Support

/// The `decograph` command line: parses arguments, dispatches to a subcommand, maps errors to
/// exit statuses (64 for usage errors, 1 for failures).
public enum DecographCLI {
    /// The version printed by `--version`.
    public static let version = "0.1.0"

    /// The top-level command and its subcommands. Adding a subcommand: one file under
    /// `Commands/` declaring a `static let` on `CommandSpec`, and one entry here.
    static let root = CommandSpec(
        "decograph",
        abstract: "A declarative decoding-graph engine: decoding methods as YAML graphs over a shared CPU model runtime.",
        subcommands: [
            .bench, .check, .explain, .graph, .ops, .tokenize, .store, .constrain, .run, .serve,
        ])

    /// Runs the command line.
    /// - Parameters:
    ///   - arguments: the arguments after the program name.
    ///   - context: where output goes.
    /// - Returns: the process exit status.
    public static func main(_ arguments: [String], context: CommandContext = .standard()) -> Int32 {
        do {
            return try dispatch(arguments, spec: root, path: ["decograph"], context: context)
        } catch let error as UsageError {
            context.printError("Error: \(error.message)")
            if let usage = error.usage { context.printError(usage) }
            return 64
        } catch {
            context.printError("Error: \(error)")
            return 1
        }
    }

    static func dispatch(_ arguments: [String], spec: CommandSpec, path: [String],
                         context: CommandContext) throws -> Int32 {
        if arguments.first == "--version", path.count == 1 {
            context.print(version)
            return 0
        }
        let beforeTerminator = arguments.prefix(while: { $0 != "--" })
        if beforeTerminator.contains(where: { $0 == "-h" || $0 == "--help" }),
           !spec.isGroup || arguments.first?.hasPrefix("-") == true {
            context.write(spec.help(path: path))
            return 0
        }
        if let body = spec.body {
            return try body(try ParsedArguments.parse(arguments, spec: spec, path: path), context)
        }
        guard let word = arguments.first else {
            context.write(spec.help(path: path))
            return 0
        }
        if word == "help" {
            var target = spec
            var targetPath = path
            for name in arguments.dropFirst() {
                guard let next = target.subcommands.first(where: { $0.name == name }) else {
                    throw unknownSubcommand(name, in: target, path: targetPath)
                }
                target = next
                targetPath.append(name)
            }
            context.write(target.help(path: targetPath))
            return 0
        }
        if word.hasPrefix("-") {
            throw UsageError("Unknown option '\(word)'.", usage: spec.usage(path: path))
        }
        guard let next = spec.subcommands.first(where: { $0.name == word }) else {
            throw unknownSubcommand(word, in: spec, path: path)
        }
        return try dispatch(Array(arguments.dropFirst()), spec: next, path: path + [word], context: context)
    }

    static func unknownSubcommand(_ word: String, in spec: CommandSpec, path: [String]) -> UsageError {
        var message = "Unknown subcommand '\(word)'."
        if let s = Suggestion.closest(to: word, among: spec.subcommands.map(\.name)) {
            message += " Did you mean '\(s)'?"
        }
        return UsageError(message, usage: spec.usage(path: path))
    }
}
