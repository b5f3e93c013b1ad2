#!/usr/bin/env bash
# `logwarden verify` throughput over a compressed mirror archive, in MB/s of
# mirror (decompressed) bytes, beside `zcat | sha256sum` and `pigz -dc |
# sha256sum` on the same archive: the work verify does (inflate + SHA-256 of
# the content + SHA-256 of the .gz) done with the usual tools.
#
# usage: bench/verify.sh            (SIZE_MIB, default 512; LOGWARDEN binary)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LOGWARDEN=${LOGWARDEN:-target/release/logwarden}
SIZE_MIB=${SIZE_MIB:-512}
[[ -x $LOGWARDEN ]] || cargo build --release --quiet
LOGWARDEN=$(realpath "$LOGWARDEN")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/logs" "$tmp/state"
cat > "$tmp/c.toml" <<TOML
state_dir = "$tmp/state"
[[source]]
name = "app"
dir = "$tmp/logs"
include = ["app.log"]
schedule = "daily"
TOML
echo "generating ${SIZE_MIB} MiB and archiving it through the mirror..." >&2
python3 "$here/gen-corpus.py" "$tmp/logs/app.log" "$SIZE_MIB" 2>/dev/null
"$LOGWARDEN" rotate -c "$tmp/c.toml" >/dev/null 2>&1
gz=$(ls "$tmp"/state/mirror/app/*.gz)
content=$(zcat "$gz" | wc -c)

best() { # best wall seconds of 3 runs of "$@"
    local b=999999 s e t
    for _ in 1 2 3; do
        s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l); (( $(echo "$t < $b" | bc -l) )) && b=$t
    done
    echo "$b"
}
lw=$(best "$LOGWARDEN" verify -c "$tmp/c.toml")
zc=$(best bash -c "zcat '$gz' | sha256sum; sha256sum '$gz'")
pz=""
command -v pigz >/dev/null && pz=$(best bash -c "pigz -dc '$gz' | sha256sum; sha256sum '$gz'")

printf '%-34s %8s %10s %8s\n' "verify one archive ($((content >> 20)) MiB)" seconds "MB/s" ratio
row() { printf '%-34s %8.2f %10.0f %8.2f\n' "$1" "$2" "$(echo "$content / $2 / 1000000" | bc -l)" "$(echo "$2 / $lw" | bc -l)"; }
row "logwarden verify" "$lw"
row "zcat | sha256sum (+ .gz hash)" "$zc"
[[ -n $pz ]] && row "pigz -dc | sha256sum (+ .gz hash)" "$pz"
echo "(ratio: that tool's time / logwarden's; > 1 means logwarden is faster)"
