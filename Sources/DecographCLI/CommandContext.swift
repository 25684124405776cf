#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a command writes: standard output and standard error, or buffers in tests.
public final class CommandContext: Sendable {
    /// Receives text written to one stream.
    public typealias Sink = @Sendable (String) -> Void
    let outSink: Sink
    let errSink: Sink
    /// Whether standard error is a terminal (progress is shown only then).
    public let stderrIsTerminal: Bool

    /// Creates a context.
    /// - Parameters:
    ///   - out: receives standard-output text.
    ///   - err: receives standard-error text.
    ///   - stderrIsTerminal: whether progress may be drawn on standard error.
    public init(out: @escaping Sink, err: @escaping Sink, stderrIsTerminal: Bool = false) {
        outSink = out
        errSink = err
        self.stderrIsTerminal = stderrIsTerminal
    }

    /// The process's real standard output and error.
    public static func standard() -> CommandContext {
        CommandContext(out: { writeAll($0, to: 1) }, err: { writeAll($0, to: 2) },
                       stderrIsTerminal: isatty(2) != 0)
    }

    /// Unbuffered write of the whole string to a file descriptor (streamed tokens appear at once).
    private static func writeAll(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 {
                    if n < 0, errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    /// Writes to standard output.
    /// - Parameter text: the text, newline included if wanted.
    public func write(_ text: String) { outSink(text) }
    /// Writes a line to standard output.
    /// - Parameter line: the line, without its newline.
    public func print(_ line: String = "") { outSink(line + "\n") }
    /// Writes a line to standard error.
    /// - Parameter line: the line, without its newline.
    public func printError(_ line: String) { errSink(line + "\n") }
    /// Shows progress on standard error when it is a terminal (the line is redrawn in place).
    /// - Parameter line: the progress line.
    public func progress(_ line: String) {
        if stderrIsTerminal { errSink("\r\u{1B}[K" + line) }
    }
    /// Ends a progress line started with `progress(_:)`.
    public func endProgress() {
        if stderrIsTerminal { errSink("\r\u{1B}[K") }
    }
}

/// A `CommandContext` that keeps what is written, for tests.
public final class CapturingOutput: Sendable {
    private let state = Mutex<(out: String, err: String)>(("", ""))
    /// Creates an empty capture.
    public init() {}
    /// The context that writes into this capture.
    public var context: CommandContext {
        CommandContext(out: { s in self.state.withLock { $0.out += s } },
                       err: { s in self.state.withLock { $0.err += s } })
    }
    /// Everything written to standard output.
    public var out: String { state.withLock { $0.out } }
    /// Everything written to standard error.
    public var err: String { state.withLock { $0.err } }
}
