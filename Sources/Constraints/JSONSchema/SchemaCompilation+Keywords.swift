/// Keyword values checked against the draft's metaschema rules, and `$ref` resolution.
extension SchemaCompilation {
    /// Checks a keyword's value against the draft's metaschema and refuses unsupported forms.
    /// - Returns: whether the keyword asserts anything (false for annotations and unknown keywords).
    func check(_ keyword: String, _ value: JSONValue, in part: Part) throws(ConstraintError) -> Bool {
        let here = part.path + [keyword]
        if annotations.contains(keyword) {
            if ["$schema", "$anchor", "$dynamicAnchor", "$comment"].contains(keyword), !value.isString {
                throw invalid(here, "\(keyword) must be a string")
            }
            // A subschema (or another document) may not switch drafts.
            if keyword == "$schema", case .string(let uri) = value, !part.path.isEmpty || part.document != 0,
               JSONSchemaDraft(metaschemaURI: uri) != draft {
                try refuse(keyword, at: here, "a subschema's '$schema' ('\(uri)') differs from the document's draft \(draft.rawValue)")
            }
            if keyword == "$recursiveAnchor", !value.isBool { throw invalid(here, "$recursiveAnchor must be a boolean") }
            for (key, schema) in (keyword == "$defs" || keyword == "definitions") ? try schemaMap(value, here) : [] {
                try checkSchema(schema, here + [key])
            }
            return false
        }
        guard assertions.contains(keyword) else {
            warn(keyword, at: here, "unknown keyword '\(keyword)' (not in draft \(draft.rawValue)) ignored as an annotation")
            return false
        }
        switch keyword {
        case "$ref", "$recursiveRef", "$dynamicRef", "pattern", "format", "$id", "id":
            guard case .string(let text) = value else { throw invalid(here, "\(keyword) must be a string") }
            if keyword == "format" {
                if options.assertFormats && JSONFormats.pattern(for: text) == nil {
                    if draft.formats.contains(text) {
                        try refuse(keyword, at: here, "format '\(text)' is not supported")
                    } else {
                        warn(keyword, at: here, "format '\(text)' is not defined by draft \(draft.rawValue): ignored as an annotation")
                    }
                }
            }
            if keyword == "$id" || keyword == "id" { return false }
        case "type":
            let names: [JSONValue]
            switch value {
            case .string: names = [value]
            case .array(let items) where !items.isEmpty: names = items
            default: throw invalid(here, "type must be a type name or a non-empty array of them")
            }
            for n in names {
                guard case .string(let name) = n, Self.allTypes.contains(name) else {
                    throw invalid(here, "unknown type \(n.serialized()) (expected one of \(Self.allTypes.sorted().joined(separator: ", ")))")
                }
            }
        case "enum":
            guard case .array = value else { throw invalid(here, "enum must be an array") }
        case "required":
            guard case .array(let items) = value, items.allSatisfy(\.isString) else {
                throw invalid(here, "required must be an array of strings")
            }
        case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minContains", "maxContains":
            guard case .number(let text) = value, let d = DecimalNumber(text), d.isInteger, !d.negative else {
                throw invalid(here, "\(keyword) must be a non-negative integer")
            }
        case "minimum", "maximum":
            guard case .number(let text) = value, DecimalNumber(text) != nil else { throw invalid(here, "\(keyword) must be a number") }
        case "exclusiveMinimum", "exclusiveMaximum":
            if draft.hasBooleanExclusiveBounds {
                guard value.isBool else { throw invalid(here, "\(keyword) must be a boolean in draft 4") }
            } else {
                guard case .number(let text) = value, DecimalNumber(text) != nil else { throw invalid(here, "\(keyword) must be a number") }
            }
        case "multipleOf":
            guard case .number(let text) = value, let d = DecimalNumber(text), !d.isZero, !d.negative else {
                throw invalid(here, "multipleOf must be a number greater than 0")
            }
        case "uniqueItems":
            guard value.isBool else { throw invalid(here, "uniqueItems must be a boolean") }
        case "allOf", "anyOf", "oneOf", "prefixItems":
            guard case .array(let members) = value, !members.isEmpty else {
                throw invalid(here, "\(keyword) must be a non-empty array of schemas")
            }
            for (i, m) in members.enumerated() { try checkSchema(m, here + [String(i)]) }
        case "items":
            if case .array(let members) = value {
                guard draft.hasArrayItems else {
                    try refuse(keyword, at: here, "the array form of 'items' is not draft 2020-12 (use prefixItems, or a '$schema' of an earlier draft)")
                    return true
                }
                for (i, m) in members.enumerated() { try checkSchema(m, here + [String(i)]) }
            } else {
                try checkSchema(value, here)
            }
        case "additionalItems", "additionalProperties":
            // Booleans are schemas here even in draft 4.
            if !value.isBool { try checkSchema(value, here) }
        case "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties":
            try checkSchema(value, here)
        case "properties", "patternProperties", "dependentSchemas":
            for (key, schema) in try schemaMap(value, here) { try checkSchema(schema, here + [key]) }
            if keyword == "dependentSchemas", case .object(let members) = value, members.count > Self.maxDependentSchemas {
                try refuse(keyword, at: here, "more than \(Self.maxDependentSchemas) dependentSchemas keys (2ⁿ alternatives) are not supported")
            }
        case "dependentRequired", "dependencies":
            guard case .object(let members) = value else { throw invalid(here, "\(keyword) must be an object") }
            var schemas = 0
            for (key, entry) in members {
                if case .array(let names) = entry, names.allSatisfy(\.isString) { continue }
                guard keyword == "dependencies" else { throw invalid(here + [key], "a dependentRequired value must be an array of strings") }
                try checkSchema(entry, here + [key])
                schemas += 1
            }
            if schemas > Self.maxDependentSchemas {
                try refuse(keyword, at: here, "more than \(Self.maxDependentSchemas) schema dependencies (2ⁿ alternatives) are not supported")
            }
        default:
            break
        }
        return true
    }

