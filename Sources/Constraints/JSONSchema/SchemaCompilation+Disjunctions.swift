/// Disjunctions distributed over a conjunction (`anyOf`, `oneOf`, `if`/`then`/`else`,
/// `dependentSchemas`, `not`) and the negation of a schema as a union, one alternative per keyword.
extension SchemaCompilation {
    /// The schema with only the keywords its draft asserts with (an object's annotations and unknown
    /// keywords dropped; other values unchanged).
    func asserting(_ schema: JSONValue) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        return .object(members.filter { assertions.contains($0.key) })
    }

    /// Whether `not` of the schema compiles inline in `typeAlternatives`: a boolean, a type-only
    /// schema, or a `const`/`enum` of scalars (their complement is a set of lexemes, each live at
    /// every prefix). Other negations are expanded by `negationAlternatives`.
    func isNegatable(_ schema: JSONValue) -> Bool {
        let schema = asserting(schema)
        switch schema {
        case .bool: return true
        case .object(let members):
            let keys = Set(members.map(\.key))
            if keys.isSubset(of: ["type"]) { return true }
            guard keys.isSubset(of: ["const", "enum"]), let values = Self.literalSet(schema) else { return false }
            return values.allSatisfy { if case .array = $0 { false } else if case .object = $0 { false } else { true } }
        default: return false
        }
    }

    /// For each part holding `keyword` (`unevaluatedProperties`/`unevaluatedItems`), the indices of
    /// the parts whose annotations it sees: itself and those applied from it in place, transitively.
    func evaluationScopes(_ parts: [Part], _ keyword: String) -> [(holder: Int, scope: [Int])] {
        var index: [String: Int] = [:]
        for (i, p) in parts.enumerated() where index[p.identity] == nil { index[p.identity] = i }
        var out: [(holder: Int, scope: [Int])] = []
        for (i, holder) in parts.enumerated() where holder.value[keyword] != nil {
            let scope = parts.indices.filter { j in
                var current = j
                // Origins form chains within the conjunction; a chain is never longer than it.
                for _ in 0...parts.count {
                    if parts[current].identity == holder.identity { return true }
                    guard let next = parts[current].origin.flatMap({ index[$0] }) else { return false }
                    current = next
                }
                return false
            }
            out.append((i, scope))
        }
        return out
    }

    /// A `oneOf` whose branches may overlap expands into n alternatives of n − 1 negations each,
    /// whose unions multiply; more branches than this are refused.
    static let maxOverlappingOneOf = 6

    /// `anyOf` under `unevaluatedProperties`/`unevaluatedItems` expands into 2ⁿ − 1 alternatives;
    /// more branches than this are refused.
    static let maxAnnotatedAnyOf = 4

    /// The false schema in a form every draft accepts (draft 4 has no boolean schemas).
    static let nothing: JSONValue = .object([(key: "not", value: .object([]))])

    /// A schema derived from the one at `path` (see `Part.role`).
    func derived(_ part: Part, _ components: [String], _ role: String, _ members: [(key: String, value: JSONValue)]) -> Part {
        Part(path: part.path + components, value: .object(members), document: part.document, role: part.role + role)
    }

    /// The disjunction a part contributes, if any: `anyOf`/`oneOf` branches, a negation's
    /// alternatives, `not` beyond the inline forms, `if`/`then`/`else` as `(if ∧ then) ∨ (¬if ∧ else)`,
    /// and each `dependentSchemas` key as `absent ∨ (present ∧ schema)`. Each alternative is a list
    /// of parts to add to the conjunction.
    ///
    /// When an `unevaluatedProperties`/`unevaluatedItems` sees the part's annotations (`annotated`),
    /// an `anyOf` whose branches may overlap is expanded by which branches hold (each non-empty
    /// subset, the others negated), since every valid branch annotates.
    func disjunction(_ part: Part, annotated: Bool) throws(ConstraintError) -> (String, [[Part]])? {
        if part.negated { return ("negation", try negationAlternatives(part)) }
        for keyword in ["anyOf", "oneOf"] where !part.consumed.contains(keyword) {
            guard case .array(let branches)? = part.value[keyword] else { continue }
            let disjoint = provablyDisjoint(branches, in: part)
            let holds = branches.indices.map { part.child([keyword, String($0)], branches[$0], inPlace: true) }
            func fails(_ i: Int) -> Part {
                var p = part.child([keyword, String(i)], branches[i])
                p.negated = true
                return p
            }
            if keyword == "oneOf" && !disjoint {
                // Exactly one holds: each branch with every other negated (refused where a
                // negation is).
                guard branches.count <= Self.maxOverlappingOneOf else {
                    try refuse("oneOf", at: part.path + [keyword],
                               "a oneOf of more than \(Self.maxOverlappingOneOf) branches that may overlap is not supported (one is exact when they are disjoint by type, value or a property pinned to different values)")
                    return (keyword, holds.map { [$0] })
                }
                return (keyword, holds.indices.map { i in [holds[i]] + branches.indices.filter { $0 != i }.map(fails) })
            }
            if keyword == "anyOf" && annotated && !disjoint {
                guard branches.count <= Self.maxAnnotatedAnyOf else {
                    try refuse(keyword, at: part.path + [keyword], "an anyOf of more than \(Self.maxAnnotatedAnyOf) overlapping branches under unevaluatedProperties/unevaluatedItems is not supported")
                    return (keyword, holds.map { [$0] })
                }
                return (keyword, (1..<(1 << branches.count)).map { subset in
                    holds.indices.map { subset & (1 << $0) != 0 ? holds[$0] : fails($0) }
                })
            }
            return (keyword, holds.map { [$0] })
        }
        if !part.consumed.contains("not"), let negated = part.value["not"], !isNegatable(negated) {
            var inner = part.child(["not"], negated)
            inner.negated = true
            return ("not", [[inner]])
        }
        // A lone `if` asserts nothing, but its annotations count when it holds.
        if !part.consumed.contains("if"), let condition = part.value["if"], annotated || part.value["then"] != nil || part.value["else"] != nil {
            let holds = part.child(["if"], condition, inPlace: true)
            // Without `then`, (if) ∨ (¬if ∧ else) is (if) ∨ (else), which needs no negation; where
            // annotations matter the `if` branch's would be missing from the second, so not there.
            if part.value["then"] == nil && !annotated, let otherwise = part.value["else"] {
                return ("if", [[holds], [part.child(["else"], otherwise, inPlace: true)]])
            }
            var fails = part.child(["if"], condition)
            fails.negated = true
            return ("if", [[holds] + (part.value["then"].map { [part.child(["then"], $0, inPlace: true)] } ?? []),
                           [fails] + (part.value["else"].map { [part.child(["else"], $0, inPlace: true)] } ?? [])])
        }
        for keyword in ["dependentSchemas", "dependencies"] where !part.consumed.contains(keyword) {
            guard case .object(let entries)? = part.value[keyword] else { continue }
            var alternatives: [[Part]] = [[]]
            for (key, schema) in entries {
                if case .array = schema { continue }   // `dependencies` on names: see objectAlternatives
                let absent = derived(part, [keyword, key], Role.absent, [("properties", .object([(key, Self.nothing)]))])
                let present = derived(part, [keyword, key], Role.present, [("required", .array([.string(key)]))])
                let holds = part.child([keyword, key], schema, inPlace: true)
                alternatives = alternatives.flatMap { [$0 + [absent], $0 + [present, holds]] }
            }
            if alternatives.count > 1 { return (keyword, alternatives) }
        }
        return nil
    }

    /// `not` of a schema object as a union, one or more alternatives per keyword (¬(A ∧ B) =
    /// ¬A ∨ ¬B): `type`, `const`, `enum` by the inline forms; bounds, lengths and counts by the
    /// opposite bound on their type; `required` by an absent property; `properties` by a present
    /// property whose value fails; `items`/`contains` by each other; `allOf`, `anyOf` (and a disjoint
    /// `oneOf`) by De Morgan; `not` and `$ref` by their schema. Other keywords are refused.
    func negationAlternatives(_ part: Part) throws(ConstraintError) -> [[Part]] {
        var out: [[Part]] = []
        func negated(_ p: Part) -> Part { var p = p; p.negated = true; return p }
        func opposite(_ keyword: String, _ type: String, _ members: [(key: String, value: JSONValue)]) {
            out.append([derived(part, [keyword], Role.negation, [("type", .string(type))] + members)])
        }
        for (keyword, value) in part.value.objectMembers {
            switch keyword {
            case "type", "const", "enum":
                guard isNegatable(.object([(keyword, value)])) else {
                    try refuse(keyword, at: part.path + [keyword], "negating a '\(keyword)' of arrays or objects is not supported")
                    continue
                }
                out.append([derived(part, [keyword], Role.negation, [("not", .object([(keyword, value)]))])])
            case "not":
                out.append([part.child(["not"], value)])
            case "allOf":
                guard case .array(let members) = value else { continue }
                for (i, m) in members.enumerated() { out.append([negated(part.child([keyword, String(i)], m))]) }
            case "anyOf", "oneOf":
                guard case .array(let members) = value else { continue }
                if keyword == "oneOf" && !provablyDisjoint(members, in: part) {
                    try refuse(keyword, at: part.path + [keyword], "negating a oneOf whose branches may overlap is not supported")
                    continue
                }
                out.append(members.indices.map { negated(part.child([keyword, String($0)], members[$0])) })
            case "$ref":
                guard case .string(let ref) = value, let target = try resolve(ref, keyword: keyword, from: part) else { continue }
                out.append([negated(target)])
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard case .number = value else { continue }   // draft 4's booleans modify minimum/maximum
                let lower = keyword.hasSuffix("inimum")
                var exclusive = keyword.hasPrefix("exclusive")
                if draft.hasBooleanExclusiveBounds, case .bool(true)? = part.value[lower ? "exclusiveMinimum" : "exclusiveMaximum"] { exclusive = true }
                // The opposite bound is exclusive where this one is inclusive.
                let flipped = lower ? "Maximum" : "Minimum"
                if draft.hasBooleanExclusiveBounds {
                    opposite(keyword, "number", [(flipped.lowercased(), value)] + (exclusive ? [] : [("exclusive" + flipped, .bool(true))]))
                } else {
                    opposite(keyword, "number", [(exclusive ? flipped.lowercased() : "exclusive" + flipped, value)])
                }
            case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
                guard case .number(let text) = value, let n = Int(exactly: Double(text) ?? -1) else { continue }
                let type = keyword.hasSuffix("Length") ? "string" : keyword.hasSuffix("Items") ? "array" : "object"
                let isMin = keyword.hasPrefix("min")
                if isMin && n == 0 { continue }   // never fails
                let flipped = (isMin ? "max" : "min") + keyword.dropFirst(3)
                opposite(keyword, type, [(flipped, .number(String(isMin ? n - 1 : n + 1)))])
            case "required":
                guard case .array(let names) = value else { continue }
                for (i, name) in names.enumerated() {
                    guard case .string(let key) = name else { continue }
                    out.append([derived(part, [keyword, String(i)], Role.negation,
                                        [("type", .string("object")), ("properties", .object([(key, Self.nothing)]))])])
                }
            case "properties":
                for (key, schema) in value.objectMembers {
                    out.append([derived(part, [keyword, key], Role.present, [
                        ("type", .string("object")), ("required", .array([.string(key)])),
                        ("properties", .object([(key, .object([("not", schema)]))])),
                    ])])
                }
            case "prefixItems", "items" where value.isArray:
                // Some element of the prefix is present and fails its schema.
                for (i, schema) in value.arrayItems.enumerated() {
                    out.append([derived(part, [keyword, String(i)], Role.negation, [
                        ("type", .string("array")), ("minItems", .number(String(i + 1))),
                        (keyword, .array(Array(repeating: .object([]), count: i) + [.object([("not", schema)])])),
                    ])])
                }
            case "items" where !value.isArray && part.value["prefixItems"] == nil:
                opposite(keyword, "array", [("contains", .object([("not", value)]))])
            case "contains" where part.value["minContains"] == nil && part.value["maxContains"] == nil:
                opposite(keyword, "array", [("items", .object([("not", value)]))])
            case "format" where !(options.assertFormats && JSONFormats.pattern(for: value.stringValue ?? "") != nil):
                continue   // an annotation
            case "uniqueItems" where value == .bool(false):
                continue
            case "additionalItems" where part.value["items"].map({ !$0.isArray }) ?? true:
                continue   // ignored unless items is an array
            case "then", "else" where part.value["if"] == nil:
                continue
            default:
                try refuse(keyword, at: part.path + [keyword], "'\(keyword)' inside a negation ('not', or 'if' with 'else') is not supported")
            }
        }
        return out
    }

    /// The values a `const`/`enum` schema allows (their intersection when it has both), nil when it
    /// has neither.
    static func literalSet(_ schema: JSONValue) -> [JSONValue]? {
        var values: [JSONValue]? = nil
        if let c = schema["const"] { values = [c] }
        if case .array(let list)? = schema["enum"] { values = values.map { v in v.filter { list.contains($0) } } ?? list }
        return values
    }

    /// Whether at most one branch can match any instance (then `oneOf` is `anyOf`): for every pair,
    /// their possible types are disjoint (within the types `part` allows), or they are `const`/`enum`
    /// lists with no common value, or both are objects that require a property pinned to values
    /// with none in common. Branches that are only a `$ref` are read through it.
    func provablyDisjoint(_ branches: [JSONValue], in part: Part) -> Bool {
        var context = Self.allTypes
        if let names = try? stringsIn(part.value["type"], []) {
            context = Set(names)
            if context.contains("number") { context.insert("integer") }
        }
        /// The branch's assertions, through a chain of `$ref`s when it has nothing else.
        func summary(_ branch: JSONValue) -> JSONValue {
            var current = asserting(branch)
            var location = SchemaResources.Location(document: part.document, path: part.path)
            for _ in 0..<Self.maxRefChain {
                guard case .object(let members) = current, members.count == 1, case .string(let ref)? = current["$ref"],
                      let target = resources.locate(SchemaURI.resolve(ref, against: resources.base(at: location))),
                      let value = resources.value(at: target) else { break }
                current = asserting(value)
                location = target
            }
            return current
        }
        func types(_ b: JSONValue) -> Set<String> {
            var out = context
            switch b {
            case .bool(let v): return v ? out : []
            case .object:
                if let names = try? stringsIn(b["type"], []) {
                    var named = Set(names)
                    if named.contains("number") { named.insert("integer") }
                    out.formIntersection(named)
                }
                if let values = Self.literalSet(b) {
                    var literal = Set(values.map(\.typeName))
                    if literal.contains("integer") { literal.insert("number") }
                    out.formIntersection(literal)
                }
            default: break
            }
            if out.contains("number") { out.insert("integer") }
            if out.contains("integer") { out.insert("number") }
            return out
        }
        /// Required properties pinned by `properties` to a `const`/`enum` list.
        func pinned(_ b: JSONValue) -> [String: [JSONValue]] {
            guard case .array(let required)? = b["required"] else { return [:] }
            var out: [String: [JSONValue]] = [:]
            for case .string(let name) in required {
                if let schema = b["properties"]?[name], let values = Self.literalSet(asserting(schema)) { out[name] = values }
            }
            return out
        }
        let summaries = branches.map(summary)
        for i in summaries.indices {
            for j in summaries.indices where j > i {
                let a = summaries[i], b = summaries[j]
                if let x = Self.literalSet(a), let y = Self.literalSet(b), !x.contains(where: { y.contains($0) }) { continue }
                let ta = types(a), tb = types(b)
                if ta.isDisjoint(with: tb) { continue }
                if ta.union(tb) == ["object"] {
                    let pa = pinned(a), pb = pinned(b)
                    if pa.contains(where: { name, values in pb[name].map { other in !values.contains(where: { other.contains($0) }) } ?? false }) { continue }
                }
                return false
            }
        }
        return true
    }

    /// `$ref` chains followed when reading `oneOf` branches (a longer chain is not read through).
    static let maxRefChain = 8
}
