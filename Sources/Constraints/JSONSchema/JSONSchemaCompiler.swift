/// Compiles a JSON Schema (drafts 4, 6, 7, 2019-09 and 2020-12, chosen by `$schema` or
/// `JSONSchemaOptions.defaultDraft`) into a `Grammar` whose sentences are exactly the JSON texts of
/// valid instances, for the keywords we support; any other keyword is refused with its JSON pointer.
///
/// A schema position is compiled as a *conjunction* of schema objects (the schema, its `$ref` targets
/// and `allOf` members), so `allOf` and `$ref` with siblings need no schema merging: each type's grammar
/// collects the keywords of all conjuncts (all patterns intersected, the tightest bounds, per-property
/// conjunctions). Disjunctions distribute over the conjunction: `anyOf`, `oneOf` when its branches are
/// provably disjoint, `if`/`then`/`else`, `dependentSchemas`, and negations, which become a union of
/// one alternative per negated keyword. Conjunctions are memoised by their parts' identities (document,
/// derivation, pointer), which makes recursive `$ref`s recursive grammar rules.
public enum JSONSchemaCompiler {
    /// A compiled schema.
    public struct Result {
        /// The grammar of the valid instances' JSON text.
        public var grammar: Grammar
        /// Unsupported keywords ignored under `lenient`, and unknown keywords and `format` names no
        /// draft defines (ignored as annotations).
        public var warnings: [ConstraintError]
    }

    /// Compiles a schema.
    /// - Parameters:
    ///   - schema: the schema document.
    ///   - options: leniency, whitespace and format handling.
    /// - Returns: the grammar and warnings.
    /// - Throws: `ConstraintError` naming the unsupported keyword (`feature`) and its JSON pointer.
    public static func compile(_ schema: JSONValue, options: JSONSchemaOptions = .init()) throws(ConstraintError) -> Result {
        let compilation = try SchemaCompilation(root: schema, options: options)
        let root = try compilation.compile([SchemaCompilation.Part(path: [], value: schema)])
        let rootRule = compilation.builder.newRule("json")
        // Nothing after the root value: no trailing whitespace, so once the value is complete the
        // only continuation is the end of the output (a model cannot pad up to the bound).
        compilation.builder.add(rootRule, [.rule(root)])
        try compilation.resolveDeferredEnums()
        return Result(grammar: compilation.builder.build(root: rootRule), warnings: compilation.warnings)
    }

    /// Compiles a schema given as JSON text.
    /// - Parameters:
    ///   - text: the schema.
    ///   - options: leniency, whitespace and format handling.
    /// - Returns: the grammar and warnings.
    /// - Throws: `ConstraintError` for malformed JSON or an unsupported keyword.
    public static func compile(text: String, options: JSONSchemaOptions = .init()) throws(ConstraintError) -> Result {
        try compile(JSONValue.parse(text), options: options)
    }
}

/// The state of one schema compilation.
final class SchemaCompilation {
    /// A schema object taking part in a conjunction, and the keywords already expanded from it.
    struct Part {
        var path: [String]
        var value: JSONValue
        var consumed: Set<String> = []
        /// The document the path is in (see `SchemaResources.Location`).
        var document = 0
        /// "" for a schema of the document; else what the compiler derived from the schema at `path`
        /// (`SchemaCompilation.Role`): a derived schema is a function of its path and role, so the two
        /// identify it for memoisation, and its subschemas inherit the role.
        var role = ""
        /// The schema is negated: instances valid against it are rejected and the others accepted.
        var negated = false
        /// The identity of the part that applied this one in place (`$ref`, `allOf`, a branch of
        /// `anyOf`/`oneOf`, `if`/`then`/`else`, `dependentSchemas`): its annotations (evaluated
        /// properties and items) flow there. Nil for negations, whose annotations are dropped.
        var origin: String? = nil

        var pointer: String { SchemaCompilation.pointer(path) }
        var identity: String { "\(document)\(negated ? "!" : "")\(role)\(pointer)" }
        var location: SchemaResources.Location { .init(document: document, path: path) }

        /// A subschema of this one, in the same document and role; `inPlace` when it applies to the
        /// same instance and its annotations count for this one.
        func child(_ components: [String], _ value: JSONValue, inPlace: Bool = false) -> Part {
            Part(path: path + components, value: value, document: document, role: role, origin: inPlace ? identity : nil)
        }
    }

    /// What a derived schema (`Part.role`) stands for.
    enum Role {
        /// A conjunct's negation (`{"not": {"type": …}}` for `type`, and so on).
        static let negation = "¬"
        /// The object has the property the path names (`properties`, `dependentSchemas` keys).
        static let present = "+"
        /// The object lacks the property the path names.
        static let absent = "-"
    }

