import CMicroHTTPD
import Foundation
import Synchronization

/// One HTTP request as the server's handler sees it: the whole body has arrived (up to the size
/// limit).
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The path without the query string (`/v1/chat/completions`).
    public var path: String
    /// Header values by lower-cased name (only the headers the server reads).
    public var headers: [String: String]
    /// The body's bytes.
    public var body: [UInt8]
    /// Whether the body was longer than the limit (then `body` is empty and the handler answers 413).
    public var bodyTooLarge: Bool
}

/// What the handler answers: a whole body, or a stream written by another thread as it is produced.
public struct HTTPResponse: Sendable {
    /// The body.
    public enum Body: Sendable {
        /// Bytes sent at once with a `Content-Length`.
        case bytes([UInt8])
        /// Chunks sent as the producer writes them (chunked transfer encoding).
        case stream(ResponseStream)
    }

    /// The status code.
    public var status: Int
    /// Extra headers (`Content-Type` included).
    public var headers: [(String, String)]
    /// The body.
    public var body: Body

    /// A JSON body.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(Array(text.utf8)))
    }
}

/// The bytes of a streaming response between the thread that produces them (a generation) and the
/// connection's thread that sends them. The sender blocks until bytes arrive or the producer
/// finishes; when the client goes away the stream is marked cancelled, which the producer reads
/// before each step.
public final class ResponseStream: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var sentUpTo = 0
    private var finished = false
    private var cancelled = false

    /// Called once when the connection is done with the stream (sent, or the client left).
    private let onRelease: @Sendable () -> Void

    /// Creates an empty, open stream.
    /// - Parameter onRelease: called once when the connection is done with it.
    public init(onRelease: @escaping @Sendable () -> Void = {}) { self.onRelease = onRelease }

    /// Appends bytes for the client (ignored once the client is gone).
    public func write(_ bytes: some Collection<UInt8>) {
        condition.lock()
        if !cancelled {
            pending.append(contentsOf: bytes)
            condition.signal()
        }
        condition.unlock()
    }

    /// The producer is done: the response ends once the pending bytes are sent.
    public func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the client went away before the stream finished (the producer should stop).
    public var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Called when the connection is done with the stream: if the producer has not finished, the
    /// client left early.
    func release() {
        condition.lock()
        if !finished { cancelled = true }
        pending = []
        condition.broadcast()
        condition.unlock()
        onRelease()
    }

    /// Copies up to `capacity` pending bytes to `buffer`, waiting for some; 0 means the stream ended.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while sentUpTo == pending.count && !finished && !cancelled { condition.wait() }
        let count = min(buffer.count, pending.count - sentUpTo)
        if count == 0 { return 0 }
        pending.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + sentUpTo, byteCount: count)
        }
        sentUpTo += count
        // Sent bytes are dropped once they are a good share of the buffer, so a long stream holds
        // only what is still unsent.
        if sentUpTo > Self.compactionThreshold && sentUpTo * 2 > pending.count {
            pending.removeFirst(sentUpTo)
            sentUpTo = 0
        }
        return count
    }

    /// Sent bytes kept before the buffer is compacted.
    private static let compactionThreshold = 1 << 16
}

/// Answers requests; called on the connection's own thread, so it may block (a non-streaming
/// generation runs right there).
public protocol HTTPHandler: Sendable {
    /// The response to a request.
    func respond(to request: HTTPRequest) -> HTTPResponse
}

/// An HTTP/1.1 server over GNU libmicrohttpd: a listening thread, one thread per connection
/// (keep-alive, chunked streaming, timeouts and header parsing are the library's), and a handler.
public final class HTTPServer: @unchecked Sendable {
    /// Why the server could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Limits the library enforces per connection.
    public struct Limits: Sendable {
        /// Largest request body read; a longer one is answered 413 without being kept.
        public var maxBodyBytes: Int
        /// Most open connections; the library refuses more at accept.
        public var maxConnections: Int
        /// Seconds an idle connection (no request, or a stalled upload) stays open.
        public var idleTimeoutSeconds: Int

        /// Creates limits.
        public init(maxBodyBytes: Int = 4 << 20, maxConnections: Int = 512, idleTimeoutSeconds: Int = 60) {
            self.maxBodyBytes = maxBodyBytes
            self.maxConnections = maxConnections
            self.idleTimeoutSeconds = idleTimeoutSeconds
        }
    }

    /// The port it listens on.
    public let port: Int
    /// The host it is bound to.
    public let host: String

    private let daemon: OpaquePointer
    private let context: Unmanaged<Context>
    private let stopped = Mutex(false)

    /// What the C callbacks reach through their context pointer.
    final class Context: @unchecked Sendable {
        let handler: any HTTPHandler
        let limits: Limits
        init(handler: any HTTPHandler, limits: Limits) {
            self.handler = handler
            self.limits = limits
        }
    }

    /// A request's state across the library's calls (headers, then body pieces, then the answer).
    final class RequestState {
        var body: [UInt8] = []
        var tooLarge = false
    }

