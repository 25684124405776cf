import Foundation

/// Where scripts/fetch-model.sh and tools/llama/build.sh keep downloaded models and tools:
/// `$DECOGRAPH_CACHE`, else `~/.cache/decograph`. Nothing under it is committed; tests that need
/// a real model run only when its file is there.
public enum ModelCache {
    /// The cache directory.
    public static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["DECOGRAPH_CACHE"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/decograph")
    }

    /// SmolLM2-135M-Instruct quantized to Q4_1, as scripts/fetch-model.sh places it.
    public static var smolLM2: URL { root.appendingPathComponent("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") }

    /// Whether `url` names an existing regular file (a test's `.enabled(if:)` condition).
    public static func has(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
