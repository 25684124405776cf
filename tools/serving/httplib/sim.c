/* The simulated server's behaviour, shared by both HTTP libraries' servers (sim.h). */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char SIM_HEALTH[] = "{\"status\":\"ok\"}";
const char SIM_MODELS[] = "{\"object\":\"list\",\"data\":[{\"id\":\"sim\",\"object\":\"model\",\"owned_by\":\"decograph\"}]}";

/* A whole-number option value in [low, high], or the usage. */
static int option_value(const char *text, int low, int high, const char *name) {
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < low || value > high) {
        fprintf(stderr, "Error: '%s' takes a whole number in %d...%d.\n", name, low, high);
        exit(64);
    }
    return (int) value;
}

struct sim_options sim_parse_options(int argc, char **argv, const char *name) {
    struct sim_options options = {8090, 20};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            options.port = option_value(argv[++i], 1, 65535, "--port");
        } else if (strcmp(argv[i], "--step-ms") == 0 && i + 1 < argc) {
            options.step_ms = option_value(argv[++i], 0, 60000, "--step-ms");
        } else {
            fprintf(stderr, "Error: unknown argument '%s'.\nUsage: %s [--port N] [--step-ms N]\n", argv[i], name);
            exit(64);
        }
    }
    return options;
}

/* The value after `"key"` and its colon, or NULL. A key's quotes cannot occur unescaped inside a
 * JSON string, so the first match is a member name (of the top level or a nested object). */
static const char *member(const char *body, const char *key) {
    const char *at = strstr(body, key);
    if (at == NULL) return NULL;
    at += strlen(key);
    while (*at == ' ' || *at == '\t' || *at == '\r' || *at == '\n') at++;
    if (*at++ != ':') return NULL;
    while (*at == ' ' || *at == '\t' || *at == '\r' || *at == '\n') at++;
    return at;
}

const char *sim_scan_request(const char *body, struct sim_request *request) {
    static unsigned long next_id;
    const char *stream = member(body, "\"stream\"");
    if (stream == NULL || strncmp(stream, "true", 4) != 0)
        return "{\"error\":{\"message\":\"only streaming requests are simulated: send stream: true\",\"type\":\"invalid_request_error\"}}";
    request->max_tokens = SIM_DEFAULT_TOKENS;
    const char *tokens = member(body, "\"max_tokens\"");
    if (tokens != NULL) {
        char *end;
        long value = strtol(tokens, &end, 10);
        if (end == tokens || value < 1 || value > SIM_MAX_TOKENS)
            return "{\"error\":{\"message\":\"max_tokens must be a whole number in 1...4096\",\"type\":\"invalid_request_error\"}}";
        request->max_tokens = (int) value;
    }
    request->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    return NULL;
}

int sim_bytes_append(struct sim_bytes *buffer, const char *bytes, size_t count) {
    if (buffer->count + count > buffer->capacity) {
        /* First size: a few events, so a stream's buffer rarely grows. */
        size_t capacity = buffer->capacity == 0 ? 4096 : buffer->capacity;
        while (capacity < buffer->count + count) capacity *= 2;
        char *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) return 1;
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->count, bytes, count);
    buffer->count += count;
    return 0;
}

void sim_generate(const struct sim_request *request, sim_emit emit, void *context) {
    /* Room for the longest event below (the usage chunk with its numbers). */
    char event[512];
    struct timespec step = {request->step_ms / 1000, (long) (request->step_ms % 1000) * 1000000L};
    for (int token = 0; token < request->max_tokens; token++) {
        nanosleep(&step, NULL);
        int n = snprintf(event, sizeof event,
                         "data: {\"id\":\"cmpl-sim-%lu\",\"object\":\"text_completion\",\"model\":\"sim\","
                         "\"choices\":[{\"index\":0,\"text\":\"tok \",\"finish_reason\":null}]}\n\n", request->id);
        if (emit(context, event, (size_t) n) != 0) return;
    }
    /* The simulation has no tokenizer: prompt_tokens is 0. decograph's own usage member is what
     * `bench serve` reads for MAT (one target call per token: greedy decoding). */
    int n = snprintf(event, sizeof event,
                     "data: {\"id\":\"cmpl-sim-%lu\",\"object\":\"text_completion\",\"model\":\"sim\","
                     "\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],"
                     "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":%d,\"total_tokens\":%d,"
                     "\"decograph\":{\"finish\":\"length\",\"steps\":%d,\"target_calls\":%d}}}\n\n"
                     "data: [DONE]\n\n",
                     request->id, request->max_tokens, request->max_tokens, request->max_tokens, request->max_tokens);
    emit(context, event, (size_t) n);
}
