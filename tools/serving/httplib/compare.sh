#!/usr/bin/env bash
# Measures the two well-kept Debian C HTTP libraries decograph could serve over (docs/serving.md,
# "HTTP library"): GNU libmicrohttpd in thread-per-connection mode (what decograph uses) and
# libevent 2.1's evhttp (one event-loop thread). Both servers (mhd_server.c, evhttp_server.c) answer
# the same simulated generation: a thread per request sleeps STEP_MS per token and streams OpenAI
# completion chunks, so what differs is only how each library meets a blocking generation thread.
# Each server is driven by decograph's own load generator (`bench serve --url`) and probed with
# GET /health (health_probe.c: one keep-alive connection, then 64); its CPU time per token is
# counted and its peak resident memory and thread count sampled. The servers alternate A/B, B/A over ROUNDS rounds; the summary gives the
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
# A process's CPU time so far, in clock ticks (user + system; the names here hold no spaces).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Cores the rest of the machine kept busy over 2 s (the machine is shared: say how busy it was).
others_busy() {
    local a b
    a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
    awk -v cores="$(nproc)" -v a="${a[*]:1}" -v b="${b[*]:1}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); total = 0
        for (i = 1; i <= n; i++) total += y[i] - x[i]
        idle = (y[4] - x[4]) + (y[5] - x[5]); printf "%.2f\n", cores * (total - idle) / total }'
}
# The load generator's own CPU seconds (user and system), when GNU time is there to count them.
client_time=()
/usr/bin/time -f "%U" true 2>/dev/null && client_time=(/usr/bin/time -f "%U %S" -o)

# One server, one round: /health probes on the idle server, then one `bench serve` per client
# count, each with the server's CPU time counted and its RSS (KiB) and threads sampled each second.
measure() {
    local name="$1" port="$2" round="$3"
    local tag="$results/$name-$round"
    others_busy >"$tag.busy"
    "$build/${name}_server" --port "$port" --step-ms "$step_ms" 2>"$tag.log" &
    server_pid=$!
    # Healthy, and it is ours answering (not another process on the port).
    wait_healthy "$port" && kill -0 "$server_pid" 2>/dev/null || { echo "compare: $name did not start: $(cat "$tag.log")" >&2; exit 1; }
    "$build/health_probe" "$port" 1 2000 >"$tag.health-1"
    "$build/health_probe" "$port" 64 100 >"$tag.health-64"
    for n in ${clients//,/ }; do
        local row="$tag-$n"
        echo "$name, round $round: $n clients for $seconds s on :$port" >&2
        (while kill -0 "$server_pid" 2>/dev/null; do ps -o rss=,nlwp= -p "$server_pid" || true; sleep 1; done) >"$row.ps" &
        sampler_pid=$!
        local before
        before="$(cpu_ticks "$server_pid")"
        ${client_time[@]+"${client_time[@]}" "$row.client-cpu"} "$decograph" bench serve --url "http://127.0.0.1:$port" \
            --graph sim --clients "$n" --seconds "$seconds" --max-tokens "$max_tokens" --json >"$row.json"
        echo $(($(cpu_ticks "$server_pid") - before)) >"$row.cpu"
        kill -TERM "$sampler_pid" 2>/dev/null || true
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
    done
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=""
}

for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="mhd evhttp"; else order="evhttp mhd"; fi
    for name in $order; do
        if [ "$name" = mhd ]; then measure mhd 18950 "$round"; else measure evhttp 18951 "$round"; fi
    done
done

echo "results: $results (step $step_ms ms, max_tokens $max_tokens, $seconds s per row, $rounds rounds)"
python3 "$here/summarize.py" "$results" "$step_ms"
