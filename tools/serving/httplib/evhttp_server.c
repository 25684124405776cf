/* The simulated server over libevent 2.1's evhttp: every connection on one event-loop thread, each
 * generation on its own thread (as decograph's are); a generation hands its bytes back to the loop
 * with event_active (libevent's pthreads locking makes that safe from another thread), and the
 * loop sends them as a chunk of the reply. */
#include "sim.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sim_options options;
static struct event_base *base;

/* Bytes between a generation thread and the loop; freed when both have let go (`references`,
 * atomic). `request` and `wake` belong to the loop thread; the rest is under `lock`. */
struct stream {
    pthread_mutex_t lock;
    struct sim_bytes pending;
    int finished, cancelled, woken, references;
    struct evhttp_request *request;
    struct event *wake;
    struct sim_request generation;
};

static void stream_release(struct stream *s) {
    if (__atomic_sub_fetch(&s->references, 1, __ATOMIC_ACQ_REL) > 0) return;
    pthread_mutex_destroy(&s->lock);
    free(s->pending.bytes);
    free(s);
}

/* Wakes the loop for this stream once per batch of bytes (called under `lock`). */
static void stream_wake(struct stream *s) {
    if (!s->woken) {
        s->woken = 1;
        event_active(s->wake, 0, 0);
    }
}

/* The generation's output: appended and the loop woken, unless the client has gone. */
static int stream_write(void *context, const char *bytes, size_t count) {
    struct stream *s = context;
    pthread_mutex_lock(&s->lock);
    int gone = s->cancelled || sim_bytes_append(&s->pending, bytes, count) != 0;
    if (!gone) stream_wake(s);
    pthread_mutex_unlock(&s->lock);
    return gone;
}

static void *generate(void *context) {
    struct stream *s = context;
    sim_generate(&s->generation, stream_write, s);
    pthread_mutex_lock(&s->lock);
    s->finished = 1;
    if (!s->cancelled) stream_wake(s);
    pthread_mutex_unlock(&s->lock);
    stream_release(s);
    return NULL;
}

/* The loop's side is over: the wake event goes and the loop lets go of the stream. */
static void stream_detach(struct stream *s) {
    event_free(s->wake);
    s->request = NULL;
    stream_release(s);
}

/* On the loop: send what the generation wrote as one chunk; end the reply once it has finished. */
static void stream_flush(evutil_socket_t fd, short what, void *context) {
    (void) fd;
    (void) what;
    struct stream *s = context;
    struct evbuffer *chunk = evbuffer_new();
    pthread_mutex_lock(&s->lock);
    if (chunk != NULL) evbuffer_add(chunk, s->pending.bytes, s->pending.count);
    s->pending.count = 0;
    s->woken = 0;
    int finished = s->finished;
    pthread_mutex_unlock(&s->lock);
    if (chunk != NULL) {
        evhttp_send_reply_chunk(s->request, chunk);
        evbuffer_free(chunk);
    }
    if (finished) {
        /* The connection may stay open for the next request: it must not call back into this stream. */
        evhttp_connection_set_closecb(evhttp_request_get_connection(s->request), NULL, NULL);
        evhttp_send_reply_end(s->request);
        stream_detach(s);
    }
}

/* On the loop: the connection is going away mid-stream; the generation stops at its next step.
 * When the client left (EOF, error or timeout) libevent has detached the unfinished request from
 * the connection and leaves it to us: ending it frees it. Still attached (evhttp_free at
 * shutdown), the connection frees it. */
static void stream_closed(struct evhttp_connection *connection, void *context) {
    (void) connection;
    struct stream *s = context;
    pthread_mutex_lock(&s->lock);
    s->cancelled = 1;
    pthread_mutex_unlock(&s->lock);
    if (evhttp_request_get_connection(s->request) == NULL) evhttp_send_reply_end(s->request);
    stream_detach(s); /* event_free also drops a wake still pending */
}

static void answer(struct evhttp_request *request, int status, const char *json) {
    struct evbuffer *body = evbuffer_new();
    if (body == NULL) {
        evhttp_send_error(request, 500, NULL);
        return;
    }
    evbuffer_add(body, json, strlen(json));
    evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", "application/json");
    evhttp_send_reply(request, status, status == 200 ? "OK" : "Error", body);
    evbuffer_free(body);
}

