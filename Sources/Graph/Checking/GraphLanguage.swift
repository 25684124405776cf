/// The fields of the sections that are not nodes, as parameter tables: one checker validates
/// them and the language reference prints them, like op parameters.
public enum GraphLanguage {
    /// Fields of an entry of `models`.
    public static let modelFields: [ParameterSpec] = [
        ParameterSpec("path", .string, doc: "Directory with config.json, safetensors weights and tokenizer.json, or a GGUF file (weights, configuration, tokenizer and chat template), relative to the graph file."),
        ParameterSpec("activations", .enumeration(["auto", "f32", "bf16", "q8"]), default: .string("auto"),
                      doc: "What the weight products read as activations: f32 (exact for every weight type, GGUF quantized blocks dequantized row by row; logits match transformers on the same weights to 1e-4), bf16 (rounded before products with bf16 weights, as llama.cpp does for bf16 tensors; AVX-512 BF16 dot products, half the cost of verifying drafts) or q8 (8-bit blocks of 32 into integer dot products with quantized weights, as llama.cpp does); auto picks q8 for quantized weights, bf16 for bf16 weights on a CPU with AVX-512 BF16, f32 otherwise."),
        ParameterSpec("kv_cache_mb", .int, default: .int(defaultKVCacheMiB), range: .atLeast(1),
                      doc: "Memory of the model's KV cache in MiB, shared by every sequence of every session using the model; it bounds prompt plus output length (a 135M SmolLM2 keeps 46 KB per token: 1024 MiB hold ~23k tokens). `decograph run --kv-cache-mb` overrides it."),
    ]

    /// The default of a model's `kv_cache_mb`: 1 GiB, about 23k tokens of a 1.1B GQA model (the
    /// runtime's `Model.defaultKVCacheBytes`).
    public static let defaultKVCacheMiB = 1024

    /// Fields of an entry of `stores`.
    public static let storeFields: [ParameterSpec] = [
        ParameterSpec("path", .string, doc: "The store file, relative to the graph file: an LMDB n-gram store, or a suffix-array store (told apart by the file's magic)."),
        ParameterSpec("learn", .bool, default: .bool(false), doc: "Whether runs may add to the store (a `store.learn` node needs it): opened writable and created empty when missing; false opens it read-only. A suffix-array store is read-only, so `learn: true` on one is an error."),
    ]

    /// The kinds of constraint and the field each needs.
    static let constraintKinds: [(kind: String, needs: [String])] = [
        ("regex", ["pattern"]), ("json_schema", ["schema", "path"]), ("grammar", ["path"]),
    ]

    /// Fields of an entry of `constraints`.
    public static let constraintFields: [ParameterSpec] = [
        ParameterSpec("kind", .enumeration(constraintKinds.map(\.kind)), doc: "What the constraint is written in."),
        ParameterSpec("pattern", .string, optional: true, doc: "The regular expression (kind regex)."),
        ParameterSpec("schema", .document, optional: true, doc: "An inline JSON Schema (kind json_schema)."),
        ParameterSpec("path", .string, optional: true, doc: "A file holding the schema or grammar, relative to the graph file."),
    ]

    /// The default of `max_new_tokens`: the DESIGN.md example's budget, long enough for a
    /// paragraph; the command line's `--max-tokens` overrides it.
    public static let defaultMaxNewTokens = 256

    /// Fields of `limits`.
    public static let limitFields: [ParameterSpec] = [
        ParameterSpec("max_new_tokens", .int, default: .int(defaultMaxNewTokens), range: .atLeast(1),
                      doc: "Stop after this many generated tokens."),
        ParameterSpec("stop", .list(.string), default: .list([]), nonEmpty: true,
                      doc: "Stop when the generated text contains one of these strings (the string is not emitted)."),
        ParameterSpec("stop_token_ids", .list(.int), default: .list([]), range: .atLeast(0),
                      doc: "Stop after emitting one of these token ids, besides the model's end-of-sequence token."),
        ParameterSpec("ignore_eos", .bool, default: .bool(false),
                      doc: "Keep generating past the end-of-sequence token (benchmarks with a fixed length)."),
    ]

    /// The type words of a subgraph's `params:` entries and what they mean.
    static let paramTypeWords: [(word: String, type: ParameterType)] = [
        ("int", .int), ("float", .float), ("bool", .bool), ("string", .string),
        ("model", .modelRef), ("store", .storeRef), ("constraint", .constraintRef), ("node", .nodeRef),
        ("list", .list(.string)),
    ]

    /// Fields of an entry of `params:` (a subgraph's parameters).
    public static let paramFields: [ParameterSpec] = [
        ParameterSpec("type", .enumeration(paramTypeWords.map(\.word)),
                      doc: "The value's type; model, store, constraint and node take a name from the using graph."),
        ParameterSpec("default", .document, optional: true, doc: "The value when the `use:` gives none; without it the parameter is required."),
        ParameterSpec("range", .list(.float), optional: true, doc: "[min, max], inclusive, for int and float."),
        ParameterSpec("values", .list(.string), optional: true, doc: "The allowed words, making a string an enumeration."),
        ParameterSpec("doc", .string, optional: true, doc: "What the parameter does."),
    ]
}
