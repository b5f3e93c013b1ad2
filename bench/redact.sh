#!/usr/bin/env bash
# Redaction throughput: logwarden vs `sed -E` vs `cat` on a trading-style
# corpus, plus how many planted secrets (marker LEAKME) each output leaks.
#
# usage: bench/redact.sh [CORPUS]
#   CORPUS     an existing corpus file; default: generate SIZE_MIB (>= 256) MiB
#              with bench/gen-corpus.py into a temp dir
# env:
#   LOGWARDEN  binary (default target/release/logwarden); run as
#              `$LOGWARDEN redact -c $CONFIG < corpus > out`
#   CONFIG     config file (default config/local.toml)
#   SIZE_MIB   corpus size when generated (default 256)
#   BENCH_FORMAT  `table` (default) or `kv`: key=value lines for bench/suite.sh
#              (redact.bytes, redact.planted, redact.TOOL.seconds,
#              redact.TOOL.leaked for TOOL in cat, sed, logwarden)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LOGWARDEN=${LOGWARDEN:-target/release/logwarden}
CONFIG=${CONFIG:-config/local.toml}
SIZE_MIB=${SIZE_MIB:-256}
BENCH_FORMAT=${BENCH_FORMAT:-table}
[[ $BENCH_FORMAT == table || $BENCH_FORMAT == kv ]] ||
    { echo "BENCH_FORMAT must be table or kv, got '$BENCH_FORMAT'" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

corpus=${1:-}
if [[ -z $corpus ]]; then
    corpus=$tmp/corpus.log
    echo "generating ${SIZE_MIB} MiB corpus..." >&2
    python3 "$here/gen-corpus.py" "$corpus" "$SIZE_MIB"
fi
[[ -x $LOGWARDEN ]] || { echo "no executable $LOGWARDEN (set LOGWARDEN)" >&2; exit 1; }
bytes=$(stat -c %s "$corpus")
planted=$(grep -c LEAKME "$corpus" || true)

# The sed baseline: key=value and "key":"value" for the default keys, any
# case, with prefixes/suffixes on the key (db_password, X-Api-Key...).
keys='password|passwd|token|secret|api_key|apikey|access_token|refresh_token|authorization|cookie|private_key'
sed_script=(
    -e "s/(\"[A-Za-z0-9_.-]*($keys)[A-Za-z0-9_.-]*\"[[:space:]]*:[[:space:]]*\")[^\"]*\"/\\1[REDACTED]\"/Ig"
    -e "s/([A-Za-z0-9_.-]*($keys)[A-Za-z0-9_.-]*=)[^[:space:]&,;\"']*/\\1[REDACTED]/Ig"
)

now() { date +%s.%N; }

# run NAME CMD... : times `cat corpus | CMD > /dev/null` (best of 3): every
# tool reads a pipe, so the `cat` row (`cat | cat`) is the pipe's limit and
# the figures are the tools', not the disk's. Then runs it once more into
# $tmp/NAME.out, untimed, to count what leaked.
declare -A secs
run() {
    local name=$1
    shift
    cat "$corpus" >/dev/null # warm the page cache
    local t0 t1 s best=
    for _ in 1 2 3; do
        t0=$(now)
        # shellcheck disable=SC2002 # every tool reads a pipe, on purpose
        cat "$corpus" | "$@" >/dev/null 2>&1
        t1=$(now)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        if [[ -z $best ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$s; fi
    done
    secs[$name]=$best
    "$@" <"$corpus" >"$tmp/$name.out" 2>/dev/null
}

run cat cat
run sed sed -E "${sed_script[@]}"
run logwarden "$LOGWARDEN" redact -c "$CONFIG"

if [[ $BENCH_FORMAT == kv ]]; then
    printf 'redact.bytes=%d\nredact.planted=%d\n' "$bytes" "$planted"
    for t in cat sed logwarden; do
        printf 'redact.%s.seconds=%s\nredact.%s.leaked=%d\n' \
            "$t" "${secs[$t]}" "$t" "$(grep -c LEAKME "$tmp/$t.out" || true)"
    done
    exit 0
fi

mbps() { awk -v n="$bytes" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s / 1e6 : 0) }'; }

printf 'corpus: %s (%d bytes, %d lines with a planted secret)\n' "$corpus" "$bytes" "$planted"
printf '%-10s %9s %9s %8s\n' tool seconds MB/s leaked
for t in cat sed logwarden; do
    leaked=$(grep -c LEAKME "$tmp/$t.out" || true)
    printf '%-10s %9s %9s %8s\n' "$t" "${secs[$t]}" "$(mbps "${secs[$t]}")" "$leaked"
done
awk -v c="${secs[cat]}" -v s="${secs[sed]}" -v l="${secs[logwarden]}" 'BEGIN {
    printf "throughput ratio logwarden/sed: %.2fx\n", (l > 0 ? s / l : 0)
    printf "throughput ratio logwarden/cat: %.2fx\n", (l > 0 ? c / l : 0)
}'