static void stream_answer(struct evhttp_request *request) {
    struct evbuffer *input = evhttp_request_get_input_buffer(request);
    size_t length = evbuffer_get_length(input);
    char *body = malloc(length + 1);
    if (body == NULL) {
        evhttp_send_error(request, 500, NULL);
        return;
    }
    evbuffer_copyout(input, body, length);
    body[length] = '\0';
    struct sim_request generation;
    const char *refused = sim_scan_request(body, &generation);
    free(body);
    if (refused != NULL) {
        answer(request, 400, refused);
        return;
    }
    generation.step_ms = options.step_ms;
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        evhttp_send_error(request, 500, NULL);
        return;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->generation = generation;
    s->request = request;
    s->references = 2; /* the generation thread and the loop */
    s->wake = event_new(base, -1, 0, stream_flush, s);
    if (s->wake == NULL) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        evhttp_send_error(request, 500, NULL);
        return;
    }
    struct evkeyvalq *headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", "text/event-stream");
    evhttp_add_header(headers, "Cache-Control", "no-cache");
    evhttp_send_reply_start(request, 200, "OK");
    evhttp_connection_set_closecb(evhttp_request_get_connection(request), stream_closed, s);
    pthread_t thread;
    if (pthread_create(&thread, NULL, generate, s) != 0) {
        s->references = 1;
        s->finished = 1; /* nothing will come: the loop ends the (empty) reply */
        event_active(s->wake, 0, 0);
    } else {
        pthread_detach(thread);
    }
}

static void handle(struct evhttp_request *request, void *context) {
    (void) context;
    /* The path without the query, as libmicrohttpd gives it. */
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(request));
    const char *uri = path != NULL ? path : "";
    enum evhttp_cmd_type method = evhttp_request_get_command(request);
    if (strcmp(uri, "/health") == 0 && method == EVHTTP_REQ_GET) {
        answer(request, 200, SIM_HEALTH);
    } else if (strcmp(uri, "/v1/models") == 0 && method == EVHTTP_REQ_GET) {
        answer(request, 200, SIM_MODELS);
    } else if (strcmp(uri, "/v1/completions") == 0 && method == EVHTTP_REQ_POST) {
        stream_answer(request);
    } else {
        answer(request, 404, "{\"error\":{\"message\":\"not found\"}}");
    }
}

/* SIGTERM or SIGINT: the loop stops, then main frees the server. */
static void stop(evutil_socket_t signal_number, short what, void *context) {
    (void) signal_number;
    (void) what;
    (void) context;
    event_base_loopexit(base, NULL);
}

int main(int argc, char **argv) {
    options = sim_parse_options(argc, argv, "evhttp_server");
    signal(SIGPIPE, SIG_IGN);
    /* Before the base exists: its locks are what make event_active safe from generation threads. */
    if (evthread_use_pthreads() != 0 || (base = event_base_new()) == NULL) {
        fprintf(stderr, "evhttp_server: cannot start libevent\n");
        return 1;
    }
    struct evhttp *http = evhttp_new(base);
    if (http == NULL || evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t) options.port) != 0) {
        fprintf(stderr, "evhttp_server: cannot listen on port %d\n", options.port);
        return 1;
    }
    evhttp_set_timeout(http, SIM_IDLE_TIMEOUT);
    evhttp_set_max_body_size(http, SIM_MAX_BODY);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    /* libevent 2.1 has no connection limit (evhttp_set_max_connections is 2.2's); the load stays under 512. */
    evhttp_set_gencb(http, handle, NULL);
    fprintf(stderr, "evhttp_server: port %d, step %d ms\n", options.port, options.step_ms);
    struct event *terminate = evsignal_new(base, SIGTERM, stop, NULL), *interrupt = evsignal_new(base, SIGINT, stop, NULL);
    if (terminate == NULL || interrupt == NULL || event_add(terminate, NULL) != 0 || event_add(interrupt, NULL) != 0) {
        fprintf(stderr, "evhttp_server: cannot watch signals\n");
        return 1;
    }
    event_base_dispatch(base);
    event_free(terminate);
    event_free(interrupt);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
