/// How `JSONSchemaCompiler` treats a schema.
public struct JSONSchemaOptions: Sendable {
    /// Ignore unsupported keywords with a warning instead of refusing the schema. The grammar then
    /// accepts instances those keywords would reject.
    public var lenient: Bool
    /// The whitespace one gap between two JSON tokens may hold (`JSONWhitespace`): by default a
    /// line feed and up to 32 columns of indentation, so a model can pretty-print as it was trained
    /// to, but cannot pad forever.
    public var whitespace: JSONWhitespace
    /// Enforce `format` (date-time, date, time, email, uuid, uri, ipv4, ipv6); `false` treats it as an
    /// annotation, which is draft 2020-12's default for validators.
    public var assertFormats: Bool
    /// Accept each string in one spelling only, the one `JSONValue.serialized` writes: `"` and `\`
    /// and control characters escaped (short forms, else lowercase `\u00xx`), everything else raw.
    /// A decoder then cannot spell a key or literal two ways (so their tokens are forced) nor wander
    /// into escape sequences; instances that use other escapes are refused. Off by default, as a
    /// validator accepts every spelling.
    public var canonicalStrings: Bool
    /// Objects track which required properties were seen, one grammar state per subset; more required
    /// properties than this are refused rather than building 2ⁿ states.
    public var maxTrackedRequired: Int
    /// The most digits of each digit run of a number — its integer part, its fraction, its exponent —
    /// so that a model cannot write digits forever (`-0.000000…` spells the integer 0); nil lifts the
    /// bound. The default, `defaultMaxNumberDigits`, holds every 64-bit integer and every double as
    /// JavaScript and Python print it. A schema whose own numbers need longer runs (bounds,
    /// `const`/`enum` values) gets a wider bound where it needs it, so no schema loses an instance
    /// within the bound, and no prefix a mask allows becomes a dead end.
    public var maxNumberDigits: Int?
    /// 22 digits: a 64-bit integer has at most 20 (2⁶⁴ − 1 = 18446744073709551615), and a double's
    /// shortest round-trip spelling has at most 17 significant digits, which JavaScript's
    /// `Number.prototype.toString` writes without exponent from 10⁻⁶ to 10²¹: at most 21 integer
    /// digits, or 5 leading fraction zeros and 17 digits (Python's `repr` stays within 16 and 20).
    public static let defaultMaxNumberDigits = 22
    /// The draft of a schema without `$schema` (a `$schema` naming a known draft overrides it).
    public var defaultDraft: JSONSchemaDraft
    /// Other schema documents a `$ref` may name, by absolute URI (without fragment): a validator's
    /// schema registry. Nothing is fetched; a reference to any other document is refused.
    public var documents: [String: JSONValue]

    /// Creates options.
    /// - Parameters:
    ///   - lenient: ignore unsupported keywords with a warning.
    ///   - whitespace: the whitespace bound of each gap between tokens.
    ///   - assertFormats: enforce `format`.
    ///   - maxTrackedRequired: the most required properties per object.
    ///   - canonicalStrings: accept strings in their one canonical spelling only.
    ///   - maxNumberDigits: the most digits of each digit run of a number; nil for no bound.
    ///   - defaultDraft: the draft of a schema without `$schema`.
    ///   - documents: schema documents `$ref` may name, by absolute URI.
    public init(lenient: Bool = false, whitespace: JSONWhitespace = .standard, assertFormats: Bool = true,
                maxTrackedRequired: Int = 12, canonicalStrings: Bool = false,
                maxNumberDigits: Int? = JSONSchemaOptions.defaultMaxNumberDigits,
                defaultDraft: JSONSchemaDraft = .draft2020_12, documents: [String: JSONValue] = [:]) {
        self.defaultDraft = defaultDraft
        self.documents = documents
        self.lenient = lenient
        self.canonicalStrings = canonicalStrings
        self.whitespace = whitespace
        self.assertFormats = assertFormats
        self.maxTrackedRequired = maxTrackedRequired
        self.maxNumberDigits = maxNumberDigits
    }
}
