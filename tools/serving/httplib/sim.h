/* What the two comparison servers (mhd_server.c, evhttp_server.c) share: the command line, the
 * request scan, the fixed bodies and the simulated generation, so the servers differ only in how
 * the HTTP library meets a blocking generation thread. compare.sh builds and measures them. */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>

/* Largest request body read; decograph's --max-body default (docs/serving.md, "Security"). */
#define SIM_MAX_BODY (4u << 20)
/* Most max_tokens a request may ask for, so a request bounds its own thread's lifetime. */
#define SIM_MAX_TOKENS 4096
/* max_tokens when the request gives none (OpenAI's completions default). */
#define SIM_DEFAULT_TOKENS 16
/* Idle connection timeout, seconds: decograph's (docs/serving.md, "Security"). */
#define SIM_IDLE_TIMEOUT 60
/* Most open connections: decograph's limit. */
#define SIM_MAX_CONNECTIONS 512

extern const char SIM_HEALTH[];
extern const char SIM_MODELS[];

/* The command line: --port N (default 8090) and --step-ms N (the simulated decode step, default 20). */
struct sim_options {
    int port;
    int step_ms;
};
/* Parses argv, or prints the usage and exits 64. */
struct sim_options sim_parse_options(int argc, char **argv, const char *name);

/* What a completion request asked for. */
struct sim_request {
    int max_tokens;
    int step_ms;
    unsigned long id; /* the response's "cmpl-sim-ID" */
};
/* Reads a NUL-terminated request body: max_tokens (a tiny scan, not a JSON parser: the load
 * generator's bodies are well formed) and "stream":true. Returns NULL, or the JSON error body that
 * refuses the request (answered 400). */
const char *sim_scan_request(const char *body, struct sim_request *request);

/* Bytes a generation has written and its connection has not sent yet. */
struct sim_bytes {
    char *bytes;
    size_t count, capacity;
};
/* Appends, doubling the buffer as needed; returns nonzero (appending nothing) when memory runs out. */
int sim_bytes_append(struct sim_bytes *buffer, const char *bytes, size_t count);

/* Called with each event's bytes; returns nonzero when the client has gone (the generation stops). */
typedef int (*sim_emit)(void *context, const char *bytes, size_t count);
/* The generation: max_tokens times, sleep one step and emit an OpenAI completions chunk; then the
 * usage chunk and "data: [DONE]". Blocks the calling thread for max_tokens steps, as a decode loop does. */
void sim_generate(const struct sim_request *request, sim_emit emit, void *context);

#endif
