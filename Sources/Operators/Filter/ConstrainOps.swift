import Constraints
import Graph

/// `constrain.regex`: the output must match a regular expression as a whole. See `ConstraintFilter`.
public struct ConstrainRegexOp: ConstraintOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "constrain.regex", family: .filter,
        doc: "The output must match a regular expression as a whole (ECMAScript syntax, docs/constraints.md): prunes proposed tokens it forbids, masks every scored row, adds forced tokens; EOS only where the match is complete.",
        parameters: [pattern.spec, constraint.parameter.spec, ConstraintFilter.forced.spec],
        inputs: [ConstraintFilter.treePort],
        output: ConstraintFilter.output,
        validate: ConstraintFilter.validation(grammar))

    static let pattern = OpParameter<String?>("pattern", doc: "The regular expression.")
    static let constraint = ConstraintFilter.declared("regex")

    /// The compiled constraint and its step behaviour.
    public let filter: ConstraintFilter

    /// Compiles the pattern against the target's vocabulary.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: supplies the vocabulary and `constraints:` declarations.
    /// - Throws: `OperatorError.invalidParameter` for a malformed or unsupported pattern.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        filter = try ConstraintFilter(node: node, environment: environment, grammar: Self.grammar)
    }

    /// The node's pattern as a byte-level grammar (no vocabulary needed).
    @Sendable static func grammar(_ node: Plan.Node, plan: Plan) throws -> Grammar {
        let declared = try ConstraintFilter.declaration(of: node, plan: plan, constraint)
        var fromDeclaration: ConstraintFilter.Source?
        if case .string(let p)? = declared?.fields["pattern"] { fromDeclaration = .text(p) }
        let pattern = try ConstraintFilter.one([(pattern.name, try node[pattern].map { .text($0) }), (constraint.name, fromDeclaration)])
        return try ConstraintFilter.compile(pattern) { try Grammar.regex($0) }
    }
}

/// `constrain.json_schema`: the output must be a JSON instance valid under a JSON Schema (draft
/// 2020-12, the subset of docs/constraints.md; anything else is refused when the graph is bound).
public struct ConstrainJSONSchemaOp: ConstraintOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "constrain.json_schema", family: .filter,
        doc: "The output must be a JSON instance valid under a JSON Schema (draft 2020-12; an unsupported keyword is an error naming it and its JSON pointer): prunes proposed tokens, masks every scored row, adds forced tokens (keys, literals).",
        parameters: [schema.spec, path.spec, constraint.parameter.spec, maxWhitespace.spec, maxNewlines.spec, maxNumberDigits.spec, strings.spec,
                     formats.spec, ConstraintFilter.forced.spec],
        inputs: [ConstraintFilter.treePort],
        output: ConstraintFilter.output,
        validate: ConstraintFilter.validation(grammar))

    /// The largest `max_whitespace`/`max_newlines` accepted: a gap has (bytes + 1) × (line feeds
    /// + 1) automaton states, each a mask class of its own near the bounds.
    static let maxWhitespaceBound = 256

    static let schema = OpParameter<YAMLNode?>("schema", doc: "The schema, inline (YAML or JSON syntax).")
    static let path = OpParameter<String?>("path", doc: "A file holding the schema, relative to the graph file.")
    static let constraint = ConstraintFilter.declared("json_schema")
    static let maxWhitespace = OpParameter<Int>("max_whitespace", default: JSONWhitespace.defaultMaxBytes, range: .closed(0, Double(maxWhitespaceBound)),
                                                doc: "Most whitespace bytes in one gap between two JSON tokens. Bounded, so a model cannot pad forever; the default fits a line feed and the indentation of pretty-printed JSON (json.dumps indent=4 eight levels deep) and the indentation tokens of byte-level BPE vocabularies, so a model writes JSON as it was trained to. 0 forces compact JSON.")
    static let maxNewlines = OpParameter<Int>("max_newlines", default: JSONWhitespace.defaultMaxNewlines, range: .closed(0, Double(maxWhitespaceBound)),
                                              doc: "Most line feeds in one gap (1: one per gap, as pretty-printers write; 0: single-line JSON).")
    /// The largest `max_number_digits` accepted: each digit of a run is an automaton state, up to
    /// the regex repetition bound (1000).
    static let maxNumberDigitsBound = 1000
    static let maxNumberDigits = OpParameter<Int>("max_number_digits", default: JSONSchemaOptions.defaultMaxNumberDigits, range: .closed(1, Double(maxNumberDigitsBound)),
                                                  doc: "Most digits of each digit run of a number (integer part, fraction, exponent), so a model cannot write digits forever. The default, 22, holds every 64-bit integer and every double as JavaScript and Python print it; a schema whose own numbers need longer runs gets them.")
    static let strings = OpParameter<Strings>("strings", default: .canonical,
                                              doc: "canonical accepts each string in one spelling (only \", \\ and control characters escaped), so keys and literals are forced tokens and a model cannot wander into escapes; any accepts every JSON escape.")
    static let formats = OpParameter<Bool>("formats", default: true,
                                           doc: "Enforce `format` (date-time, date, time, email, uuid, uri, ipv4, ipv6); false treats it as an annotation.")

    /// Which spellings of a JSON string are accepted.
    enum Strings: String, ParameterEnumeration {
        case canonical, any
    }

    /// The compiled constraint and its step behaviour.
    public let filter: ConstraintFilter

    /// Compiles the schema against the target's vocabulary.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: supplies the vocabulary and `constraints:` declarations.
    /// - Throws: `OperatorError.invalidParameter` naming the unsupported keyword and its pointer,
    ///   or an unreadable file.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        filter = try ConstraintFilter(node: node, environment: environment, grammar: Self.grammar)
    }

    /// The node's schema as a byte-level grammar (no vocabulary needed).
    @Sendable static func grammar(_ node: Plan.Node, plan: Plan) throws -> Grammar {
        let declared = try ConstraintFilter.declaration(of: node, plan: plan, constraint)
        var fromDeclaration: ConstraintFilter.Source?
        if case .document(let yaml)? = declared?.fields["schema"] {
            fromDeclaration = .yaml(yaml, parameter: constraint.name)
        } else if let file = declared?.path {
            fromDeclaration = .file(file, parameter: constraint.name)
        }
        let text = try ConstraintFilter.one([(schema.name, try node[schema].map { .yaml($0, parameter: schema.name) }),
                                             (path.name, try ConstraintFilter.file(node, path)), (constraint.name, fromDeclaration)])
        let whitespace = JSONWhitespace(maxBytes: try node[maxWhitespace], maxNewlines: try node[maxNewlines])
        let options = JSONSchemaOptions(whitespace: whitespace, assertFormats: try node[formats],
                                        canonicalStrings: try node[strings] == .canonical, maxNumberDigits: try node[maxNumberDigits])
        return try ConstraintFilter.compile(text) { try Grammar.jsonSchema($0, options: options) }
    }
}

