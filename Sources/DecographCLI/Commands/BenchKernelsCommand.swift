import Foundation
import Kernels

extension CommandSpec {
    /// `decograph bench kernels`: the matrix kernel's streaming rate against the bandwidth probe.
    static let benchKernels = CommandSpec(
        "kernels", abstract: "Matrix-kernel weight streaming rate for M = 1…32 rows, as a fraction of the probed bandwidth.",
        discussion: """
            Multiplies M activation rows by a weight matrix as large as a 1.1B model's MLP stack \
            (bf16 unless --dtype), alternating each pass with a bandwidth-probe pass over a buffer \
            of the same size, and prints the ratio of medians: the fraction of the memory-bandwidth \
            bound the kernel reaches, and its cost relative to M = 1.
            """,
        options: [
            .value("dtype", "TYPE", help: "Weight precision: bf16 (default), f16, f32, or a block-quantized type: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k (GB/s then counts the packed bytes)."),
            .value("activations", "TYPE", help: "What products with bf16 weights read: auto (default: bf16 for bf16 weights on a CPU with AVX-512 BF16, else f32), f32 or bf16 (rounded)."),
            .value("threads", "N", help: "Threads (default: all cores)."),
            .value("megabytes", "N", help: "Weight matrix size in MB (default 512)."),
            .value("repeats", "N", help: "Interleaved repetitions (default 5)."),
            .value("columns", "K", help: "Input features K of the matrix (default 2048, the 1.1B hidden size)."),
            .flag("json", help: "Print one JSON object."),
        ],
        body: { args, context in
            let threads = try args.int("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
            let megabytes = try args.int("megabytes", in: 1...8192) ?? 512
            let repeats = try args.int("repeats", in: 1...100) ?? 5
            let dtypeName = args.value("dtype") ?? "bf16"
            guard let dtype = DType(name: dtypeName) else {
                throw UsageError("Unknown dtype '\(dtypeName)' for '--dtype' (expected one of \(DType.allCases.map(\.description).joined(separator: ", "))).")
            }
            let activations = try (args.choice("activations", as: ActivationPrecision.self) ?? .auto).resolved(for: dtype)
            let pool = ComputePool(threadCount: threads)
            let K = try args.int("columns", in: 16...65536) ?? 2048
            guard K % dtype.blockElements == 0 else {
                throw UsageError("The value '\(K)' is invalid for '--columns' with --dtype \(dtype): rows must be whole blocks of \(dtype.blockElements) values.")
            }
            let report = MatMulBenchmark.run(dtype: dtype, activations: activations, pool: pool, megabytes: megabytes, columns: K,
                                             repeats: repeats) { context.progress($0) }
            context.endProgress()
            let bandwidth = report.probeBytesPerSecond
            if args.flag("json") {
                let rows = report.rows.map {
                    "{\"rows\":\($0.rows),\"bytes_per_s\":\($0.bytesPerSecond),\"fraction_of_probe\":\($0.fractionOfProbe),\"cost_vs_1\":\($0.costVersusOne)}"
                }
                context.print("{\"dtype\":\"\(dtype)\",\"activations\":\"\(activations)\",\"threads\":\(threads),\"isa\":\"\(InstructionSet.detected)\",\"probe_bytes_per_s\":\(bandwidth),\"matrix_bytes\":\(report.matrixBytes),\"rows\":[\(rows.joined(separator: ","))],\"checksum\":\(report.checksum & 1)}")
            } else {
                context.print(String(format: "%@ weights %d×%d (%.0f MB), %@ activations, %d thread(s), kernels %@; probe %.1f GB/s (median, interleaved)",
                                     dtype.description, report.outputFeatures, K, Double(report.matrixBytes) / 1e6, activations.description, threads,
                                     InstructionSet.detected.description, bandwidth / 1e9))
                for r in report.rows {
                    context.print(String(format: "M=%2d: %6.1f GB/s = %5.1f %% of probe; cost vs M=1: %.2f×", r.rows, r.bytesPerSecond / 1e9,
                                         r.fractionOfProbe * 100, r.costVersusOne))
                }
            }
            return 0
        })
}
