// swift-tools-version: 6.2
// decograph — a declarative decoding-graph engine. Layers follow docs/ARCHITECTURE.md:
// a module imports only modules listed before it here.
import PackageDescription

/// Kernels' C helpers are compiled optimised even in debug builds: the test suite runs models
/// through them, and -O0 intrinsics are 20–50× slower.
let optimisedC: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

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
        // Our own SIMD intrinsics that Swift cannot express (AVX-512 BF16/F16 conversions),
        // selected at run time by CPU feature.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: optimisedC),

        // Small shared helpers with no dependencies (did-you-mean suggestions).
        .target(name: "Support"),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"]),
        // tokenizer.json: BPE, normalizers, pre-tokenizers, decoders, streaming detokenizer.
        .target(name: "Tokenization", dependencies: ["Support"]),
        .target(name: "ModelRuntime", dependencies: ["Kernels"]),
        // The graph language's compiler: YAML → located AST → checked graph → plan.
        .target(name: "Graph", dependencies: ["CYAML", "Support"]),
        // The node library: token trees, logits processors, verifiers, drafters, search, and each
        // op's spec and step behaviour over the runtime and the tokenizer.
        .target(name: "Operators", dependencies: ["Support", "Graph", "ModelRuntime", "Tokenization"]),
        // Sessions, the step loop on Dispatch, batched model calls, metrics and traces.
        .target(name: "Engine", dependencies: ["Graph", "Operators", "ModelRuntime", "Tokenization", "Kernels"]),
        .target(name: "DecographCLI", dependencies: ["Support", "Tokenization", "Graph", "ModelRuntime", "Kernels", "Operators", "Engine"]),
        .executableTarget(name: "decograph", dependencies: ["DecographCLI"]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        // Fixtures are read in place from Tests/Fixtures (found through #filePath), not copied.
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime", "Kernels"]),
        .testTarget(name: "DecographCLITests", dependencies: ["DecographCLI"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph"]),
        .testTarget(name: "OperatorsTests", dependencies: ["Operators", "ModelRuntime", "Kernels"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Operators", "Graph", "ModelRuntime", "Kernels", "DecographCLI"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"]),
    ]
)
