import Support

/// One option of a subcommand: `--name value`, `--name=value`, or a flag `--name`.
public struct OptionSpec: Sendable {
    /// Long name without dashes, kebab-case (`max-tokens`).
    public var name: String
    /// Optional one-letter alias (`-n`).
    public var short: Character?
    /// Name of the value in help (`N`, `FILE`); `nil` makes the option a flag.
    public var valueName: String?
    /// Whether the option may be given several times (values are collected in order).
    public var repeatable: Bool
    /// One line of help.
    public var help: String

    /// Creates an option taking a value.
    /// - Parameters:
    ///   - name: long name, kebab-case, without dashes.
    ///   - short: one-letter alias, if any.
    ///   - value: the value's name in help.
    ///   - repeatable: whether it may be repeated.
    ///   - help: one line of help.
    public static func value(_ name: String, short: Character? = nil, _ value: String,
                             repeatable: Bool = false, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: value, repeatable: repeatable, help: help)
    }

    /// Creates a flag (an option without a value).
    /// - Parameters:
    ///   - name: long name, kebab-case, without dashes.
    ///   - short: one-letter alias, if any.
    ///   - help: one line of help.
    public static func flag(_ name: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: nil, repeatable: false, help: help)
    }
}

/// A positional argument of a subcommand.
public struct PositionalSpec: Sendable {
    /// Name shown in the usage line (`GRAPH`).
    public var name: String
    /// Whether it may be left out.
    public var optional: Bool
    /// Whether it takes all remaining arguments (`FILES…`).
    public var variadic: Bool
    /// One line of help.
    public var help: String

    /// Creates a positional argument.
    /// - Parameters:
    ///   - name: name in the usage line.
    ///   - optional: whether it may be absent.
    ///   - variadic: whether it collects the remaining arguments.
    ///   - help: one line of help.
    public init(_ name: String, optional: Bool = false, variadic: Bool = false, help: String) {
        self.name = name
        self.optional = optional
        self.variadic = variadic
        self.help = help
    }
}

/// A (sub)command: its name, help, options, arguments, and either a body or subcommands.
///
/// Each subcommand is declared in its own file under `Commands/` as a static member of this type
/// and listed once in `CommandSpec.root`.
public struct CommandSpec: Sendable {
    /// The word that selects it (`run`, `bench`).
    public var name: String
    /// One-line summary for listings.
    public var abstract: String
    /// Longer help shown by `--help`.
    public var discussion: String
    /// Options, without the implicit `-h/--help`.
    public var options: [OptionSpec]
    /// Positional arguments, in order.
    public var positionals: [PositionalSpec]
    /// Nested subcommands (`bench runtime`); a command with subcommands has no body.
    public var subcommands: [CommandSpec]
    /// The body: returns the process exit status.
    public var body: (@Sendable (ParsedArguments, CommandContext) throws -> Int32)?

    /// Creates a command.
    /// - Parameters:
    ///   - name: the word that selects it.
    ///   - abstract: a one-line summary.
    ///   - discussion: longer help.
    ///   - options: its options.
    ///   - positionals: its positional arguments.
    ///   - subcommands: nested subcommands, for a command group.
    ///   - body: what it does; `nil` for a group.
    public init(_ name: String, abstract: String, discussion: String = "",
                options: [OptionSpec] = [], positionals: [PositionalSpec] = [],
                subcommands: [CommandSpec] = [],
                body: (@Sendable (ParsedArguments, CommandContext) throws -> Int32)? = nil) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.positionals = positionals
        self.subcommands = subcommands
        self.body = body
    }

    /// A group selects among subcommands and has no body of its own.
    var isGroup: Bool { body == nil }

    /// The usage line, given the words leading to this command (`decograph bench runtime`).
    func usage(path: [String]) -> String {
        var parts = path
        if isGroup {
            parts.append("<subcommand>")
        } else {
            if !options.isEmpty { parts.append("[options]") }
            for p in positionals {
                let word = p.variadic ? "\(p.name)…" : p.name
                parts.append(p.optional ? "[\(word)]" : word)
            }
        }
        return "Usage: " + parts.joined(separator: " ")
    }

    /// Full help text.
    func help(path: [String]) -> String {
        var out = "OVERVIEW: \(abstract)\n"
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        out += "\n\(usage(path: path))\n"
        if !subcommands.isEmpty {
            out += "\nSUBCOMMANDS:\n"
            let width = (subcommands.map(\.name.count).max() ?? 0) + 2
            for s in subcommands { out += "  " + s.name.padded(to: width) + s.abstract + "\n" }
            out += "\n  See '\((path + ["help", "<subcommand>"]).joined(separator: " "))' for detailed help.\n"
        }
        if !positionals.isEmpty {
            out += "\nARGUMENTS:\n"
            let width = (positionals.map(\.name.count).max() ?? 0) + 2
            for p in positionals { out += "  " + p.name.padded(to: width) + p.help + "\n" }
        }
        out += "\nOPTIONS:\n"
        var rows: [(String, String)] = options.map { o in
            var left = o.short.map { "-\($0), " } ?? ""
            left += "--\(o.name)"
            if let v = o.valueName { left += " <\(v)>" }
            return (left, o.help + (o.repeatable ? " (repeatable)" : ""))
        }
        rows.append(("-h, --help", "Show help information."))
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        for (l, r) in rows { out += "  " + l.padded(to: width) + r + "\n" }
        return out
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
