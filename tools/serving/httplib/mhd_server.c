/* The simulated server over GNU libmicrohttpd, used as decograph's server uses it
 * (Sources/Serving/HTTP/HTTPServer.swift): a thread per connection, and a stream's content-reader
 * callback blocking on the connection's thread until the generation thread has written bytes. */
#include "sim.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* decograph's per-connection library memory (headers and read buffer). */
#define CONNECTION_MEMORY (128u << 10)
/* Bytes the library asks the reader for at a time: decograph's. */
#define READ_BLOCK 4096

static struct sim_options options;

/* Bytes between a generation thread and the connection thread; freed when both have let go
 * (`references`, atomic; the rest is under `lock`). */
struct stream {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct sim_bytes pending;
    size_t sent; /* bytes of `pending` the library has taken */
    int finished, cancelled, references;
    struct sim_request request;
};

static void stream_release(struct stream *s) {
    if (__atomic_sub_fetch(&s->references, 1, __ATOMIC_ACQ_REL) > 0) return;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    free(s->pending.bytes);
    free(s);
}

/* The generation's output: appended unless the client has gone. */
static int stream_write(void *context, const char *bytes, size_t count) {
    struct stream *s = context;
    pthread_mutex_lock(&s->lock);
    int gone = s->cancelled || sim_bytes_append(&s->pending, bytes, count) != 0;
    if (!gone) pthread_cond_signal(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return gone;
}

static void *generation(void *context) {
    struct stream *s = context;
    sim_generate(&s->request, stream_write, s);
    pthread_mutex_lock(&s->lock);
    s->finished = 1;
    pthread_cond_signal(&s->changed);
    pthread_mutex_unlock(&s->lock);
    stream_release(s);
    return NULL;
}

/* The library wants bytes: wait for some (this blocks the connection's own thread only). */
static ssize_t stream_read(void *context, uint64_t position, char *buffer, size_t capacity) {
    (void) position;
    struct stream *s = context;
    pthread_mutex_lock(&s->lock);
    while (s->sent == s->pending.count && !s->finished && !s->cancelled) pthread_cond_wait(&s->changed, &s->lock);
    size_t n = s->pending.count - s->sent < capacity ? s->pending.count - s->sent : capacity;
    memcpy(buffer, s->pending.bytes + s->sent, n);
    s->sent += n;
    if (s->sent == s->pending.count) s->sent = s->pending.count = 0; /* all sent: the buffer starts over */
    pthread_mutex_unlock(&s->lock);
    return n > 0 ? (ssize_t) n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* The library is done with the stream: sent, or the client left (then the generation stops). */
static void stream_free(void *context) {
    struct stream *s = context;
    pthread_mutex_lock(&s->lock);
    if (!s->finished) s->cancelled = 1;
    pthread_mutex_unlock(&s->lock);
    stream_release(s);
}

/* A request's body, gathered across calls of the access handler (NUL-terminated once whole). */
struct body {
    size_t count;
    int too_large;
    char *bytes;
};

static enum MHD_Result answer(struct MHD_Connection *connection, unsigned status, const char *json) {
    struct MHD_Response *response = MHD_create_response_from_buffer(strlen(json), (void *) json, MHD_RESPMEM_PERSISTENT);
    if (response == NULL) return MHD_NO;
    MHD_add_response_header(response, "Content-Type", "application/json");
    enum MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

static enum MHD_Result stream_answer(struct MHD_Connection *connection, const char *body) {
    struct sim_request request;
    const char *refused = sim_scan_request(body, &request);
    if (refused != NULL) return answer(connection, 400, refused);
    request.step_ms = options.step_ms;
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL) return MHD_NO;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    s->request = request;
    s->references = 2; /* the generation thread and the library */
    struct MHD_Response *response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READ_BLOCK, stream_read, s, stream_free);
    if (response == NULL) {
        s->references = 1;
        stream_release(s);
        return MHD_NO;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, generation, s) != 0) {
        s->references = 1;
        s->finished = 1; /* nothing will come: the reader ends the (empty) response */
    } else {
        pthread_detach(thread);
    }
    MHD_add_response_header(response, "Content-Type", "text/event-stream");
    MHD_add_response_header(response, "Cache-Control", "no-cache");
    enum MHD_Result queued = MHD_queue_response(connection, 200, response);
    MHD_destroy_response(response); /* the library holds it until sent; then stream_free */
    return queued;
}

/* Called with the headers, then with each piece of the body, then once with none left. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state) {
    (void) cls;
    (void) version;
    if (*state == NULL) {
        struct body *body = calloc(1, sizeof *body);
        if (body == NULL) return MHD_NO;
        *state = body;
        return MHD_YES;
    }
    struct body *body = *state;
    if (*upload_size > 0) {
        char *grown = body->count + *upload_size > SIM_MAX_BODY ? NULL : realloc(body->bytes, body->count + *upload_size + 1);
        if (grown == NULL) {
            body->too_large = 1;
        } else {
            body->bytes = grown;
            memcpy(body->bytes + body->count, upload, *upload_size);
            body->count += *upload_size;
            body->bytes[body->count] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/health") == 0 && get) return answer(connection, 200, SIM_HEALTH);
    if (strcmp(url, "/v1/models") == 0 && get) return answer(connection, 200, SIM_MODELS);
    if (strcmp(url, "/v1/completions") == 0 && post) {
        if (body->too_large) return answer(connection, 413, "{\"error\":{\"message\":\"body too large\"}}");
        return stream_answer(connection, body->bytes != NULL ? body->bytes : "");
    }
    return answer(connection, 404, "{\"error\":{\"message\":\"not found\"}}");
}

/* The request is over (answered, failed or the client gone): its body buffer goes. */
static void completed(void *cls, struct MHD_Connection *connection, void **state, enum MHD_RequestTerminationCode code) {
    (void) cls;
    (void) connection;
    (void) code;
    struct body *body = *state;
    if (body == NULL) return;
    free(body->bytes);
    free(body);
    *state = NULL;
}

int main(int argc, char **argv) {
    options = sim_parse_options(argc, argv, "mhd_server");
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM and SIGINT are taken by sigwait below, so every thread the library starts blocks them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* Loopback only, as decograph binds by default and as the evhttp server does. */
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t) options.port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_POLL, (uint16_t) options.port,
        NULL, NULL, handle, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &address,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) SIM_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) SIM_IDLE_TIMEOUT,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "mhd_server: cannot listen on port %d\n", options.port);
        return 1;
    }
    fprintf(stderr, "mhd_server: port %d, step %d ms\n", options.port, options.step_ms);
    int signal_number;
    sigwait(&stop, &signal_number);
    /* Closes every connection (a reader waiting on a generation is waited for) and joins the threads. */
    MHD_stop_daemon(daemon);
    return 0;
}
