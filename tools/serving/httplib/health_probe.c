/* GET /health latency: C clients, each on one keep-alive connection sending requests back to back,
 * so the figure is the server's answer time plus loopback, not a client library's.
 *   health_probe PORT CLIENTS REQUESTS_PER_CLIENT
 * prints one line: clients, requests, p50 and p99 in ms, requests/s. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, per_client;
static double *latencies; /* per_client entries per client, in ms */
static int failures;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Reads one response (headers, then Content-Length bytes of body); returns 0 on success. Bytes
 * past it stay in `buffer` (none: a request is sent only after the previous answer). */
static int read_response(int fd, char *buffer, size_t capacity) {
    size_t have = 0;
    char *end = NULL;
    while (end == NULL) {
        if (have + 1 >= capacity) return -1;
        ssize_t n = read(fd, buffer + have, capacity - 1 - have);
        if (n <= 0) return -1;
        have += (size_t) n;
        buffer[have] = '\0';
        end = strstr(buffer, "\r\n\r\n");
    }
    if (strncmp(buffer, "HTTP/1.1 200", 12) != 0) return -1;
    const char *length = strcasestr(buffer, "\r\ncontent-length:");
    if (length == NULL) return -1;
    size_t total = (size_t) (end + 4 - buffer) + strtoul(length + 17, NULL, 10);
    while (have < total) {
        if (total >= capacity) return -1;
        ssize_t n = read(fd, buffer + have, total - have);
        if (n <= 0) return -1;
        have += (size_t) n;
    }
    return 0;
}

static void *client(void *context) {
    int index = (int) (long) context;
    static const char request[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char buffer[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0
        || connect(fd, (struct sockaddr *) &address, sizeof address) != 0) {
        __atomic_add_fetch(&failures, per_client, __ATOMIC_RELAXED);
        if (fd >= 0) close(fd);
        return NULL;
    }
    for (int i = 0; i < per_client; i++) {
        double start = now_ms();
        if (write(fd, request, sizeof request - 1) != (ssize_t) sizeof request - 1 || read_response(fd, buffer, sizeof buffer) != 0) {
            __atomic_add_fetch(&failures, per_client - i, __ATOMIC_RELAXED);
            break;
        }
        latencies[(size_t) index * per_client + i] = now_ms() - start;
    }
    close(fd);
    return NULL;
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4 || (port = atoi(argv[1])) <= 0 || atoi(argv[2]) <= 0 || (per_client = atoi(argv[3])) <= 0) {
        fprintf(stderr, "Usage: health_probe PORT CLIENTS REQUESTS_PER_CLIENT\n");
        return 64;
    }
    int clients = atoi(argv[2]);
    size_t total = (size_t) clients * per_client;
    latencies = calloc(total, sizeof *latencies);
    pthread_t *threads = calloc((size_t) clients, sizeof *threads);
    if (latencies == NULL || threads == NULL) return 1;
    for (size_t i = 0; i < total; i++) latencies[i] = -1; /* not measured (the client failed first) */
    double start = now_ms();
    for (int i = 0; i < clients; i++) pthread_create(&threads[i], NULL, client, (void *) (long) i);
    for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
    double seconds = (now_ms() - start) / 1e3;
    qsort(latencies, total, sizeof *latencies, ascending);
    size_t first = 0;
    while (first < total && latencies[first] < 0) first++;
    size_t measured = total - first;
    if (measured == 0) {
        fprintf(stderr, "health_probe: no request succeeded\n");
        return 1;
    }
    double p50 = latencies[first + measured / 2], p99 = latencies[first + (measured * 99) / 100 < total ? first + (measured * 99) / 100 : total - 1];
    printf("clients %d requests %zu failed %d p50 %.3f ms p99 %.3f ms %.0f req/s\n", clients, measured, failures, p50, p99, measured / seconds);
    free(latencies);
    free(threads);
    return failures == 0 ? 0 : 1;
}
