#!/usr/bin/env bash
# Two `decograph serve` replicas of graphs/ (the demo models) behind nginx (Debian's package) on
# loopback, with the load generator going through nginx; one replica is killed (SIGKILL) a third of
# the way into the run and restarted a few seconds later. Clients retry a request that failed
# before its first event (`bench serve --retries`); the report counts the requests that were in
# flight on the killed replica (failed after their first event) — the only ones that may be lost.
#   tools/serving/replicas.sh [SECONDS] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
clients="${2:-16}"
command -v nginx >/dev/null || { echo "replicas: nginx is not installed (apt-get install nginx-light)" >&2; exit 3; }
swift build -c release --product decograph >/dev/null
decograph="$PWD/.build/release/decograph"
prefix="$(mktemp -d)"
port=18940; a=18941; b=18942
sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@REPLICA_A@|$a|g" -e "s|@REPLICA_B@|$b|g" \
    tools/serving/nginx.conf > "$prefix/nginx.conf"
mkdir -p "$prefix/client-body" "$prefix/proxy" "$prefix/fastcgi" "$prefix/uwsgi" "$prefix/scgi"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$prefix"; }
trap cleanup EXIT
wait_healthy() { for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.5; done; return 1; }
"$decograph" serve --graphs graphs --port "$a" 2>"$prefix/replica-a.log" & replica_a=$!; pids+=("$replica_a")
"$decograph" serve --graphs graphs --port "$b" 2>"$prefix/replica-b.log" & pids+=($!)
nginx -p "$prefix" -c "$prefix/nginx.conf" & pids+=($!)
wait_healthy "$a"; wait_healthy "$b"; wait_healthy "$port"
echo "replicas on :$a and :$b behind nginx on :$port; $clients clients for $seconds s, replica :$a killed at $((seconds / 3)) s"
(
    sleep $((seconds / 3))
    kill -KILL "$replica_a"
    echo "killed replica :$a" >&2
    sleep 5
    "$decograph" serve --graphs graphs --port "$a" 2>>"$prefix/replica-a.log" &
    echo $! > "$prefix/replica-a.pid"
    wait_healthy "$a" && echo "replica :$a is back" >&2
) &
killer=$!
"$decograph" bench serve --url "http://127.0.0.1:$port" --graph greedy --clients "$clients" --seconds "$seconds" \
    --max-tokens 64 --retries 5 --check
wait "$killer" || true
[ -f "$prefix/replica-a.pid" ] && pids+=("$(cat "$prefix/replica-a.pid")")