    /// Checks that a subschema position holds a schema of this draft (booleans from draft 6).
    func checkSchema(_ value: JSONValue, _ path: [String]) throws(ConstraintError) {
        switch value {
        case .object: return
        case .bool where draft.hasBooleanSchemas: return
        default: throw invalid(path, "expected a schema (an object\(draft.hasBooleanSchemas ? " or a boolean" : ""))")
        }
    }

    func schemaMap(_ value: JSONValue, _ path: [String]) throws(ConstraintError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value else { throw invalid(path, "\(path.last ?? "") must be an object of schemas") }
        return members
    }

    /// Resolves a `$ref` (and the dynamic references where they are static) against the base URI of
    /// the schema holding it, within the compilation's documents.
    func resolve(_ ref: String, keyword: String, from part: Part) throws(ConstraintError) -> Part? {
        let here = part.path + [keyword]
        let base = resources.base(at: part.location)
        let uri = SchemaURI.resolve(ref, against: base)
        guard var target = resources.locate(uri) else {
            try refuse(keyword, at: here, "reference '\(ref)' (\(uri)) names no schema of this document or of the documents given")
            return nil
        }
        switch keyword {
        case "$recursiveRef":
            // The target is replaced by the outermost resource of the dynamic scope that says
            // `$recursiveAnchor: true`, when the target says it too. Static cases only: the root
            // says it (the root is always outermost), or no other resource does.
            if case .bool(true)? = resources.value(at: target)?["$recursiveAnchor"] {
                if case .bool(true)? = root["$recursiveAnchor"] {
                    target = .init(document: 0, path: [])
                } else if resources.recursiveAnchors.count > 1 {
                    try refuse(keyword, at: here, "'$recursiveRef' whose target depends on the dynamic scope is not supported")
                    return nil
                }
            }
        case "$dynamicRef":
            let (_, fragment) = SchemaURI.splitFragment(uri)
            if !fragment.isEmpty, !fragment.hasPrefix("/"),
               case .string(fragment)? = resources.value(at: target)?["$dynamicAnchor"] {
                let rootBase = resources.base(at: .init(document: 0, path: []))
                let defining = resources.dynamicAnchors[fragment] ?? []
                if defining.contains(rootBase), let outer = resources.locate(rootBase + "#" + fragment) {
                    target = outer
                } else if Set(defining).count > 1 {
                    try refuse(keyword, at: here, "'$dynamicRef' whose target depends on the dynamic scope is not supported")
                    return nil
                }
            }
        default:
            break
        }
        guard let value = resources.value(at: target) else { return nil }
        return Part(path: target.path, value: value, document: target.document)
    }
}
