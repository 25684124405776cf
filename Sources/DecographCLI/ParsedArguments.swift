import Support

/// A command-line mistake: printed as `Error: …` plus the usage line, exit status 64 (EX_USAGE).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, as a sentence.
    public var message: String
    /// The usage line of the command being parsed, when known.
    public var usage: String?
    /// Creates a usage error.
    /// - Parameters:
    ///   - message: what is wrong.
    ///   - usage: the usage line to print after it.
    public init(_ message: String, usage: String? = nil) {
        self.message = message
        self.usage = usage
    }
    public var description: String { message }
}

/// A runtime failure of a command: printed as `Error: …`, exit status 1.
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var message: String
    /// Creates a failure.
    /// - Parameter message: what went wrong, with what the user can do about it.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The options and positional arguments given to one command, already checked against its spec.
public struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    /// Positional arguments in order (a variadic one contributes all its words).
    public private(set) var positionals: [String] = []
    let usageLine: String

    /// Whether a flag was given.
    /// - Parameter name: its long name.
    /// - Returns: `true` when present.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The last value of an option.
    /// - Parameter name: its long name.
    /// - Returns: the value, or `nil` when absent.
    public func value(_ name: String) -> String? { values[name]?.last }

    /// All values of a repeatable option, in order.
    /// - Parameter name: its long name.
    /// - Returns: the values (empty when absent).
    public func values(_ name: String) -> [String] { values[name] ?? [] }

    /// An option's value parsed as an integer within a range.
    /// - Parameters:
    ///   - name: its long name.
    ///   - range: allowed values.
    /// - Returns: the integer, or `nil` when the option is absent.
    /// - Throws: `UsageError` when the value is not an integer in `range`.
    public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw UsageError("The value '\(text)' is invalid for '--\(name)': expected an integer in \(range.lowerBound)...\(range.upperBound).", usage: usageLine)
        }
        return v
    }

    /// An option's value as a size in bytes: an integer, optionally followed by K, M or G
    /// (powers of 1024, as `sort -S` and `--memory` options take them).
    /// - Parameters:
    ///   - name: its long name.
    ///   - minimum: the smallest size accepted.
    /// - Returns: the size, or `nil` when the option is absent.
    /// - Throws: `UsageError` when the value is not a size of at least `minimum`.
    public func byteSize(_ name: String, minimum: Int = 0) throws -> Int? {
        guard let text = value(name) else { return nil }
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30]
        var digits = Substring(text.uppercased())
        var shift = 0
        if let last = digits.last, let unit = units[last] {
            shift = unit
            digits = digits.dropLast()
        }
        guard let count = Int(digits), count >= 0, count <= Int.max >> shift, count << shift >= minimum else {
            throw UsageError("The value '\(text)' is invalid for '--\(name)': expected a size of at least \(minimum >> 20)M (bytes, or a number with K, M or G).", usage: usageLine)
        }
        return count << shift
    }

    /// An option's value as integers separated by commas.
    /// - Parameters:
    ///   - name: its long name.
    ///   - range: allowed values.
    /// - Returns: the integers, or `nil` when the option is absent.
    /// - Throws: `UsageError` when a value is not an integer in `range` or the list is empty.
    public func intList(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> [Int]? {
        guard let text = value(name) else { return nil }
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0.map(range.contains) ?? false }) else {
            throw UsageError("The value '\(text)' is invalid for '--\(name)': expected integers in \(range.lowerBound)...\(range.upperBound) separated by commas.", usage: usageLine)
        }
        return values.map { $0! }
    }

    /// An option's value as one of an enumeration's spellings.
    /// - Parameter name: its long name.
    /// - Returns: the case, or `nil` when the option is absent.
    /// - Throws: `UsageError` naming the accepted spellings when the value is none of them.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type = T.self) throws -> T?
    where T.RawValue == String {
        guard let text = value(name) else { return nil }
        guard let v = T(rawValue: text) else {
            let accepted = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("The value '\(text)' is invalid for '--\(name)': expected one of \(accepted).", usage: usageLine)
        }
        return v
    }

    /// An option's value parsed as a floating-point number.
    /// - Parameter name: its long name.
    /// - Returns: the number, or `nil` when the option is absent.
    /// - Throws: `UsageError` when the value is not a number.
    public func double(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = Double(text), v.isFinite else {
            throw UsageError("The value '\(text)' is invalid for '--\(name)': expected a number.", usage: usageLine)
        }
        return v
    }

    /// A value that must be present.
    /// - Parameter name: its long name.
    /// - Returns: the value.
    /// - Throws: `UsageError` when it is absent.
    public func required(_ name: String) throws -> String {
        guard let v = value(name) else {
            throw UsageError("Missing expected argument '--\(name)'.", usage: usageLine)
        }
        return v
    }

    /// Parses `arguments` for `spec`.
    static func parse(_ arguments: [String], spec: CommandSpec, path: [String]) throws -> ParsedArguments {
        let usage = spec.usage(path: path)
        var result = ParsedArguments(usageLine: usage)
        var index = 0
        var optionsEnded = false
        func option(named name: String) throws -> OptionSpec {
            if let o = spec.options.first(where: { $0.name == name }) { return o }
            var message = "Unknown option '--\(name)'."
            if let s = Suggestion.closest(to: name, among: spec.options.map(\.name)) {
                message += " Did you mean '--\(s)'?"
            }
            throw UsageError(message, usage: usage)
        }
        func record(_ o: OptionSpec, inlineValue: String?, spelled: String) throws {
            if o.valueName == nil {
                if inlineValue != nil {
                    throw UsageError("The flag '\(spelled)' does not take a value.", usage: usage)
                }
                result.flags.insert(o.name)
                return
            }
            var v = inlineValue
            if v == nil {
                index += 1
                guard index < arguments.count else {
                    throw UsageError("Missing value for '\(spelled) <\(o.valueName!)>'.", usage: usage)
                }
                v = arguments[index]
            }
            if !o.repeatable, result.values[o.name] != nil {
                throw UsageError("The option '--\(o.name)' was given more than once.", usage: usage)
            }
            result.values[o.name, default: []].append(v!)
        }
        while index < arguments.count {
            let arg = arguments[index]
            if !optionsEnded, arg == "--" {
                optionsEnded = true
            } else if !optionsEnded, arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                let parts = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let o = try option(named: String(parts[0]))
                try record(o, inlineValue: parts.count > 1 ? String(parts[1]) : nil, spelled: "--\(parts[0])")
            } else if !optionsEnded, arg.hasPrefix("-"), arg.count == 2, arg != "-" {
                let c = arg.last!
                guard let o = spec.options.first(where: { $0.short == c }) else {
                    throw UsageError("Unknown option '\(arg)'.", usage: usage)
                }
                try record(o, inlineValue: nil, spelled: arg)
            } else {
                result.positionals.append(arg)
            }
            index += 1
        }
        let required = spec.positionals.filter { !$0.optional }.count
        let variadic = spec.positionals.contains { $0.variadic }
        if result.positionals.count < required {
            let missing = spec.positionals.filter { !$0.optional }[result.positionals.count]
            throw UsageError("Missing expected argument '\(missing.name)'.", usage: usage)
        }
        if !variadic, result.positionals.count > spec.positionals.count {
            throw UsageError("Unexpected argument '\(result.positionals[spec.positionals.count])'.", usage: usage)
        }
        return result
    }
}
