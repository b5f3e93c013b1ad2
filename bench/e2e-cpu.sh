#!/usr/bin/env bash
# Daemon CPU per GB mirrored, end to end (tail + redact + mirror write +
# fsync + checkpoints + segment hashing): SIZE_MIB of the redaction corpus
# appended to one watched file (FILES=1) or spread over several, the
# daemon's user+system CPU from /proc between the first byte and the mirror
# holding every line.
#
# usage: bench/e2e-cpu.sh [CORPUS]
# env:
#   LOGWARDEN  binary (default target/release/logwarden)
#   SIZE_MIB   bytes appended in all (default 256)
#   FILES      busy files (default 1)
#   PERF       set to a path to record `perf record -g` of the daemon there
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LOGWARDEN=${LOGWARDEN:-target/release/logwarden}
SIZE_MIB=${SIZE_MIB:-256}
FILES=${FILES:-1}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=

corpus=${1:-}
if [[ -z $corpus ]]; then
    corpus=$tmp/corpus.log
    python3 "$here/gen-corpus.py" "$corpus" 64 >/dev/null
fi
mkdir -p "$tmp/logs" "$tmp/state"
cat >"$tmp/c.toml" <<EOF
state_dir = "$tmp/state"
logrotate_config = "none"
[defaults]
schedule = "daily"
max_size = "100GiB"
[[source]]
name = "bench"
dir = "$tmp/logs"
include = ["*.log"]
EOF
for i in $(seq "$FILES"); do : >"$tmp/logs/f$i.log"; done
"$LOGWARDEN" run -c "$tmp/c.toml" 2>"$tmp/daemon.err" &
pid=$!
sleep 1
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(cpu)
perf_pid=
if [[ -n ${PERF:-} ]]; then perf record -q -g -o "$PERF" -p "$pid" 2>/dev/null & perf_pid=$!; fi
per=$((SIZE_MIB * 1024 * 1024 / FILES))
lines=0
writers=()
for i in $(seq "$FILES"); do
    (
        written=0
        while ((written < per)); do
            cat "$corpus" >>"$tmp/logs/f$i.log"
            written=$((written + $(stat -c %s "$corpus")))
        done
    ) &
    writers+=($!)
done
wait "${writers[@]}"
for i in $(seq "$FILES"); do lines=$((lines + $(wc -l <"$tmp/logs/f$i.log"))); done
bytes=$(cat "$tmp"/logs/*.log | wc -c)
# Done when the mirrors hold every line.
while (($(cat "$tmp"/state/mirror/bench/*.log 2>/dev/null | wc -l) < lines)); do sleep 0.2; done
after=$(cpu)
if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
awk -v b="$before" -v a="$after" -v hz="$hz" -v bytes="$bytes" -v f="$FILES" 'BEGIN {
    s = (a - b) / hz
    printf "files=%d bytes=%d daemon_cpu_s=%.2f cpu_s_per_gb=%.2f\n", f, bytes, s, s / (bytes / 1e9)
}'
