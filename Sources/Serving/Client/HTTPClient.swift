import CCurl
import Foundation

/// A blocking HTTP/1.1 client over libcurl, for `bench serve`'s load generator and the server's
/// tests: one request per call, the body handed to a callback as it arrives (a stream's events),
/// which may hang up early (a client that goes away).
public enum HTTPClient {
    /// What came back.
    public struct Response: Sendable {
        /// The HTTP status (0 when the connection failed).
        public var status: Int
        /// The body (what the callback kept: all of it unless told otherwise).
        public var body: [UInt8]
        /// Why the transfer failed, when it did (refused connection, timeout, hang-up by us).
        public var failure: String?
        /// The `Retry-After` header, when the server sent one.
        public var retryAfter: String?

        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// Sends one request.
    /// - Parameters:
    ///   - url: the address (`http://127.0.0.1:8080/v1/completions`).
    ///   - method: `GET` or `POST`.
    ///   - body: the POST body.
    ///   - headers: extra headers (`Authorization: Bearer …`).
    ///   - timeoutSeconds: the whole transfer's limit.
    ///   - onData: each piece of the body as it arrives; return `false` to hang up.
    /// - Returns: the status and body.
    public static func send(_ url: String, method: String = "GET", body: [UInt8]? = nil, headers: [String] = [],
                            timeoutSeconds: Int = 600, onData: (([UInt8]) -> Bool)? = nil) -> Response {
        guard initialised, let handle = curl_easy_init() else { return Response(status: 0, body: [], failure: "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        final class Sink {
            var body: [UInt8] = []
            var headerLines: [String] = []
            var onData: (([UInt8]) -> Bool)?
        }
        let sink = Sink()
        sink.onData = onData
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers + (body != nil ? ["Content-Type: application/json"] : []) { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        let code: CURLcode = url.withCString { urlText in
            decograph_curl_set_pointer(handle, CURLOPT_URL, urlText)
            decograph_curl_set_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
            decograph_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            decograph_curl_set_pointer(handle, CURLOPT_HTTPHEADER, list)
            let context = Unmanaged.passUnretained(sink).toOpaque()
            decograph_curl_set_write(handle, { data, size, count, context in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size * count))
                if let onData = sink.onData {
                    if !onData(bytes) { return 0 }
                } else {
                    sink.body += bytes
                }
                return size * count
            }, context)
            decograph_curl_set_header(handle, { data, size, count, context in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                sink.headerLines.append(String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self))
                return size * count
            }, context)
            if method != "GET" && method != "POST" { decograph_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, method) }
            guard let body else { return curl_easy_perform(handle) }
            return body.withUnsafeBytes { bytes in
                decograph_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
                decograph_curl_set_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                return curl_easy_perform(handle)
            }
        }
        let retryAfter = sink.headerLines.first { $0.lowercased().hasPrefix("retry-after:") }
            .map { String($0.dropFirst("retry-after:".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
        let failure = code == CURLE_OK ? nil : String(cString: curl_easy_strerror(code))
        return Response(status: Int(decograph_curl_status(handle)), body: sink.body, failure: failure, retryAfter: retryAfter)
    }
}
