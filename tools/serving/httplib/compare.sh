#!/usr/bin/env bash
# Measures the two well-kept Debian C HTTP libraries decograph could serve over (docs/serving.md,
# "HTTP library"): GNU libmicrohttpd in thread-per-connection mode (what decograph uses) and
# libevent 2.1's evhttp (one event-loop thread). Both servers (mhd_server.c, evhttp_server.c) answer
# the same simulated generation: a thread per request sleeps STEP_MS per token and streams OpenAI
# completion chunks, so what differs is only how each library meets a blocking generation thread.
# Each server is driven by decograph's own load generator (`bench serve --url`) and probed with
# GET /health (health_probe.c: one keep-alive connection, then 64), and its peak resident memory and
# thread count are sampled. The servers alternate A/B, B/A over ROUNDS rounds; the summary gives the
# range over rounds. Nothing here is part of decograph's build.
#   tools/serving/httplib/compare.sh [ROUNDS] [SECONDS]
# Environment: STEP_MS (20), CLIENTS (1,16,64,256), MAX_TOKENS (32), DECOGRAPH (a release binary;
# built when unset), BUILD (where the C programs and the results go; /tmp/decograph-httplib).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-2}"
seconds="${2:-15}"
step_ms="${STEP_MS:-20}"
clients="${CLIENTS:-1,16,64,256}"
max_tokens="${MAX_TOKENS:-32}"
here=tools/serving/httplib
build="${BUILD:-/tmp/decograph-httplib}"
results="$build/results-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

missing=()
pkg-config --exists libevent libevent_pthreads || missing+=(libevent-dev)
pkg-config --exists libmicrohttpd || missing+=(libmicrohttpd-dev)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get install -y "${missing[@]}"
fi
flags=(-O2 -Wall -Wextra -Werror -pthread)
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
cc "${flags[@]}" -o "$build/mhd_server" "$here/mhd_server.c" "$here/sim.c" $(pkg-config --cflags --libs libmicrohttpd)
# shellcheck disable=SC2046
cc "${flags[@]}" -o "$build/evhttp_server" "$here/evhttp_server.c" "$here/sim.c" $(pkg-config --cflags --libs libevent libevent_pthreads)
cc "${flags[@]}" -o "$build/health_probe" "$here/health_probe.c"

decograph="${DECOGRAPH:-}"
if [ -z "$decograph" ]; then
    swift build -c release --product decograph >/dev/null
    decograph="$PWD/.build/release/decograph"
fi

server_pid=""
sampler_pid=""
cleanup() {
    for pid in $sampler_pid $server_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
wait_healthy() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }

# One server, one round: /health probes on the idle server, then the streaming load, with the
# server's RSS (KiB) and thread count sampled each second (the peak is the largest client count's).
measure() {
    local name="$1" port="$2" round="$3"
    local tag="$results/$name-$round"
    "$build/${name}_server" --port "$port" --step-ms "$step_ms" 2>"$tag.log" &
    server_pid=$!
    wait_healthy "$port"
    "$build/health_probe" "$port" 1 2000 >"$tag.health-1"
    "$build/health_probe" "$port" 64 100 >"$tag.health-64"
    (while kill -0 "$server_pid" 2>/dev/null; do ps -o rss=,nlwp= -p "$server_pid" || true; sleep 1; done) >"$tag.ps" &
    sampler_pid=$!
    echo "$name, round $round: bench serve on :$port, clients $clients, $seconds s per row" >&2
    "$decograph" bench serve --url "http://127.0.0.1:$port" --graph sim --clients "$clients" --seconds "$seconds" \
        --max-tokens "$max_tokens" --json >"$tag.json"
    kill -TERM "$sampler_pid" 2>/dev/null || true
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    wait "$sampler_pid" 2>/dev/null || true
    server_pid=""
    sampler_pid=""
}

for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="mhd evhttp"; else order="evhttp mhd"; fi
    for name in $order; do
        if [ "$name" = mhd ]; then measure mhd 18950 "$round"; else measure evhttp 18951 "$round"; fi
    done
done

echo "results: $results (step $step_ms ms, max_tokens $max_tokens, $seconds s per row, $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 "$here/summarize.py" "$results" "$step_ms"
