// libcurl (Debian: libcurl4-openssl-dev), the HTTP client of `bench serve` and the server's tests.
// curl_easy_setopt is variadic, which Swift cannot call: one typed wrapper per argument kind.
#include <curl/curl.h>

static inline CURLcode decograph_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode decograph_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*decograph_curl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode decograph_curl_set_write(CURL *handle, decograph_curl_write_callback callback, void *context) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_WRITEDATA, context);
}
static inline CURLcode decograph_curl_set_header(CURL *handle, decograph_curl_write_callback callback, void *context) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_HEADERDATA, context);
}
static inline int decograph_curl_status(CURL *handle) {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    return (int) status;
}
