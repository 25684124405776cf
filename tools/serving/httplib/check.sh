#!/usr/bin/env bash
# Checks both comparison servers under AddressSanitizer, LeakSanitizer and UBSan: every endpoint
# answers, bad requests are refused with 400, clients that hang up mid-stream stop their generation
# (the server's thread count returns to its idle count), and after SIGTERM the server exits 0 with
# no leak or error report. compare.sh measures; this says the servers measured are correct.
#   tools/serving/httplib/check.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=tools/serving/httplib
build="${BUILD:-/tmp/decograph-httplib}/sanitized"
mkdir -p "$build"
flags=(-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -Wall -Wextra -Werror -pthread)
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
cc "${flags[@]}" -o "$build/mhd_server" "$here/mhd_server.c" "$here/sim.c" $(pkg-config --cflags --libs libmicrohttpd)
# shellcheck disable=SC2046
cc "${flags[@]}" -o "$build/evhttp_server" "$here/evhttp_server.c" "$here/sim.c" $(pkg-config --cflags --libs libevent libevent_pthreads)
port=18960
step_ms=5
# Tokens of a stream the client leaves early: far more than it stays for.
long_stream=400
fail() { echo "check: $1: $2" >&2; exit 1; }
threads() { ps -o nlwp= -p "$1" | tr -d ' '; }

for name in mhd evhttp; do
    "$build/${name}_server" --port "$port" --step-ms "$step_ms" 2>"$build/$name.log" &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null || fail "$name" "did not start (is port $port in use?): $(cat "$build/$name.log")"
    idle="$(threads "$pid")"
    url="http://127.0.0.1:$port"
    [ "$(curl -s "$url/health")" = '{"status":"ok"}' ] || fail "$name" "/health"
    curl -s "$url/v1/models" | grep -q '"id":"sim"' || fail "$name" "/v1/models"
    body="$(curl -sN -X POST "$url/v1/completions" -d '{"model":"sim","prompt":"x","max_tokens":5,"stream":true}')"
    [ "$(grep -c '"text":"tok "' <<<"$body")" -eq 5 ] || fail "$name" "a stream of 5 tokens"
    grep -q '"completion_tokens":5' <<<"$body" && grep -q '^data: \[DONE\]$' <<<"$body" || fail "$name" "usage and [DONE]"
    for bad in '{"max_tokens":5}' '{"stream":true,"max_tokens":0}' '{"stream":true,"max_tokens":99999}'; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/completions" -d "$bad")" = 400 ] || fail "$name" "400 for $bad"
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/nowhere")" = 404 ] || fail "$name" "404"
    # Eight clients leave mid-stream at once (curl's --max-time), then their generations must stop.
    for _ in $(seq 1 8); do
        curl -sN --max-time 0.2 -X POST "$url/v1/completions" -d "{\"stream\":true,\"max_tokens\":$long_stream}" >/dev/null &
    done
    wait_curl=0; for job in $(jobs -p); do [ "$job" = "$pid" ] || wait "$job" || wait_curl=$?; done
    [ "$wait_curl" -eq 28 ] || fail "$name" "the clients that left were not cut short (curl exit $wait_curl)"
    sleep $((step_ms * 20 / 1000 + 1))
    [ "$(threads "$pid")" -le "$idle" ] || fail "$name" "$(threads "$pid") threads after the clients left, $idle idle"
    kill -TERM "$pid"
    wait "$pid" || fail "$name" "exit status $? after SIGTERM (see $build/$name.log)"
    grep -q "ERROR\|runtime error" "$build/$name.log" && fail "$name" "sanitizer report in $build/$name.log"
    echo "$name: endpoints, refusals, 8 clients leaving mid-stream (threads back to $idle), clean exit, no leaks"
done