    static let allTypes: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]
    /// Arrays with `maxItems` are unrolled one rule per count; larger bounds are refused.
    static let maxUnrolledItems = 10_000
    /// `maxLength` unrolls the decoded-string automaton per character; larger bounds count with
    /// `ScalarCountLexeme`, whose states are not shared with patterns' masks.
    static let maxUnrolledLength = 1000
    /// `dependentSchemas` keys of one schema object are expanded into 2ⁿ alternatives (each key
    /// absent, or present with its schema); more keys than this are refused.
    static let maxDependentSchemas = 6

    let root: JSONValue
    let options: JSONSchemaOptions
    /// The draft of the root schema (its `$schema`, else the option's default).
    let draft: JSONSchemaDraft
    let resources: SchemaResources
    var builder = GrammarBuilder()
    private var memo: [String: Int32] = [:]
    private(set) var warnings: [ConstraintError] = []
    private var warned: Set<String> = []
    private(set) var ws: Grammar.Symbol = .rule(0)
    private var deferredEnums: [(rule: Int32, candidates: [JSONValue], rest: Int32, pointer: String)] = []
    private var anyStringInner: RegexLexeme?
    /// The padded lexeme of an unconstrained JSON string, shared by every such value.
    private var anyStringLexeme: WhitespacePrefixedLexeme?
    private var keyLexemes: [String: Grammar.Symbol] = [:]
    let annotations: Set<String>
    let assertions: Set<String>

    init(root: JSONValue, options: JSONSchemaOptions) throws(ConstraintError) {
        self.root = root
        self.options = options
        var draft = options.defaultDraft
        if case .string(let uri)? = root["$schema"] {
            if let named = JSONSchemaDraft(metaschemaURI: uri) {
                draft = named
            } else {
                let error = ConstraintError(.unsupportedKeyword, at: "#/$schema", feature: "$schema",
                                            "custom metaschemas (vocabularies) are not supported: '\(uri)'")
                guard options.lenient else { throw error }
                warnings.append(error)
            }
        }
        self.draft = draft
        schemaDigits = ([root] + options.documents.values).map { Self.longestLiteralRun($0) }.max() ?? 0
        annotations = draft.annotations
        assertions = draft.assertions
        resources = SchemaResources(root: root, documents: options.documents, draft: draft)
        // The gap before punctuation, the same automaton as the gap folded into value lexemes.
        ws = builder.lexeme(JSONWhitespaceLexeme(options.whitespace))
    }

    static func pointer(_ path: [String]) -> String {
        "#" + path.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    // MARK: Errors and warnings

    func refuse(_ keyword: String, at path: [String], _ message: String) throws(ConstraintError) {
        let error = ConstraintError(.unsupportedKeyword, at: Self.pointer(path), feature: keyword, message)
        guard options.lenient else { throw error }
        if warned.insert(error.location + keyword).inserted { warnings.append(error) }
    }

    func warn(_ keyword: String, at path: [String], _ message: String) {
        let w = ConstraintError(.unsupportedKeyword, at: Self.pointer(path), feature: keyword, message)
        if warned.insert(w.location + keyword).inserted { warnings.append(w) }
    }

    func invalid(_ path: [String], _ message: String) -> ConstraintError {
        ConstraintError(.invalidSchema, at: Self.pointer(path), message)
    }

    // MARK: Conjunctions

    /// Compiles the conjunction of `parts` to a rule (memoised by the parts' identities).
    func compile(_ parts: [Part]) throws(ConstraintError) -> Int32 {
        let flat = try flatten(parts)
        // Where annotations flow matters only to unevaluatedProperties/unevaluatedItems.
        let annotationsMatter = flat.contains { $0.value["unevaluatedProperties"] != nil || $0.value["unevaluatedItems"] != nil }
        let key = flat.map { $0.identity + "{" + $0.consumed.sorted().joined(separator: ",") + "}" + (annotationsMatter ? "<" + ($0.origin ?? "") : "") }
            .sorted().joined(separator: "&")
        if let rule = memo[key] { return rule }
        let rule = builder.newRule(key.isEmpty ? "any" : key)
        memo[key] = rule
        try body(rule, flat)
        return rule
    }

    /// Expands `$ref` and `allOf` into the conjunction, checks every keyword, and keeps of each
    /// schema object only the keywords its draft asserts with (the rest are annotations).
    func flatten(_ parts: [Part]) throws(ConstraintError) -> [Part] {
        var queue = parts[...]
        var out: [Part] = []
        var seen: Set<String> = []
        while var part = queue.popFirst() {
            guard seen.insert(part.identity).inserted else { continue }
            switch part.value {
            case .bool(let b):
                // A negated boolean is its opposite.
                if part.negated { part = Part(path: part.path, value: .bool(!b), document: part.document, role: part.role) }
                out.append(part)
                continue
            case .object(let members):
                var kept: [(key: String, value: JSONValue)] = []
                let onlyRef = draft.refOverridesSiblings && part.value["$ref"] != nil
                for (keyword, value) in members where !onlyRef || keyword == "$ref" {
                    if try check(keyword, value, in: part) { kept.append((keyword, value)) }
                }
                part.value = .object(kept)
            default:
                throw invalid(part.path, "a schema must be an object or a boolean")
            }
            // A negated schema is expanded as a whole by `negationAlternatives`.
            if part.negated { out.append(part); continue }
            for keyword in ["$ref", "$recursiveRef", "$dynamicRef"] where !part.consumed.contains(keyword) {
                guard case .string(let ref)? = part.value[keyword] else { continue }
                part.consumed.insert(keyword)
                if var target = try resolve(ref, keyword: keyword, from: part) {
                    target.origin = part.identity
                    queue.append(target)
                }
            }
            if !part.consumed.contains("allOf"), case .array(let members)? = part.value["allOf"] {
                part.consumed.insert("allOf")
                for (i, m) in members.enumerated() { queue.append(part.child(["allOf", String(i)], m, inPlace: true)) }
            }
            out.append(part)
        }
        return out
    }

    static func child(_ node: JSONValue, _ token: String) -> JSONValue? {
        switch node {
        case .object: return node[token]
        case .array(let items): if let i = Int(token), items.indices.contains(i) { return items[i] } else { return nil }
        default: return nil
        }
    }

    // MARK: Bodies

    func body(_ rule: Int32, _ parts: [Part]) throws(ConstraintError) {
        if parts.contains(where: { if case .bool(false) = $0.value { return true } else { return false } }) { return }
        // A disjunction anywhere in the conjunction distributes over it.
        let scopes = evaluationScopes(parts, "unevaluatedProperties") + evaluationScopes(parts, "unevaluatedItems")
        for (k, part) in parts.enumerated() {
            let annotated = scopes.contains { $0.scope.contains(k) }
            guard let (keyword, alternatives) = try disjunction(part, annotated: annotated) else { continue }
            for alternative in alternatives {
                var conjunction = parts
                conjunction[k].consumed.insert(keyword)
                if keyword == "negation" { conjunction.remove(at: k) }
                conjunction += alternative
                builder.add(rule, [.rule(try compile(conjunction))])
            }
            return
        }
        var candidates: [JSONValue]? = nil
        var rest = parts
        for (k, part) in parts.enumerated() where !part.consumed.contains("const") {
            var values: [JSONValue]? = nil
            if let c = part.value["const"] { values = [c] }
            if let e = part.value["enum"] {
                guard case .array(let list) = e else { throw invalid(part.path + ["enum"], "enum must be an array") }
                values = values.map { v in v.filter { list.contains($0) } } ?? list
            }
            guard let values else { continue }
            candidates = candidates.map { c in c.filter { values.contains($0) } } ?? values
            rest[k].consumed.formUnion(["const", "enum"])
        }
        if let candidates {
            let restRule = try compile(rest)
            deferredEnums.append((rule, candidates, restRule, parts[0].pointer))
            return
        }
        try typeAlternatives(rule, parts)
    }


    func stringsIn(_ value: JSONValue?, _ path: [String]) throws(ConstraintError) -> [String]? {
        guard let value else { return nil }
        switch value {
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw invalid(path, "expected strings") }
                out.append(s)
            }
            return out
        default: throw invalid(path, "expected a string or an array of strings")
        }
    }

    func integer(_ part: Part, _ keyword: String) throws(ConstraintError) -> Int? {
        guard let v = part.value[keyword] else { return nil }
        guard case .number(let text) = v, let d = DecimalNumber(text), d.isInteger, !d.negative,
              let n = Int(exactly: Double(text) ?? -1) else {
            throw invalid(part.path + [keyword], "\(keyword) must be a non-negative integer")
        }
        return n
    }

    func number(_ part: Part, _ keyword: String) throws(ConstraintError) -> DecimalNumber? {
        guard let v = part.value[keyword] else { return nil }
        guard case .number(let text) = v, let d = DecimalNumber(text) else {
            throw invalid(part.path + [keyword], "\(keyword) must be a number")
        }
        return d
    }

    func typeAlternatives(_ rule: Int32, _ parts: [Part]) throws(ConstraintError) {
        var allowed = Self.allTypes
        for part in parts {
            guard let names = try stringsIn(part.value["type"], part.path + ["type"]) else { continue }
            var expanded = Set<String>()
            for n in names {
                guard Self.allTypes.contains(n) else { throw invalid(part.path + ["type"], "unknown type '\(n)'") }
                expanded.insert(n)
                if n == "number" { expanded.insert("integer") }
            }
            allowed.formIntersection(expanded)
        }
        var excludesInteger = false
        // Literals some `not: {const/enum}` excludes, and where the first such `not` is.
        var excluded: [JSONValue] = []
        var exclusionPath: [String] = []
        for part in parts where !part.consumed.contains("not") {
            guard let negated = part.value["not"].map(asserting) else { continue }
            if case .bool(let b) = negated {
                if b { return }   // not: true rejects everything
                continue
            }
            if let values = Self.literalSet(negated) {
                if excluded.isEmpty { exclusionPath = part.path + ["not"] }
                excluded += values
                continue
            }
            guard let names = try stringsIn(negated["type"], part.path + ["not", "type"]) else {
                if case .object(let m) = negated, m.isEmpty { return }  // not: {}
                continue
            }
            for n in names {
                guard Self.allTypes.contains(n) else { throw invalid(part.path + ["not", "type"], "unknown type '\(n)'") }
                allowed.remove(n)
                if n == "number" { allowed.remove("integer") }
                if n == "integer" { excludesInteger = true }
            }
        }
        // "number but not integer": only numbers with a fractional part.
        let nonIntegerOnly = excludesInteger && allowed.contains("number")
        if allowed.contains("null") && !excluded.contains(.null) { builder.add(rule, [ws] + builder.literal("null")) }
        if allowed.contains("boolean") {
            for b in [true, false] where !excluded.contains(.bool(b)) { builder.add(rule, [ws] + builder.literal(b ? "true" : "false")) }
        }
        let excludedNumbers = excluded.compactMap { v -> DecimalNumber? in if case .number(let t) = v { DecimalNumber(t) } else { nil } }
        let excludedStrings = excluded.compactMap { v -> String? in if case .string(let s) = v { s } else { nil } }
        if !excludedNumbers.isEmpty && (allowed.contains("number") || allowed.contains("integer")) {
            try excludingNumbers(rule, excludedNumbers, parts, integerOnly: !allowed.contains("number"), nonIntegerOnly: nonIntegerOnly, at: exclusionPath)
        } else if nonIntegerOnly {
            // Numbers with a non-zero fraction digit, without exponent (`1.5e1` is an integer).
            if let owner = parts.first(where: { $0.value["multipleOf"] != nil }) {
                try refuse("multipleOf", at: owner.path + ["multipleOf"], "'multipleOf' combined with 'not: {type: integer}' is not supported")
            } else if !parts.contains(where: { p in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].contains { p.value[$0] != nil } }) {
                builder.add(rule, [padded(try RegexLexeme(pattern: Self.nonIntegerPattern(maxDigits: numberDigits), search: false))])
            } else {
                try refuse("not", at: parts[0].path, "'not: {type: integer}' combined with numeric bounds is not supported")
            }
        } else if allowed.contains("number") || allowed.contains("integer") {
            if let symbol = try numberSymbol(parts, integerOnly: !allowed.contains("number")) { builder.add(rule, [symbol]) }
        }
        if allowed.contains("string") && !excludedStrings.isEmpty {
            try excludingStrings(rule, excludedStrings, parts, at: exclusionPath)
        } else if allowed.contains("string"), let symbol = try stringSymbol(parts) {
            builder.add(rule, [symbol])
        }
        if allowed.contains("array") { try arrayAlternatives(rule, parts) }
        if allowed.contains("object") { try objectAlternatives(rule, parts) }
    }

    // MARK: Excluded literals (`not` of const/enum)

    /// Numbers other than `excluded`, when nothing else constrains them: the plain decimal spellings
    /// (no exponent, which could spell an excluded value in ways a complement of spellings would
    /// miss) minus every spelling of the excluded values. Every prefix stays live because it can
    /// still become infinitely many values (`1.0` → `1.01`, `5` → `50`); integers are written
    /// without fraction, and excluding zero from them is refused (`0` could not continue).
    func excludingNumbers(_ rule: Int32, _ excluded: [DecimalNumber], _ parts: [Part], integerOnly: Bool,
                                  nonIntegerOnly: Bool, at path: [String]) throws(ConstraintError) {
        let constrained = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
        if nonIntegerOnly || parts.contains(where: { p in constrained.contains { p.value[$0] != nil } })
            || (integerOnly && excluded.contains(where: \.isZero)) {
            try refuse("not", at: path, "excluding numbers with 'not' is supported only for otherwise unconstrained numbers (and not 0 from integers)")
            return
        }
        var alternatives: [RegexNode] = []
        for d in excluded { alternatives.append(try Self.decimalSpellings(d, at: Self.pointer(path))) }
        let spellings = try RegexLexeme(node: .alternation(alternatives), search: false)
        let plain = try RegexLexeme(pattern: integerOnly ? #"-?(0|[1-9][0-9]*)"# : #"-?(0|[1-9][0-9]*)(\.[0-9]+)?"#, search: false)
        builder.add(rule, [padded(IntersectionLexeme([plain, ComplementLexeme(spellings)]))])
    }

    /// Strings other than `excluded`, when nothing else constrains them (any prefix can still grow
    /// into a string that is not excluded).
    func excludingStrings(_ rule: Int32, _ excluded: [String], _ parts: [Part], at path: [String]) throws(ConstraintError) {
        let constrained = ["pattern", "minLength", "maxLength"] + (options.assertFormats ? ["format"] : [])
        if parts.contains(where: { p in constrained.contains { p.value[$0] != nil } }) {
            try refuse("not", at: path, "excluding strings with 'not' is supported only for otherwise unconstrained strings")
            return
        }
        let literals = try RegexLexeme(node: .alternation(excluded.map(RegexNode.literal)), search: false)
        builder.add(rule, [padded(JSONStringLexeme(inner: ComplementLexeme(literals), canonical: options.canonicalStrings))])
    }

    // MARK: Numbers

    func numberSymbol(_ parts: [Part], integerOnly: Bool) throws(ConstraintError) -> Grammar.Symbol? {
        var lower: NumberLexeme.Bound? = nil, upper: NumberLexeme.Bound? = nil
        func tighten(_ bound: inout NumberLexeme.Bound?, _ value: DecimalNumber, exclusive: Bool, isLower: Bool) {
            guard let b = bound else { bound = .init(value: value, exclusive: exclusive); return }
            if b.value == value { bound!.exclusive = b.exclusive || exclusive; return }
            if isLower ? b.value < value : value < b.value { bound = .init(value: value, exclusive: exclusive) }
        }
        for part in parts {
            if draft.hasBooleanExclusiveBounds {
                // Draft 4: `exclusiveMinimum: true` makes `minimum` exclusive.
                let exclusiveLower = part.value["exclusiveMinimum"] == .bool(true), exclusiveUpper = part.value["exclusiveMaximum"] == .bool(true)
                if let v = try number(part, "minimum") { tighten(&lower, v, exclusive: exclusiveLower, isLower: true) }
                if let v = try number(part, "maximum") { tighten(&upper, v, exclusive: exclusiveUpper, isLower: false) }
                continue
            }
            if let v = try number(part, "minimum") { tighten(&lower, v, exclusive: false, isLower: true) }
            if let v = try number(part, "exclusiveMinimum") { tighten(&lower, v, exclusive: true, isLower: true) }
            if let v = try number(part, "maximum") { tighten(&upper, v, exclusive: false, isLower: false) }
            if let v = try number(part, "exclusiveMaximum") { tighten(&upper, v, exclusive: true, isLower: false) }
        }
        var divisors: [(modulus: UInt64, scale: Int)] = []
        for part in parts {
            guard let m = try number(part, "multipleOf") else { continue }
            let here = part.path + ["multipleOf"]
            if lower != nil || upper != nil {
                try refuse("multipleOf", at: here, "'multipleOf' combined with numeric bounds is not supported")
            } else if let d = MultipleOfLexeme.decompose(m, maxScale: Self.maxMultipleOfScale) {
                divisors.append(d)
            } else {
                try refuse("multipleOf", at: here, "multipleOf needs at most \(Self.maxMultipleOfScale) fraction digits and a significand up to 10^15")
            }
        }
        if !divisors.isEmpty {
            guard let (modulus, scale) = MultipleOfLexeme.combine(divisors) else {
                let owner = parts.first { $0.value["multipleOf"] != nil }!
                try refuse("multipleOf", at: owner.path + ["multipleOf"], "the common multiple of these multipleOf values has a significand above 10^15")
                return padded(try RegexLexeme(pattern: Self.numberPattern(integerOnly: integerOnly, maxDigits: numberDigits), search: false))
            }
            return padded(MultipleOfLexeme(modulus: modulus, scale: scale, integerOnly: integerOnly))
        }
        if lower != nil || upper != nil {
            let lexeme = NumberLexeme(lower: lower, upper: upper, integerOnly: integerOnly)
            guard lexeme.isSatisfiable else { return nil }
            guard let maxDigits = digitBound(around: [lower?.value, upper?.value].compactMap { $0 }) else { return padded(lexeme) }
            return padded(DigitRunLexeme(inner: lexeme, maxDigits: maxDigits))
        }
        return padded(try RegexLexeme(pattern: Self.numberPattern(integerOnly: integerOnly, maxDigits: numberDigits), search: false))
    }

    /// `maxNumberDigits`, widened by two digits past the runs of `values` (a number's bounds; the
    /// margin `DigitRunLexeme` needs to stay exact) and of the schema's literals (`schemaDigits`);
    /// nil (no bound) when that passes the regex repetition bound.
    func digitBound(around values: [DecimalNumber]) -> Int? {
        guard let bound = options.maxNumberDigits else { return nil }
        var needed = schemaDigits
        for d in values where !d.isZero {
            needed = max(needed, d.digits.count + d.exponent, -d.exponent)
        }
        let widened = needed == 0 ? max(bound, 1) : max(bound, needed + 2)
        return widened <= RegexParser.maxRepetitionBound ? widened : nil
    }

    /// The digit bound of numbers the schema does not bound (`maxNumberDigits`, at least 1).
    var numberDigits: Int? { digitBound(around: []) }

    /// The longest digit run of the plain spelling of a number in a `const` or `enum` of the schema
    /// documents: the digit bound is widened past it, so those values stay valid (each is checked
    /// against its siblings' number grammar). Bounds widen only their own lexeme (`digitBound`), so
    /// a `maximum` of 1.7976931348623157e308 does not lift the bound of every other number.
    let schemaDigits: Int

    /// The longest digit run of a number inside a value of a `const` or `enum` member of `value`
    /// (any member so named, which over-approximates the keyword positions), or of `value` itself
    /// when `inLiteral`.
    static func longestLiteralRun(_ value: JSONValue, inLiteral: Bool = false) -> Int {
        switch value {
        case .number(let text):
            guard inLiteral, let d = DecimalNumber(text), !d.isZero else { return 0 }
            return max(d.digits.count + d.exponent, -d.exponent)
        case .array(let elements):
            return elements.map { longestLiteralRun($0, inLiteral: inLiteral) }.max() ?? 0
        case .object(let members):
            return members.map { longestLiteralRun($0.value, inLiteral: inLiteral || $0.key == "const" || $0.key == "enum") }.max() ?? 0
        default:
            return 0
        }
    }

    /// Numbers, or integers (an integral mantissa, fraction zeros allowed, with a non-negative
    /// exponent), with at most `maxDigits` digits per run when given.
    static func numberPattern(integerOnly: Bool, maxDigits: Int?) -> String {
        let more = maxDigits.map { "{0,\($0 - 1)}" } ?? "*", run = maxDigits.map { "{1,\($0)}" } ?? "+"
        return integerOnly ? #"-?(0|[1-9][0-9]\#(more))(\.0\#(run))?([eE]\+?[0-9]\#(run))?"#
                           : #"-?(0|[1-9][0-9]\#(more))(\.[0-9]\#(run))?([eE][+\-]?[0-9]\#(run))?"#
    }

    /// Numbers with a non-zero fraction digit, without exponent (`1.5e1` is an integer), with at
    /// most `maxDigits` digits per run when given: the fraction is `k` zeros, a non-zero digit, and
    /// at most `maxDigits − k − 1` digits more.
    static func nonIntegerPattern(maxDigits: Int?) -> String {
        guard let maxDigits else { return #"-?(0|[1-9][0-9]*)\.[0-9]*[1-9][0-9]*"# }
        let fractions = (0..<maxDigits).map { k in "0{\(k)}[1-9][0-9]{0,\(maxDigits - k - 1)}" }
        return #"-?(0|[1-9][0-9]{0,\#(maxDigits - 1)})\.("# + fractions.joined(separator: "|") + ")"
    }
    /// `multipleOf` values with more fraction digits than this are refused (the lexeme has a state per
    /// fraction digit up to the scale).
    static let maxMultipleOfScale = 100

    /// A value or key lexeme with the JSON whitespace before it folded in.
    func padded(_ lexeme: any ByteLexeme) -> Grammar.Symbol {
        builder.lexeme(WhitespacePrefixedLexeme(whitespace: options.whitespace, inner: lexeme))
    }

    // MARK: Strings

    func anyString() throws(ConstraintError) -> RegexLexeme {
        if let a = anyStringInner { return a }
        let a = try RegexLexeme(node: .repetition(RegexNode.anyScalar, min: 0, max: nil), search: false)
        anyStringInner = a
        return a
    }

    /// The string alternative, or nil when no string satisfies the length bounds.
    func stringSymbol(_ parts: [Part]) throws(ConstraintError) -> Grammar.Symbol? {
        guard let content = try stringContent(parts) else { return nil }
        // Every unconstrained string is one lexeme object, so its token masks are computed once.
        if content === anyStringInner {
            if let shared = anyStringLexeme { return builder.lexeme(shared) }
            let lexeme = WhitespacePrefixedLexeme(whitespace: options.whitespace,
                                                  inner: JSONStringLexeme(inner: content, canonical: options.canonicalStrings))
            anyStringLexeme = lexeme
            return builder.lexeme(lexeme)
        }
        return padded(JSONStringLexeme(inner: content, canonical: options.canonicalStrings))
    }

    /// The automaton for a string's decoded content under the conjuncts' string keywords, or nil when
    /// no string satisfies them.
    func stringContent(_ parts: [Part]) throws(ConstraintError) -> (any ByteLexeme)? {
        var inner: [any ByteLexeme] = []
        var minLength = 0, maxLength: Int? = nil
        for part in parts {
            if case .string(let pattern)? = part.value["pattern"] {
                do {
                    inner.append(try RegexLexeme(pattern: pattern, search: true))
                } catch {
                    if error.code == .unsupportedRegexFeature {
                        try refuse("pattern", at: part.path + ["pattern"], "pattern uses \(error.feature ?? "an unsupported construct"): \(error.message)")
                    } else {
                        throw invalid(part.path + ["pattern"], "invalid pattern: \(error.message) at \(error.location)")
                    }
                }
            }
            if case .string(let name)? = part.value["format"], options.assertFormats, let regex = JSONFormats.pattern(for: name) {
                inner.append(try RegexLexeme(pattern: regex, search: false))
            }
            if let n = try integer(part, "minLength") { minLength = max(minLength, n) }
            if let n = try integer(part, "maxLength") { maxLength = min(maxLength ?? n, n) }
        }
        if minLength > 0 || maxLength != nil {
            if let maxLength, maxLength < minLength { return nil }
            if max(minLength, maxLength ?? 0) > ScalarCountLexeme.maxCount {
                let keyword = maxLength.map { $0 > ScalarCountLexeme.maxCount } == true ? "maxLength" : "minLength"
                let owner = parts.first { $0.value[keyword] != nil } ?? parts[0]
                try refuse(keyword, at: owner.path + [keyword], "string length bounds above \(ScalarCountLexeme.maxCount) are not supported")
            } else if max(minLength, maxLength ?? 0) > Self.maxUnrolledLength {
                inner.append(ScalarCountLexeme(min: minLength, max: maxLength))
            } else {
                inner.append(try RegexLexeme(node: .repetition(RegexNode.anyScalar, min: minLength, max: maxLength), search: false))
            }
        }
        if inner.isEmpty { inner.append(try anyString()) }
        // Patterns and formats accept only valid UTF-8 by construction; a length automaton does too.
        return inner.count == 1 ? inner[0] : IntersectionLexeme(inner)
    }

    /// Keywords a `propertyNames` schema may use: those that speak about strings.
    static let propertyNameKeywords: Set<String> = ["type", "pattern", "minLength", "maxLength", "format", "const", "enum"]

    /// The content automaton property names must match (`propertyNames`), nil when there is none;
    /// a schema that no name satisfies gives a lexeme that matches nothing.
    func propertyNameContent(_ parts: [Part]) throws(ConstraintError) -> (any ByteLexeme)? {
        var conjunction: [Part] = []
        for part in parts {
            guard let schema = part.value["propertyNames"] else { continue }
            let here = part.path + ["propertyNames"]
            switch schema {
            case .bool(true): continue
            case .bool(false): return try RegexLexeme(node: .scalars([]), search: false)
            case .object(let members):
                for (k, v) in members where assertions.contains(k) {
                    guard Self.propertyNameKeywords.contains(k) else {
                        try refuse("propertyNames", at: here + [k], "propertyNames supports only string keywords (type, pattern, minLength, maxLength, format, const, enum), not '\(k)'")
                        continue
                    }
                    _ = try check(k, v, in: part.child(["propertyNames"], schema))
                }
                conjunction.append(part.child(["propertyNames"], asserting(schema)))
            default:
                throw invalid(here, "propertyNames must be a schema")
            }
        }
        if conjunction.isEmpty { return nil }
        var lexemes: [any ByteLexeme] = []
        for part in conjunction {
            if let names = try stringsIn(part.value["type"], part.path + ["type"]), !names.contains("string") {
                return try RegexLexeme(node: .scalars([]), search: false)
            }
            var literals: [String]? = nil
            if let c = part.value["const"] { literals = { if case .string(let s) = c { return [s] } else { return [] } }() }
            if case .array(let list)? = part.value["enum"] {
                let strings = list.compactMap { v -> String? in if case .string(let s) = v { return s } else { return nil } }
                literals = literals.map { l in l.filter { strings.contains($0) } } ?? strings
            }
            if let literals {
                lexemes.append(try RegexLexeme(node: literals.isEmpty ? .scalars([]) : .alternation(literals.map(RegexNode.literal)), search: false))
            }
        }
        guard let content = try stringContent(conjunction) else { return try RegexLexeme(node: .scalars([]), search: false) }
        lexemes.append(content)
        return lexemes.count == 1 ? lexemes[0] : IntersectionLexeme(lexemes)
    }

    func keySymbol(_ key: String) throws(ConstraintError) -> Grammar.Symbol {
        if let s = keyLexemes[key] { return s }
        let s = padded(JSONStringLexeme(inner: try RegexLexeme(node: .literal(key), search: false), canonical: options.canonicalStrings))
        keyLexemes[key] = s
        return s
    }

    // MARK: Arrays

    /// The schemas of an array's first elements, one each, and of the elements after them: 2020-12's
    /// `prefixItems` and `items`, or earlier drafts' array-form `items` and `additionalItems` (which
    /// is ignored beside a single `items` schema).
    func itemSchemas(_ part: Part) -> (prefix: [Part], rest: Part?) {
        let (prefixKeyword, restKeyword) = draft.hasArrayItems ? ("items", "additionalItems") : ("prefixItems", "items")
        guard case .array(let items)? = part.value[prefixKeyword] else {
            return ([], part.value["items"].map { part.child(["items"], $0) })
        }
        return (items.indices.map { part.child([prefixKeyword, String($0)], items[$0]) },
                part.value[restKeyword].map { part.child([restKeyword], $0) })
    }

    func arrayAlternatives(_ rule: Int32, _ parts: [Part]) throws(ConstraintError) {
        var minItems = 0, maxItems: Int? = nil, prefixLength = 0
        for part in parts {
            if let n = try integer(part, "minItems") { minItems = max(minItems, n) }
            if let n = try integer(part, "maxItems") { maxItems = min(maxItems ?? n, n) }
            prefixLength = max(prefixLength, itemSchemas(part).prefix.count)
        }
        if let maxItems, maxItems < minItems { return }
        if max(minItems, prefixLength) > Self.maxUnrolledItems {
            try refuse("minItems", at: parts[0].path + ["minItems"], "minItems or prefixItems above \(Self.maxUnrolledItems) are not supported")
            minItems = min(minItems, Self.maxUnrolledItems)
            prefixLength = min(prefixLength, Self.maxUnrolledItems)
        }
        let loopIndex = max(prefixLength, minItems, 1)
        if let maxItems, maxItems > Self.maxUnrolledItems, maxItems > loopIndex {
            try refuse("maxItems", at: parts[0].path + ["maxItems"], "maxItems above \(Self.maxUnrolledItems) is not supported")
        }
        if let owner = parts.first(where: { $0.value["uniqueItems"] == .bool(true) }) {
            try uniqueArray(rule, parts, minItems: minItems, maxItems: maxItems, owner: owner)
            return
        }
        guard var contains = try containsCount(parts) else { return }
        let last = maxItems.map { min($0, Self.maxUnrolledItems) } ?? loopIndex
        if let counted = contains, last * (counted.cap + 1) > Self.maxUnrolledItems {
            try refuse("contains", at: counted.schema.path,
                       "counting \(counted.cap) matches over \(last) items needs more than \(Self.maxUnrolledItems) array states")
            contains = nil
        }
        let cap = contains?.cap ?? 0
        // unevaluatedItems: the holders, and the parts whose evaluated items each sees. Items
        // `contains` matched are evaluated too, which the count does not tell: refused.
        var unevaluated = evaluationScopes(parts, "unevaluatedItems")
        if let (holder, _) = unevaluated.first(where: { $0.scope.contains { parts[$0].value["contains"] != nil } }) {
            try refuse("unevaluatedItems", at: parts[holder].path + ["unevaluatedItems"], "unevaluatedItems beside 'contains' is not supported")
            unevaluated = []
        }
        /// The element at index `i`: `items`/`prefixItems`, and `contains` when it is counted, or the
        /// complement of `contains` when it is not and `maxContains` needs it.
        func element(_ i: Int, counted: Bool) throws(ConstraintError) -> Grammar.Symbol {
            var conjunction: [Part] = []
            for part in parts {
                let (prefix, rest) = itemSchemas(part)
                if i < prefix.count { conjunction.append(prefix[i]) } else if let rest { conjunction.append(rest) }
            }
            for (holder, scope) in unevaluated {
                let evaluated = scope.contains { j in
                    if j != holder && parts[j].value["unevaluatedItems"] != nil { return true }
                    let (prefix, rest) = itemSchemas(parts[j])
                    return i < prefix.count || rest != nil
                }
                if !evaluated { conjunction.append(parts[holder].child(["unevaluatedItems"], parts[holder].value["unevaluatedItems"]!)) }
            }
            if counted, let contains { conjunction.append(contains.schema) }
            if !counted, let complement = contains?.complement { conjunction.append(complement) }
            return .rule(try compile(conjunction))
        }
        let comma = builder.literal(",")
        let close = builder.literal("]")
        // The rest of an array that already has i ≥ 1 elements, c of them counted as matching
        // `contains` (capped at `cap`), keyed i × (cap + 1) + c.
        var after: [Int: Int32] = [:]
        var pending: [(i: Int, c: Int)] = []
        func state(_ i: Int, _ c: Int) -> Int32 {
            if let r = after[i * (cap + 1) + c] { return r }
            let r = builder.newRule("array_after_\(i)_count_\(c)")
            after[i * (cap + 1) + c] = r
            pending.append((i, c))
            return r
        }
        /// Adds `prefix element(i) state(next)` for each way element `i` may be read with count `c`.
        func elements(_ rule: Int32, _ prefix: [Grammar.Symbol], _ i: Int, _ c: Int) throws(ConstraintError) {
            if let maxItems, i >= maxItems { return }
            let next = maxItems == nil ? min(i + 1, loopIndex) : i + 1
            if next > last { return }
            builder.add(rule, prefix + [try element(i, counted: false), .rule(state(next, c))])
            if let contains, contains.max.map({ c < $0 }) ?? (c < cap) {
                builder.add(rule, prefix + [try element(i, counted: true), .rule(state(next, min(c + 1, cap)))])
            }
        }
        let open = [ws] + builder.literal("[")
        if minItems == 0 && (contains?.min ?? 0) == 0 { builder.add(rule, open + [ws] + close) }
        try elements(rule, open, 0, 0)
        while let (i, c) = pending.popLast() {
            let r = after[i * (cap + 1) + c]!
            if i >= minItems && c >= contains?.min ?? 0 { builder.add(r, [ws] + close) }
            try elements(r, [ws] + comma, i, c)
        }
    }

    /// `uniqueItems: true` over a bounded domain of scalars: the elements' schemas (`items`, or
    /// `additionalItems` after an empty prefix) are `const`/`enum` of scalars, `boolean` or `null`,
    /// with `type` at most beside them. The grammar's state is the subset of values seen (its size
    /// is the item count), each value matched in every spelling equal to it (`1` and `1.0` are one
    /// value). Anything else with `uniqueItems: true` is refused.
    func uniqueArray(_ rule: Int32, _ parts: [Part], minItems: Int, maxItems: Int?, owner: Part) throws(ConstraintError) {
        let here = owner.path + ["uniqueItems"]
        var elementParts: [Part] = []
        for part in parts {
            let (prefix, rest) = itemSchemas(part)
            if !prefix.isEmpty || part.value["contains"] != nil || part.value["unevaluatedItems"] != nil {
                try refuse("uniqueItems", at: here, "uniqueItems with prefixItems, array-form items, contains or unevaluatedItems is not supported")
                return
            }
            if let rest { elementParts.append(rest) }
        }
        var domain: [JSONValue]? = nil
        var allowed = Self.allTypes
        for part in try flatten(elementParts) {
            let value = asserting(part.value)
            if value == .bool(true) { continue }
            guard case .object(let members) = value, Set(members.map(\.key)).isSubset(of: ["type", "const", "enum"]),
                  part.consumed.isEmpty else {
                if value == .bool(false) { domain = []; continue }
                try refuse("uniqueItems", at: here, "uniqueItems is supported only over const/enum of scalars, booleans or null (at \(part.pointer))")
                return
            }
            if let names = try stringsIn(value["type"], part.path + ["type"]) {
                var expanded = Set(names)
                if expanded.contains("number") { expanded.insert("integer") }
                allowed.formIntersection(expanded)
                if domain == nil, expanded.isSubset(of: ["boolean", "null"]) {
                    domain = (expanded.contains("boolean") ? [.bool(true), .bool(false)] : []) + (expanded.contains("null") ? [.null] : [])
                }
            }
            if let values = Self.literalSet(value) { domain = domain.map { d in d.filter { values.contains($0) } } ?? values }
        }
        guard var values = domain else {
            try refuse("uniqueItems", at: here, "uniqueItems is supported only when the items' values are a bounded set (const/enum of scalars, booleans, null)")
            return
        }
        values = values.filter { allowed.contains($0.typeName) }
        var distinct: [JSONValue] = []
        for v in values where !distinct.contains(v) { distinct.append(v) }
        if distinct.contains(where: { if case .array = $0 { true } else if case .object = $0 { true } else { false } }) {
            try refuse("uniqueItems", at: here, "uniqueItems over arrays or objects is not supported")
            return
        }
        guard distinct.count <= Self.maxUniqueDomain else {
            try refuse("uniqueItems", at: here, "uniqueItems over more than \(Self.maxUniqueDomain) values (one state per subset) is not supported")
            return
        }
        let literals = try distinct.map { v throws(ConstraintError) in try literalSymbol(v) }
        let open = [ws] + builder.literal("["), comma = [ws] + builder.literal(","), close = [ws] + builder.literal("]")
        var states: [Int: Int32] = [:]
        func state(_ seen: Int) -> Int32 {
            if let r = states[seen] { return r }
            let r = builder.newRule("unique_seen_\(seen)")
            states[seen] = r
            let count = seen.nonzeroBitCount
            if count >= minItems { builder.add(r, close) }
            if maxItems.map({ count < $0 }) ?? true {
                for (i, literal) in literals.enumerated() where seen & (1 << i) == 0 {
                    builder.add(r, comma + [literal, .rule(state(seen | 1 << i))])
                }
            }
            return r
        }
        if minItems == 0 { builder.add(rule, open + close) }
        if maxItems != 0 {
            for (i, literal) in literals.enumerated() { builder.add(rule, open + [literal, .rule(state(1 << i))]) }
        }
    }

    /// `uniqueItems` tracks the subset of values seen: 2ⁿ states for n values.
    static let maxUniqueDomain = 12

    /// `contains` with its `minContains`/`maxContains`, as the array grammar counts it.
    struct ContainsCount {
        /// The `contains` schema, conjoined to the elements counted.
        var schema: Part
        /// Its complement, conjoined to the elements not counted when `maxContains` is set.
        var complement: Part?
        var min: Int
        var max: Int?
        /// Counts at or above this behave alike.
        var cap: Int { max ?? min }
    }

    /// The conjunction's `contains` count: `.some(nil)` when nothing is counted (no `contains`, or
    /// `minContains: 0` without `maxContains`), nil when no array can satisfy it.
    ///
    /// Counting "at least n" is exact with an ambiguous choice per element (a matching element may
    /// be left uncounted). "At most m" needs the uncounted elements to be exactly those that do not
    /// match, so `maxContains` is supported only where the complement of `contains` is
    /// (`isNegatable`).
    func containsCount(_ parts: [Part]) throws(ConstraintError) -> ContainsCount?? {
        var found: ContainsCount? = nil
        for part in parts {
            guard let schema = part.value["contains"] else { continue }
            let here = part.path + ["contains"]
            if found != nil {
                try refuse("contains", at: here, "more than one 'contains' in a conjunction (allOf, $ref) is not supported")
                continue
            }
            var count = ContainsCount(schema: part.child(["contains"], schema),
                                      min: try integer(part, "minContains") ?? 1, max: try integer(part, "maxContains"))
            if let max = count.max, max < count.min { return nil }
            if case .bool(false) = schema, count.min > 0 { return nil }
            if count.max != nil {
                if isNegatable(schema) {
                    // The complement is compiled at the maxContains pointer, which names no other schema.
                    count.complement = part.child(["maxContains"], .object([(key: "not", value: schema)]))
                } else {
                    try refuse("maxContains", at: part.path + ["maxContains"],
                               "'maxContains' is supported only when 'contains' is a boolean, type-only or const/enum-of-scalars schema (its complement must be exact)")
                    count.max = nil
                }
            }
            if count.min == 0 && count.max == nil { continue }
            found = count
        }
        return .some(found)
    }

    // MARK: Objects

    func objectAlternatives(_ rule: Int32, _ parts: [Part]) throws(ConstraintError) {
        var named: [String] = []
        var required: [String] = []
        var dependencies: [(key: String, requires: [String])] = []
        // Every patternProperties entry of every conjunct: (conjunct index, pattern, schema part).
        var patterns: [(part: Int, matcher: RegexLexeme, schema: Part)] = []
        for (index, part) in parts.enumerated() {
            if let p = part.value["properties"] {
                guard case .object(let members) = p else { throw invalid(part.path + ["properties"], "properties must be an object") }
                for (k, _) in members where !named.contains(k) { named.append(k) }
            }
            if let r = try stringsIn(part.value["required"], part.path + ["required"]) {
                for k in r where !required.contains(k) { required.append(k) }
            }
            // Draft 4–7 `dependencies` on names is `dependentRequired` (its schema entries are
            // expanded by `disjunction`).
            for keyword in ["dependentRequired", "dependencies"] {
                for (k, v) in part.value[keyword]?.objectMembers ?? [] where v.isArray {
                    dependencies.append((k, try stringsIn(v, part.path + [keyword, k]) ?? []))
                }
            }
            if let pp = part.value["patternProperties"] {
                guard case .object(let members) = pp else { throw invalid(part.path + ["patternProperties"], "patternProperties must be an object") }
                for (pattern, schema) in members {
                    let here = part.path + ["patternProperties", pattern]
                    do {
                        patterns.append((index, try RegexLexeme(pattern: pattern, search: true), part.child(["patternProperties", pattern], schema)))
                    } catch {
                        if error.code == .unsupportedRegexFeature {
                            try refuse("patternProperties", at: here, "pattern uses \(error.feature ?? "an unsupported construct"): \(error.message)")
                        } else {
                            throw invalid(here, "invalid pattern: \(error.message) at \(error.location)")
                        }
                    }
                }
            }
        }
        if patterns.count > Self.maxPatternProperties {
            try refuse("patternProperties", at: parts[0].path + ["patternProperties"],
                       "more than \(Self.maxPatternProperties) patternProperties (one key class per subset of them) are not supported")
            patterns = Array(patterns.prefix(Self.maxPatternProperties))
        }
        // Keys whose presence matters for closing the object, one bit each.
        var tracked: [String] = []
        for k in required + dependencies.flatMap({ [$0.key] + $0.requires }) where !tracked.contains(k) { tracked.append(k) }
        if tracked.count > options.maxTrackedRequired {
            try refuse(dependencies.isEmpty ? "required" : "dependentRequired", at: parts[0].path,
                       "more than \(options.maxTrackedRequired) required or dependent properties are not supported")
            tracked = Array(tracked.prefix(options.maxTrackedRequired))
        }
        for k in tracked where !named.contains(k) { named.append(k) }
        func bits(_ keys: [String]) -> Int { keys.reduce(0) { $0 | (tracked.firstIndex(of: $1).map { 1 << $0 } ?? 0) } }
        let requiredBits = bits(required)
        let dependencyBits = dependencies.map { (bits([$0.key]), bits($0.requires)) }
        let canClose: (Int) -> Bool = { seen in
            seen & requiredBits == requiredBits && dependencyBits.allSatisfy { seen & $0.0 == 0 || seen & $0.1 == $0.1 }
        }
        // unevaluatedProperties: the holders, and the parts whose evaluated keys each sees.
        let unevaluated = evaluationScopes(parts, "unevaluatedProperties")
        /// The conjunction a member's value must satisfy, given which patterns its key matches.
        func valueParts(property: String?, matched: Set<Int>) -> [Part] {
            var conjunction: [Part] = []
            for (index, part) in parts.enumerated() {
                var covered = false
                if let property, let value = part.value["properties"]?[property] {
                    conjunction.append(part.child(["properties", property], value))
                    covered = true
                }
                for (k, p) in patterns.enumerated() where p.part == index && matched.contains(k) {
                    conjunction.append(p.schema)
                    covered = true
                }
                if !covered, let additional = part.value["additionalProperties"] {
                    conjunction.append(part.child(["additionalProperties"], additional))
                }
            }
            for (holder, scope) in unevaluated {
                let evaluated = scope.contains { j in
                    let q = parts[j]
                    if (j != holder && q.value["unevaluatedProperties"] != nil) || q.value["additionalProperties"] != nil { return true }
                    if let property, q.value["properties"]?[property] != nil { return true }
                    return patterns.indices.contains { patterns[$0].part == j && matched.contains($0) }
                }
                if !evaluated { conjunction.append(parts[holder].child(["unevaluatedProperties"], parts[holder].value["unevaluatedProperties"]!)) }
            }
            return conjunction
        }
        let nameContent = try propertyNameContent(parts)
        var members: [ObjectMember] = []
        for k in named {
            // A name propertyNames rejects cannot appear (a required one makes the object impossible).
            if let nameContent, !nameContent.matches(k.utf8) { continue }
            let matched = Set(patterns.indices.filter { patterns[$0].matcher.matches(k.utf8) })
            // A tracked key is written at most once by the object's states; every other named key
            // by the member loop's key set: a duplicate key is never needed (parsed instances have
            // none) and lets a model loop forever.
            members.append(ObjectMember(key: try keySymbol(k), value: .rule(try compile(valueParts(property: k, matched: matched))),
                                        bit: bits([k]), uniqueKey: tracked.contains(k) ? -1 : builder.newKey()))
        }
        // Other keys, one class per subset of patterns they match.
        let otherKeys: any ByteLexeme = named.isEmpty ? try anyString()
            : ComplementLexeme(try RegexLexeme(node: .alternation(named.map(RegexNode.literal)), search: false))
        for subset in 0..<(1 << patterns.count) {
            let matched = Set(patterns.indices.filter { subset & (1 << $0) != 0 })
            let conjunction = valueParts(property: nil, matched: matched)
            if conjunction.contains(where: { if case .bool(false) = $0.value { return true } else { return false } }) { continue }
            var keyParts: [any ByteLexeme] = [otherKeys]
            if let nameContent { keyParts.append(nameContent) }
            for k in patterns.indices {
                keyParts.append(matched.contains(k) ? patterns[k].matcher : ComplementLexeme(patterns[k].matcher))
            }
            let key = padded(JSONStringLexeme(inner: keyParts.count == 1 ? otherKeys : IntersectionLexeme(keyParts), canonical: options.canonicalStrings))
            members.append(ObjectMember(key: key, value: .rule(try compile(conjunction))))
        }
        var minProperties = 0, maxProperties: Int? = nil
        for part in parts {
            if let n = try integer(part, "minProperties") { minProperties = max(minProperties, n) }
            if let n = try integer(part, "maxProperties") { maxProperties = min(maxProperties ?? n, n) }
        }
        if let maxProperties, maxProperties < minProperties { return }
        var counts = PropertyCounts(min: minProperties, max: maxProperties)
        if (counts.cap + 1) << tracked.count > Self.maxCountedObjectStates {
            let keyword = maxProperties == nil ? "minProperties" : "maxProperties"
            let owner = parts.first { $0.value[keyword] != nil } ?? parts[0]
            try refuse(keyword, at: owner.path + [keyword],
                       "counting \(counts.cap) properties with \(tracked.count) tracked keys needs more than \(Self.maxCountedObjectStates) object states")
            counts = PropertyCounts()
        }
        try objectGrammar(rule, members: members, trackedCount: tracked.count, counts: counts, canClose: canClose)
    }

    /// `minProperties`/`maxProperties`: the object grammar counts members up to `cap`.
    struct PropertyCounts {
        var min = 0
        var max: Int? = nil
        /// Counts at or above this behave alike (`max`, else `min`).
        var cap: Int { max ?? min }
    }

    /// Object grammars have one state per (subset of tracked keys seen, member count up to the
    /// cap); schemas that would need more are refused. 2¹² is what 12 tracked required keys
    /// (`maxTrackedRequired`'s default) need without counting.
    static let maxCountedObjectStates = 4096

    /// Objects may hold at most this many pattern-matched key classes' patterns (2ⁿ classes).
    static let maxPatternProperties = 3

    /// One member alternative of an object grammar.
    struct ObjectMember {
        var key: Grammar.Symbol
        var value: Grammar.Symbol
        /// The tracked key's bit in the object's state (required and dependent keys), or 0.
        var bit = 0
        /// The key's index in the member loop's key set (`GrammarBuilder.newKey()`), or -1 for a
        /// tracked key (its bit keeps it unique) and for keys outside `properties`.
        var uniqueKey: Int32 = -1
    }

    /// `{ member (, member)* }` in any key order. Members with a `bit` mark a tracked key as seen and
    /// cannot follow once it is; one rule per subset of tracked keys seen and member count (capped at
    /// `counts.cap`), no member past `counts.max`, and `}` only where `canClose` allows it and at
    /// least `counts.min` members were read. The state rules inherit the keys read
    /// (`Grammar.inheritsKeys`), so a member with a `uniqueKey` cannot follow once its key was
    /// read: one rule per state whatever the number of such keys, instead of a state per subset.
    func objectGrammar(_ rule: Int32, members: [ObjectMember],
                       trackedCount: Int, counts: PropertyCounts = .init(),
                       canClose: (Int) -> Bool) throws(ConstraintError) {
        let colon = builder.literal(":"), comma = builder.literal(","), close = builder.literal("}")
        // A state is (seen, count) packed as count << trackedCount | seen.
        var states: [Int: Int32] = [:]
        func state(_ key: Int) -> Int32 {
            if let s = states[key] { return s }
            let s = builder.newRule("object_seen_\(key & ((1 << trackedCount) - 1))_count_\(key >> trackedCount)")
            builder.inheritKeys(s)
            states[key] = s
            return s
        }
        func after(_ key: Int, adding bit: Int) -> Int {
            let seen = key & ((1 << trackedCount) - 1)
            return Swift.min((key >> trackedCount) + 1, counts.cap) << trackedCount | seen | bit
        }
        func mayClose(_ key: Int) -> Bool {
            key >> trackedCount >= counts.min && canClose(key & ((1 << trackedCount) - 1))
        }
        var pending: [Int] = []
        var done: Set<Int> = []
        let memberRules = members.map { m -> Int32 in
            let r = builder.newRule("member")
            builder.add(r, [m.key, ws] + colon + [m.value])
            return r
        }
        let open = [ws] + builder.literal("{")
        if mayClose(0) { builder.add(rule, open + [ws] + close) }
        if counts.max != 0 {
            for (m, r) in zip(members, memberRules) {
                builder.add(rule, open + [.rule(r), .rule(state(after(0, adding: m.bit)))], writingKey: m.uniqueKey)
                pending.append(after(0, adding: m.bit))
            }
        }
        while let key = pending.popLast() {
            guard done.insert(key).inserted else { continue }
            let s = state(key)
            if mayClose(key) { builder.add(s, [ws] + close) }
            if let max = counts.max, key >> trackedCount >= max { continue }
            for (m, r) in zip(members, memberRules) where key & m.bit == 0 {
                let next = after(key, adding: m.bit)
                builder.add(s, [ws] + comma + [.rule(r), .rule(state(next))], writingKey: m.uniqueKey)
                pending.append(next)
            }
        }
    }

    // MARK: Literals (const / enum)

    /// Adds, for each deferred `enum`/`const`, the literals that also satisfy the sibling keywords
    /// (checked by parsing the literal with the siblings' grammar).
    func resolveDeferredEnums() throws(ConstraintError) {
        for entry in deferredEnums.reversed() {
            let grammar = builder.build(root: entry.rest)
            // Strings go into one trie lexeme (`LiteralSetLexeme`), and numbers into two (integers,
            // then `(\.0+)?`; fractions, then `0*`), so a large enum is linear in its bytes rather
            // than one rule and lexeme per value.
            var strings: [[UInt8]] = [], integers: [[UInt8]] = [], fractions: [[UInt8]] = []
            for candidate in entry.candidates {
                var parser = EarleyParser(grammar: grammar)
                let text = candidate.serialized(compact: true)
                guard text.utf8.allSatisfy({ parser.advance($0) }), parser.isAccepting else { continue }
                switch candidate {
                case .string(let s):
                    strings.append(Array(s.utf8))
                case .number(let n):
                    guard let d = DecimalNumber(n) else { throw invalid([], "invalid number '\(n)'") }
                    let (sign, whole, fraction) = try Self.plainDecimal(d, at: entry.pointer)
                    if d.isZero { integers += [Array("0".utf8), Array("-0".utf8)] }
                    else if fraction.isEmpty { integers.append(Array((sign + whole).utf8)) }
                    else { fractions.append(Array((sign + whole + "." + fraction).utf8)) }
                default:
                    builder.add(entry.rule, [try literalSymbol(candidate)])
                }
            }
            if !strings.isEmpty {
                builder.add(entry.rule, [padded(JSONStringLexeme(inner: LiteralSetLexeme(strings), canonical: options.canonicalStrings))])
            }
            if !integers.isEmpty {
                builder.add(entry.rule, [padded(LiteralSetLexeme(integers)), builder.lexeme(try RegexLexeme(node: Self.pointZeros(max: numberDigits), search: false))])
            }
            if !fractions.isEmpty {
                builder.add(entry.rule, [padded(LiteralSetLexeme(fractions)), builder.lexeme(try RegexLexeme(node: Self.trailingZeros(max: numberDigits), search: false))])
            }
        }
        deferredEnums.removeAll()
    }

    /// A symbol matching every JSON text equal to `value` under JSON Schema equality (numbers in any
    /// plain decimal spelling, objects in any key order).
    func literalSymbol(_ value: JSONValue) throws(ConstraintError) -> Grammar.Symbol {
        switch value {
        case .null: return builder.choice("null", [[ws] + builder.literal("null")])
        case .bool(let b): return builder.choice("bool", [[ws] + builder.literal(b ? "true" : "false")])
        case .number(let text):
            guard let d = DecimalNumber(text) else { throw invalid([], "invalid number '\(text)'") }
            return padded(try RegexLexeme(node: Self.decimalSpellings(d, at: Self.pointer([]), maxZeros: numberDigits), search: false))
        case .string(let s):
            return padded(JSONStringLexeme(inner: try RegexLexeme(node: .literal(s), search: false), canonical: options.canonicalStrings))
        case .array(let items):
            let r = builder.newRule("array_literal")
            var rhs = [ws] + builder.literal("[")
            for (i, item) in items.enumerated() {
                if i > 0 { rhs += [ws] + builder.literal(",") }
                rhs.append(try literalSymbol(item))
            }
            builder.add(r, rhs + [ws] + builder.literal("]"))
            return .rule(r)
        case .object(let members):
            let r = builder.newRule("object_literal")
            var unique: [(key: String, value: JSONValue)] = []
            for m in members {
                if let i = unique.firstIndex(where: { $0.key == m.key }) { unique[i] = m } else { unique.append(m) }
            }
            guard unique.count <= options.maxTrackedRequired else {
                try refuse("const", at: [], "object literals with more than \(options.maxTrackedRequired) members are not supported")
                return .rule(r)
            }
            var entries: [ObjectMember] = []
            for (i, m) in unique.enumerated() { entries.append(ObjectMember(key: try keySymbol(m.key), value: try literalSymbol(m.value), bit: 1 << i)) }
            let all = (1 << unique.count) - 1
            try objectGrammar(r, members: entries, trackedCount: unique.count, canClose: { $0 == all })
            return .rule(r)
        }
    }

    /// The most digits a literal number's plain spelling may have. A JSON number's exponent is
    /// written in a few bytes, but its plain spelling (what a model emits) has one digit per power:
    /// `{"const": 1e1000000000}` would build a billion-digit literal. 10,000 digits is far beyond
    /// any real value (a double spans about 330).
    static let maxLiteralDigits = 10_000

    /// A number's plain decimal text: sign, whole digits and fraction digits without trailing
    /// zeros (empty for an integer).
    /// - Throws: `limitExceeded` at `pointer` when the spelling would pass `maxLiteralDigits`.
    static func plainDecimal(_ d: DecimalNumber, at pointer: String) throws(ConstraintError) -> (sign: String, whole: String, fraction: String) {
        let length = d.digits.count + abs(d.exponent)
        guard length <= maxLiteralDigits else {
            throw ConstraintError(.limitExceeded, at: pointer, feature: "literal number",
                                  "the number \(d) has a plain decimal spelling of about \(length) digits (limit \(maxLiteralDigits), `JSONSchemaCompiler.maxLiteralDigits`)")
        }
        let digits = d.digits.map(String.init).joined()
        let sign = d.negative ? "-" : ""
        if d.isZero { return ("", "0", "") }
        if d.exponent >= 0 { return (sign, digits + String(repeating: "0", count: d.exponent), "") }
        let point = digits.count + d.exponent
        if point > 0 { return (sign, String(digits.prefix(point)), String(digits.dropFirst(point))) }
        return (sign, "0", String(repeating: "0", count: -point) + digits)
    }

    /// The plain decimal spellings of a number: `-?I(\.F0*)?` with trailing fraction zeros optional,
    /// `-0` for zero allowed; at most `maxZeros` zeros after the value's digits when given
    /// (`maxNumberDigits`: the value itself is never cut).
    /// - Throws: `limitExceeded` at `pointer` for a number too long to spell (`plainDecimal`).
    static func decimalSpellings(_ d: DecimalNumber, at pointer: String, maxZeros: Int? = nil) throws(ConstraintError) -> RegexNode {
        let pointZeros = pointZeros(max: maxZeros), trailingZeros = trailingZeros(max: maxZeros)
        func lit(_ s: String) -> RegexNode { .literal(s) }
        let (sign, whole, fraction) = try plainDecimal(d, at: pointer)
        if d.isZero {
            return .sequence([.repetition(lit("-"), min: 0, max: 1), lit("0"), pointZeros])
        }
        if fraction.isEmpty { return .sequence([lit(sign), lit(whole), pointZeros]) }
        return .sequence([lit(sign), lit(whole), lit("."), lit(fraction), trailingZeros])
    }

    /// What may follow an integer's digits and keep its value: `(\.0+)?`, at most `max` zeros.
    static func pointZeros(max: Int?) -> RegexNode {
        .repetition(.sequence([.literal("."), .repetition(.literal("0"), min: 1, max: max)]), min: 0, max: 1)
    }
    /// What may follow a fraction's last significant digit: `0*`, at most `max` of them.
    static func trailingZeros(max: Int?) -> RegexNode { .repetition(.literal("0"), min: 0, max: max) }
}

extension String {
    /// Decodes `%XX` escapes (JSON pointers in URI fragments are percent-encoded).
    var removingPercentEncodingManually: String {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
               let h = Unicode.Scalar(it[it.startIndex]).hexDigitValue, let l = Unicode.Scalar(it[it.startIndex + 1]).hexDigitValue {
                bytes.append(UInt8(h * 16 + l))
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
