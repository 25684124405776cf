// swift-tools-version: 6.2
// decograph — a declarative decoding-graph engine. Layers follow docs/ARCHITECTURE.md:
// a module imports only modules listed before it here.
import PackageDescription

/// Kernels' C helpers are compiled optimised even in debug builds: the test suite runs models
/// through them, and -O0 intrinsics are 20–50× slower.
let optimisedC: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]
/// The same for the Swift modules with the numeric and automaton hot loops (the forward pass,
/// constraint masks): the tests decode hundreds of sequences with the demo models through them.
let optimisedSwift: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "decograph",
    products: [
        .executable(name: "decograph", targets: ["decograph"]),
    ],
    targets: [
        // C libraries of the system (pkg-config names as Debian ships them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CLMDB", path: "Sources/CLMDB", pkgConfig: "lmdb",
                       providers: [.apt(["liblmdb-dev"])]),
        // GNU libmicrohttpd: the HTTP/1.1 server under `decograph serve` (docs/serving.md says why this one).
        .systemLibrary(name: "CMicroHTTPD", path: "Sources/CMicroHTTPD", pkgConfig: "libmicrohttpd",
                       providers: [.apt(["libmicrohttpd-dev"])]),
        // libcurl: the HTTP client of `bench serve`'s load generator and the server's tests.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        // Our own SIMD intrinsics that Swift cannot express (AVX-512 BF16/F16 conversions),
        // selected at run time by CPU feature.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: optimisedC),

        // Small shared helpers with no dependencies (did-you-mean suggestions, SplitMix64).
        .target(name: "Support"),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"], swiftSettings: optimisedSwift),
        // tokenizer.json: BPE, normalizers, pre-tokenizers, decoders, streaming detokenizer.
        .target(name: "Tokenization", dependencies: ["Support"]),
        // Hugging Face chat templates: a sandboxed Jinja2 subset rendering messages as transformers does.
        .target(name: "ChatTemplates", dependencies: ["Support", "Tokenization"]),
        .target(name: "ModelRuntime", dependencies: ["Kernels", "Support"], swiftSettings: optimisedSwift),
        // Constrained generation: regex, JSON Schema and grammars as token masks.
        .target(name: "Constraints", dependencies: ["Support"], swiftSettings: optimisedSwift),
        // LMDB n-gram → continuation statistics: build, merge, query, learn, draft (docs/ngram-store.md).
        .target(name: "NGramStore", dependencies: ["CLMDB", "Support"]),
        // The graph language's compiler: YAML → located AST → checked graph → plan.
        .target(name: "Graph", dependencies: ["CYAML", "Support"]),
        // The op library: one file per op (spec + step behaviour) over the decoding algorithms.
        .target(name: "Operators", dependencies: ["Support", "Graph", "Kernels", "ModelRuntime", "Tokenization", "Constraints", "NGramStore"]),
        // Sessions, the step loop, Dispatch scheduling, batching model calls, metrics, traces.
        .target(name: "Engine", dependencies: ["Graph", "Operators", "ModelRuntime", "Tokenization", "ChatTemplates", "Kernels", "Constraints", "NGramStore",
                                               "Support"]),
        // `decograph serve`: an OpenAI-compatible HTTP API over the engine's graphs, and its load generator.
        .target(name: "Serving", dependencies: ["CMicroHTTPD", "CCurl", "Support", "Graph", "ChatTemplates", "Engine"]),
        .target(name: "DecographCLI", dependencies: ["Serving", "Support", "Kernels", "Tokenization", "ChatTemplates", "ModelRuntime", "Constraints",
                                                     "NGramStore", "Graph", "Operators", "Engine"]),
        .executableTarget(name: "decograph", dependencies: ["DecographCLI"]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        // Engine for `TokenizerLoader`: the GGUF tokenizer tests read their fixtures through it.
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "Support", "Engine"]),
        // Renders the oracle fixtures in Tests/Fixtures/chat-templates (read in place through #filePath).
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "Tokenization"]),
        // Fixtures are read in place from Tests/Fixtures (found through #filePath), not copied.
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime", "Kernels", "Support"]),
        .testTarget(name: "ConstraintsTests", dependencies: ["Constraints", "Support"]),
        // A child process for the store's durability tests (killed with SIGKILL mid-write).
        .executableTarget(name: "NGramStoreTestHelper", dependencies: ["NGramStore"],
                          path: "Tests/NGramStoreTestHelper"),
        .testTarget(name: "NGramStoreTests", dependencies: ["NGramStore", "NGramStoreTestHelper"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph"]),
        .testTarget(name: "OperatorsTests", dependencies: ["Operators", "Support", "ModelRuntime", "Kernels", "Constraints", "NGramStore"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Operators", "Graph", "ModelRuntime", "Kernels", "DecographCLI",
                                                    "Constraints", "NGramStore"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Engine", "Graph", "NGramStore", "Kernels", "Operators"]),
        .testTarget(name: "DecographCLITests", dependencies: ["DecographCLI", "Tokenization"]),
    ]
)
