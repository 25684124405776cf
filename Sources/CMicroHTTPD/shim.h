// GNU libmicrohttpd (Debian: libmicrohttpd-dev), the HTTP/1.1 server under `decograph serve`.
// MHD_start_daemon and MHD_get_daemon_info are variadic, which Swift cannot call, so the two
// calls the server makes are spelled here once, with every option they pass.
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>

/// Starts a daemon: one thread per connection (a streaming response's reader may block until the
/// next chunk), an internal listening thread with an inter-thread channel (needed to quiesce),
/// bound to `address`.
static inline struct MHD_Daemon *decograph_mhd_start(unsigned int flags, const struct sockaddr *address,
                                                     unsigned int connection_limit, unsigned int timeout_seconds,
                                                     size_t connection_memory,
                                                     MHD_AccessHandlerCallback handler, void *handler_context,
                                                     MHD_RequestCompletedCallback completed) {
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                            MHD_OPTION_SOCK_ADDR, address,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, handler_context,
                            MHD_OPTION_END);
}

/// The port the daemon listens on (the one the system chose when asked for port 0).
static inline uint16_t decograph_mhd_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// A response holding its own copy of `size` bytes.
static inline struct MHD_Response *decograph_mhd_copied_response(size_t size, const void *bytes) {
    return MHD_create_response_from_buffer(size, (void *) bytes, MHD_RESPMEM_MUST_COPY);
}
