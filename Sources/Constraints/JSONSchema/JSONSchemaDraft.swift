/// A JSON Schema draft, chosen by the root schema's `$schema` (else `JSONSchemaOptions.defaultDraft`).
///
/// The drafts differ in which keywords exist and in a few meanings: array-form `items` with
/// `additionalItems` (drafts 4 to 2019-09) against `prefixItems` (2020-12), `dependencies` (4 to 7)
/// against `dependentRequired`/`dependentSchemas`, boolean `exclusiveMinimum`/`exclusiveMaximum`
/// modifying `minimum`/`maximum` (4), `id` (4) against `$id`, and `$ref` replacing its siblings
/// (4 to 7). A keyword a draft does not define is an annotation there, as validators treat it.
public enum JSONSchemaDraft: String, Sendable, CaseIterable {
    /// Draft 4 (`http://json-schema.org/draft-04/schema#`).
    case draft4 = "draft-04"
    /// Draft 6.
    case draft6 = "draft-06"
    /// Draft 7.
    case draft7 = "draft-07"
    /// Draft 2019-09.
    case draft2019_09 = "2019-09"
    /// Draft 2020-12.
    case draft2020_12 = "2020-12"

    /// The draft a `$schema` URI names (http or https, with or without a trailing `#` or empty
    /// fragment), or nil for any other metaschema.
    /// - Parameter uri: the `$schema` value.
    public init?(metaschemaURI uri: String) {
        var rest = Substring(uri)
        if rest.hasSuffix("#") { rest = rest.dropLast() }
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) } else if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else { return nil }
        switch rest {
        case "json-schema.org/draft-04/schema": self = .draft4
        case "json-schema.org/draft-06/schema": self = .draft6
        case "json-schema.org/draft-07/schema": self = .draft7
        case "json-schema.org/draft/2019-09/schema": self = .draft2019_09
        case "json-schema.org/draft/2020-12/schema": self = .draft2020_12
        default: return nil
        }
    }

    /// Drafts 4 to 7 ignore every sibling of `$ref`.
    var refOverridesSiblings: Bool { self < .draft2019_09 }
    /// `items` may be an array of schemas, continued by `additionalItems`.
    var hasArrayItems: Bool { self < .draft2020_12 }
    /// The keyword naming a schema resource.
    var idKeyword: String { self == .draft4 ? "id" : "$id" }
    /// `id`/`$id` with a plain-name fragment (`#foo`) names an anchor (drafts 4 to 7; `$anchor` after).
    var idMayBeAnchor: Bool { self < .draft2019_09 }
    /// Boolean `exclusiveMinimum`/`exclusiveMaximum` modify `minimum`/`maximum` (draft 4).
    var hasBooleanExclusiveBounds: Bool { self == .draft4 }
    /// `true` and `false` are schemas (from draft 6).
    var hasBooleanSchemas: Bool { self >= .draft6 }

    /// The keywords that carry no assertion (their subschemas are reached only through `$ref`).
    var annotations: Set<String> {
        var out: Set<String> = ["title", "description", "default", "definitions", "$schema"]
        if self >= .draft6 { out.formUnion(["examples"]) }
        if self >= .draft7 { out.formUnion(["$comment", "readOnly", "writeOnly", "contentMediaType", "contentEncoding"]) }
        if self >= .draft2019_09 { out.formUnion(["$defs", "deprecated", "contentSchema", "$anchor", "$vocabulary"]) }
        if self == .draft2019_09 { out.insert("$recursiveAnchor") }
        if self == .draft2020_12 { out.insert("$dynamicAnchor") }
        return out
    }

    /// The keywords that assert something or apply subschemas in this draft.
    var assertions: Set<String> {
        var out: Set<String> = [
            "type", "enum", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
            "minLength", "maxLength", "pattern", "format", "anyOf", "oneOf", "allOf", "not", "$ref", "minimum",
            "maximum", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems", "patternProperties", "multipleOf",
            "minProperties", "maxProperties", idKeyword,
        ]
        if self < .draft2020_12 { out.insert("additionalItems") }
        if self < .draft2019_09 { out.insert("dependencies") }
        if self >= .draft6 { out.formUnion(["const", "contains", "propertyNames"]) }
        if self >= .draft7 { out.formUnion(["if", "then", "else"]) }
        if self >= .draft2019_09 {
            out.formUnion(["dependentRequired", "dependentSchemas", "minContains", "maxContains",
                           "unevaluatedItems", "unevaluatedProperties"])
        }
        if self == .draft2019_09 { out.insert("$recursiveRef") }
        if self == .draft2020_12 { out.formUnion(["prefixItems", "$dynamicRef"]) }
        return out
    }

    /// The `format` names the draft defines. Names outside it are annotations (with a warning);
    /// defined names we do not enforce are refused when formats are asserted.
    var formats: Set<String> {
        var out: Set<String> = ["date-time", "email", "hostname", "ipv4", "ipv6", "uri"]
        if self >= .draft6 { out.formUnion(["uri-reference", "uri-template", "json-pointer"]) }
        if self >= .draft7 {
            out.formUnion(["date", "time", "idn-email", "idn-hostname", "iri", "iri-reference",
                           "relative-json-pointer", "regex"])
        }
        if self >= .draft2019_09 { out.formUnion(["duration", "uuid"]) }
        return out
    }
}

extension JSONSchemaDraft: Comparable {
    /// Drafts in publication order.
    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
