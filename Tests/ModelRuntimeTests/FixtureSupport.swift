import Foundation
import Kernels
@testable import ModelRuntime

/// Paths and readers for the transformers fixtures in Tests/Fixtures/runtime
/// (written by tools/oracle/make_runtime_fixtures.py).
enum Fixtures {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures").path
    }()

    static let runtimeCases: [String] = {
        let dir = root + "/runtime"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: dir + "/" + $0 + "/config.json") }.sorted()
    }()

    /// One fixture sequence: its tokens and transformers' logits for every position.
    struct Sequence {
        let tokens: [Int32]
        let logits: [[Float]]
    }

    static func sequences(_ directory: String, file name: String = "expected.safetensors") throws -> [Sequence] {
        let file = try SafetensorsFile(path: directory + "/" + name)
        let count = Int(file.metadata["count"] ?? "0") ?? 0
        return try (0..<count).map { i in
            guard let t = file.tensors["tokens_\(i)"], let l = file.tensors["logits_\(i)"], t.dtypeName == "I32",
                  l.dtype == .f32, l.shape.count == 2 else {
                throw RuntimeError(.corruptWeights, "fixture \(directory) sequence \(i) malformed")
            }
            let tokens = Array(UnsafeBufferPointer(start: t.data.assumingMemoryBound(to: Int32.self), count: t.elementCount))
            let flat = UnsafeBufferPointer(start: l.data.assumingMemoryBound(to: Float.self), count: l.elementCount)
            let v = l.shape[1]
            return Sequence(tokens: tokens, logits: (0..<l.shape[0]).map { Array(flat[($0 * v)..<(($0 + 1) * v)]) })
        }
    }
}

/// The logits of `tokens[prefix...]` decoded one token per call, and the same tokens scored as one
/// chain (as a verifier does), each after the same prefix on a fresh sequence: speculative greedy
/// equals plain greedy exactly when the two are bitwise equal.
func decodedAndVerified(_ model: Model, tokens: [Int32], prefix: Int) throws -> (decoded: [[Float]], verified: [[Float]]) {
    let stepwise = model.makeSequence()
    _ = try model.forward([ForwardItem(sequence: stepwise, tokens: Array(tokens[0..<prefix]), outputs: .none)])
    var decoded: [[Float]] = []
    for t in tokens[prefix...] { decoded.append(Array(try model.forward([ForwardItem(sequence: stepwise, tokens: [t])])[0].row(0))) }
    let chained = model.makeSequence()
    _ = try model.forward([ForwardItem(sequence: chained, tokens: Array(tokens[0..<prefix]), outputs: .none)])
    let verified = try model.forward([ForwardItem(sequence: chained, tokens: Array(tokens[prefix...]))])[0]
    return (decoded, (0..<verified.rows).map { Array(verified.row($0)) })
}

/// Largest |a − b| relative to the row's scale, max(1, max |b|): the "1e-4 relative" criterion.
func relativeError<A: Collection, B: Collection>(_ a: A, _ b: B) -> Float where A.Element == Float, B.Element == Float {
    precondition(a.count == b.count)
    var worst: Float = 0, scale: Float = 1
    for (x, y) in zip(a, b) {
        worst = max(worst, abs(x - y))
        scale = max(scale, abs(y))
    }
    return worst / scale
}

/// Writes a safetensors file from (name, dtype name, shape, raw bytes) entries, optionally with
/// a hand-made header (to build damaged files in tests).
func writeSafetensors(_ path: String, _ tensors: [(String, String, [Int], [UInt8])], headerOverride: String? = nil,
                      lengthOverride: UInt64? = nil, truncateTo: Int? = nil) throws {
    var header = "{"
    var offset = 0
    var data: [UInt8] = []
    for (i, (name, dtype, shape, bytes)) in tensors.enumerated() {
        if i > 0 { header += "," }
        header += "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes.count)]}"
        offset += bytes.count
        data += bytes
    }
    header += "}"
    let headerBytes = Array((headerOverride ?? header).utf8)
    var file = withUnsafeBytes(of: (lengthOverride ?? UInt64(headerBytes.count)).littleEndian) { Array($0) }
    file += headerBytes + data
    if let n = truncateTo { file = Array(file.prefix(n)) }
    try Data(file).write(to: URL(fileURLWithPath: path))
}

func floatBytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "decograph-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