/// `constrain.grammar`: the output must be a sentence of a context-free grammar (the EBNF dialect of
/// docs/constraints.md, which reads llama.cpp GBNF).
public struct ConstrainGrammarOp: ConstraintOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "constrain.grammar", family: .filter,
        doc: "The output must be a sentence of a context-free grammar (EBNF / llama.cpp GBNF, docs/constraints.md), parsed incrementally (Earley): prunes proposed tokens, masks every scored row, adds forced tokens.",
        parameters: [path.spec, text.spec, constraint.parameter.spec, root.spec, ConstraintFilter.forced.spec],
        inputs: [ConstraintFilter.treePort],
        output: ConstraintFilter.output,
        validate: ConstraintFilter.validation(grammar))

    static let path = OpParameter<String?>("path", doc: "A grammar file, relative to the graph file.")
    static let text = OpParameter<String?>("text", doc: "The grammar, inline.")
    static let constraint = ConstraintFilter.declared("grammar")
    static let root = OpParameter<String>("root", default: "root", doc: "The start rule.")

    /// The compiled constraint and its step behaviour.
    public let filter: ConstraintFilter

    /// Parses the grammar and binds it to the target's vocabulary.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: supplies the vocabulary and `constraints:` declarations.
    /// - Throws: `OperatorError.invalidParameter` with the grammar's `line:column`, or an unreadable file.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        filter = try ConstraintFilter(node: node, environment: environment, grammar: Self.grammar)
    }

    /// The node's grammar, parsed (no vocabulary needed).
    @Sendable static func grammar(_ node: Plan.Node, plan: Plan) throws -> Grammar {
        let declared = try ConstraintFilter.declaration(of: node, plan: plan, constraint)
        let definition = try ConstraintFilter.one([
            (path.name, try ConstraintFilter.file(node, path)),
            (text.name, try node[text].map { .text($0) }),
            (constraint.name, declared?.path.map { .file($0, parameter: constraint.name) }),
        ])
        let start = try node[root]
        return try ConstraintFilter.compile(definition) { try Grammar.parse($0, root: start) }
    }
}

/// `constrain.phrases`: lexical constraints — every listed phrase must appear in the output, which
/// may not end (EOS is masked) until all have.
public struct ConstrainPhrasesOp: ConstraintOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "constrain.phrases", family: .filter,
        doc: "Lexical constraint: the output may not end (EOS is masked) until every listed phrase has appeared, in any order; any other text is free.",
        parameters: [phrases.spec, ConstraintFilter.forced.spec],
        inputs: [ConstraintFilter.treePort],
        output: ConstraintFilter.output,
        validate: ConstraintFilter.validation(grammar))

    static let phrases = OpParameter<[String]>("phrases", nonEmpty: true, doc: "The phrases that must appear (at least one).")

    /// The compiled constraint and its step behaviour.
    public let filter: ConstraintFilter

    /// Builds the phrase automaton against the target's vocabulary.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: supplies the vocabulary.
    /// - Throws: `OperatorError.invalidParameter` for an empty list or phrase, or too large an automaton.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        filter = try ConstraintFilter(node: node, environment: environment, grammar: Self.grammar)
    }

    /// The node's phrase automaton (no vocabulary needed).
    @Sendable static func grammar(_ node: Plan.Node, plan: Plan) throws -> Grammar {
        let required = try node[phrases]
        guard !required.isEmpty, !required.contains(where: \.isEmpty) else {
            throw OperatorError(.invalidParameter, at: phrases.name, "list at least one phrase, none of them empty")
        }
        return try ConstraintFilter.compile((phrases.name, "")) { _ in try Grammar.phrases(required) }
    }
}