    /// Starts listening.
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 address to bind (`127.0.0.1`, `0.0.0.0`, `::1`).
    ///   - port: the port; 0 lets the system choose (read `port` afterwards).
    ///   - limits: body size, connection count, idle timeout.
    ///   - handler: answers requests.
    /// - Throws: `StartError` for an unparsable address or a port that cannot be bound.
    public init(host: String, port: Int, limits: Limits = Limits(), handler: any HTTPHandler) throws {
        guard (0...65_535).contains(port) else { throw StartError(description: "port \(port) is not in 0...65535") }
        let context = Unmanaged.passRetained(Context(handler: handler, limits: limits))
        // The library's per-connection memory holds headers and the read buffer; bodies go to our
        // own buffer piece by piece.
        let connectionMemory = 128 << 10
        var started: OpaquePointer?
        var flags = UInt32(MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_ITC.rawValue
                           | MHD_USE_POLL.rawValue)
        // Binds the daemon to a socket address of either family.
        func start<Address>(_ address: inout Address) -> OpaquePointer? {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    decograph_mhd_start(flags, $0, UInt32(limits.maxConnections), UInt32(limits.idleTimeoutSeconds), connectionMemory,
                                        accessHandler, context.toOpaque(), completedHandler)
                }
            }
        }
        var parsed = false
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            parsed = inet_pton(AF_INET6, host, &address.sin6_addr) == 1
            flags |= UInt32(MHD_USE_IPv6.rawValue)
            if parsed { started = start(&address) }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            parsed = inet_pton(AF_INET, host, &address.sin_addr) == 1
            if parsed { started = start(&address) }
        }
        guard parsed else {
            context.release()
            throw StartError(description: "'\(host)' is not an IPv4 or IPv6 address")
        }
        guard let started else {
            context.release()
            throw StartError(description: "cannot listen on \(host):\(port) (address in use, or not an address of this machine)")
        }
        daemon = started
        self.context = context
        self.host = host
        self.port = Int(decograph_mhd_port(started))
    }

    /// Stops accepting new connections; open ones (streams in flight, keep-alive) go on.
    public func stopAccepting() {
        stopped.withLock { done in
            guard !done else { return }
            let socket = MHD_quiesce_daemon(daemon)
            if socket >= 0 { close(socket) }
        }
    }

    /// Stops the server: closes every connection and joins its threads. Streams still open must be
    /// finished first (a connection thread waiting on one would be waited for).
    public func stop() {
        stopAccepting()
        MHD_stop_daemon(daemon)
        context.release()
    }
}

/// The library's access handler: called once with the headers, then with each piece of the body,
/// then once more with none left, when the answer is queued.
private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, connectionContext in
    guard let cls, let connection, let connectionContext, let uploadSize else { return .NO }
    let context = Unmanaged<HTTPServer.Context>.fromOpaque(cls).takeUnretainedValue()
    if connectionContext.pointee == nil {
        connectionContext.pointee = Unmanaged.passRetained(HTTPServer.RequestState()).toOpaque()
        return .YES
    }
    let state = Unmanaged<HTTPServer.RequestState>.fromOpaque(connectionContext.pointee!).takeUnretainedValue()
    if uploadSize.pointee > 0 {
        if !state.tooLarge, let uploadData {
            if state.body.count + uploadSize.pointee > context.limits.maxBodyBytes {
                state.tooLarge = true
                state.body = []
            } else {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: uploadSize.pointee) {
                    state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: uploadSize.pointee))
                }
            }
        }
        uploadSize.pointee = 0
        return .YES
    }
    var headers: [String: String] = [:]
    for name in ["Authorization", "Content-Type", "Accept"] {
        if let value = MHD_lookup_connection_value(connection, .HEADER_KIND, name) {
            headers[name.lowercased()] = String(cString: value)
        }
    }
    let request = HTTPRequest(method: method.map { String(cString: $0) } ?? "", path: url.map { String(cString: $0) } ?? "/",
                              headers: headers, body: state.body, bodyTooLarge: state.tooLarge)
    state.body = []
    let answer = context.handler.respond(to: request)
    let response: OpaquePointer?
    switch answer.body {
    case .bytes(let bytes):
        response = bytes.withUnsafeBytes { decograph_mhd_copied_response(bytes.count, $0.baseAddress) }
    case .stream(let stream):
        let retained = Unmanaged.passRetained(stream).toOpaque()
        response = MHD_create_response_from_callback(UInt64.max, 4096, streamReader, retained, streamReleased)
        if response == nil { streamReleased(retained) }
    }
    guard let response else { return .NO }
    for (name, value) in answer.headers { MHD_add_response_header(response, name, value) }
    let queued = MHD_queue_response(connection, UInt32(answer.status), response)
    MHD_destroy_response(response)
    return queued
}

/// A request's end (answered, failed or the client gone): its state is released.
private let completedHandler: MHD_RequestCompletedCallback = { _, _, connectionContext, _ in
    guard let connectionContext, let state = connectionContext.pointee else { return }
    Unmanaged<HTTPServer.RequestState>.fromOpaque(state).release()
    connectionContext.pointee = nil
}

/// Fills the library's send buffer from a stream, blocking until bytes arrive.
private let streamReader: MHD_ContentReaderCallback = { cls, _, buffer, capacity in
    guard let cls, let buffer else { return MHD_CONTENT_READER_END_WITH_ERROR }
    let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
    let count = stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
    return count == 0 ? MHD_CONTENT_READER_END_OF_STREAM : count
}

/// The library is done with a stream (sent, or the client went away).
private let streamReleased: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue()
    stream.release()
}
