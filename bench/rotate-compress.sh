#!/usr/bin/env bash
# Benchmark `logwarden rotate` against logrotate, gzip and pigz, then test how
# many lines each copytruncate rotation loses under a fast writer.
# See bench/README.md. Progress goes to stderr, result tables to stdout.
#
# Environment:
#   SIZE_MB       size of the generated log in MiB                 (default 256)
#   LOGWARDEN     logwarden binary     (default <repo>/target/release/logwarden,
#                 built with `cargo build --release` only if it is missing)
#   LOSS_SECONDS  how long the loss-test writer runs                 (default 3)
#   ROTATE_AFTER  seconds into the writer run at which to rotate     (default 1)
#   PARTS         which parts to run: "1 2" (default), "1" or "2"
#   BENCH_FORMAT  `table` (default) or `kv`: key=value lines instead of the
#                 tables, for bench/suite.sh (compress.*, loss.*)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE_MB=${SIZE_MB:-256}
LOSS_SECONDS=${LOSS_SECONDS:-3}
ROTATE_AFTER=${ROTATE_AFTER:-1}
PARTS=${PARTS:-1 2}
BENCH_FORMAT=${BENCH_FORMAT:-table}
lw_default=$repo_root/target/release/logwarden
LOGWARDEN=${LOGWARDEN:-$lw_default}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MB must be a positive integer, got '$SIZE_MB'"
[[ $PARTS =~ ^[[:space:]]*[12]([[:space:]]+[12])?[[:space:]]*$ ]] || die "PARTS must be \"1 2\", \"1\" or \"2\", got '$PARTS'"
[[ $BENCH_FORMAT == table || $BENCH_FORMAT == kv ]] || die "BENCH_FORMAT must be table or kv, got '$BENCH_FORMAT'"
part1=; part2=
[[ " $PARTS " == *" 1 "* ]] && part1=1
[[ " $PARTS " == *" 2 "* ]] && part2=1

# --- tools ---------------------------------------------------------------------
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v logrotate >/dev/null || missing+=(logrotate)
command -v pigz >/dev/null || missing+=(pigz)
command -v gzip >/dev/null || missing+=(gzip)
[[ -x /usr/bin/time ]] || missing+=(time)   # GNU time, not the shell keyword
if ((${#missing[@]})); then
    ((EUID == 0)) || die "missing packages (${missing[*]}); install them or run as root"
    log "installing ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

# --- work dir --------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/logwarden-bench.XXXXXX")
writer_pid=
cleanup() {
    if [[ -n $writer_pid ]]; then kill "$writer_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on Ctrl-C / kill as well

# Input + one working copy + an archive + the decompressed check stream is
# streamed, so ~2.5x the input is enough.
avail_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
[[ -z $part1 ]] || ((avail_kib > SIZE_MB * 1024 * 5 / 2)) ||
    die "need ~$((SIZE_MB * 5 / 2)) MiB free in $work, have $((avail_kib / 1024)) MiB"
log "work dir: $work"

# --- helper: log generator, loss-test writer and counter -------------------------
cat >"$work/benchlib.py" <<'PY'
import os, random, sys, time

# Every loss-test line is b"seq=<n>" + TAIL, so the counter can also detect
# torn or garbled lines by rebuilding the expected line.
TAIL = (b' 2025-11-21T10:00:00.000Z INFO  [http-worker-3] http.access '
        b'{"m":"GET","path":"/api/v1/orders","st":200,"ms":12.5}\n')


def gen(out, size):
    """Realistic application log lines (~150 bytes): ISO timestamp, level,
    thread, event, JSON payload with request ids, paths, latencies."""
    rnd = random.Random(42)
    t = 1763683200.0  # 2025-11-21T00:00:00Z, ~2000 lines/s
    levels = ["INFO"] * 80 + ["DEBUG"] * 12 + ["WARN"] * 6 + ["ERROR"] * 2
    threads = (["http-worker-%d" % i for i in range(16)]
               + ["db-pool-%d" % i for i in range(4)] + ["scheduler"])
    methods = ["GET"] * 7 + ["POST"] * 2 + ["PUT", "DELETE"]
    paths = ["/api/v1/orders", "/api/v1/orders/%d", "/api/v1/users/%d",
             "/api/v1/items/%d/stock", "/healthz", "/api/v2/search",
             "/api/v1/carts/%d/checkout", "/static/app.%d.js"]
    status = [200] * 85 + [201] * 4 + [204] * 3 + [304] * 3 + [400, 401, 404, 404, 500]
    other = [
        ("db.query", '{"table":"orders","rows":%d,"ms":%.1f,'
                     '"sql":"SELECT id,total FROM orders WHERE customer_id=$1"}'),
        ("cache.miss", '{"key":"user:%d:profile","ttl_s":300,"ms":%.1f,"backend":"redis-2"}'),
        ("upstream.retry", '{"service":"payments","attempt":%d,"backoff_ms":%.1f,'
                           '"error":"connection reset by peer"}'),
    ]
    cached_sec, stamp, written, buf = None, None, 0, []
    with open(out, "wb", buffering=1 << 20) as f:
        while written < size:
            for _ in range(4096):
                t += rnd.expovariate(2000.0)
                sec = int(t)
                if sec != cached_sec:
                    cached_sec = sec
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
                head = "%s.%03dZ %-5s [%s]" % (stamp, int((t - sec) * 1000),
                                               rnd.choice(levels), rnd.choice(threads))
                if rnd.random() < 0.75:
                    p = rnd.choice(paths)
                    if "%d" in p:
                        p %= rnd.randint(1, 99999)
                    buf.append('%s http.access {"req":"%08x","m":"%s","path":"%s","st":%d,"ms":%.1f}\n' % (
                        head, rnd.getrandbits(32), rnd.choice(methods), p,
                        rnd.choice(status), rnd.lognormvariate(2.5, 0.8)))
                else:
                    ev, fmt = rnd.choice(other)
                    buf.append("%s %s %s\n" % (head, ev, fmt % (rnd.randint(1, 500),
                                                               rnd.lognormvariate(1.5, 1.0))))
            chunk = "".join(buf).encode()
            buf.clear()
            f.write(chunk)
            written += len(chunk)


def write(path, seconds, count_file):
    """Append sequence-numbered lines as fast as possible, one unbuffered
    write(2) per line on an O_APPEND descriptor (like most loggers)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    n, w, end = 0, os.write, time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(256):  # look at the clock every 256 lines only
            n += 1
            w(fd, b"seq=%d" % n + TAIL)
    os.close(fd)
    with open(count_file, "w") as f:
        f.write("%d\n" % n)


def count(written, live):
    """Archived bytes on stdin (in cut order), live file as argument. The two
    are read as ONE stream: a block-aligned collapse (logwarden) may end the
    archive mid-line and the live file then starts with the rest of that
    line, which is a split, not a loss. Prints:
    archived live lost duplicated corrupt  (archived/live: newlines in each)"""
    archived = sys.stdin.buffer.read()
    with open(live, "rb") as f:
        rest = f.read()
    seen = bytearray(written + 1)
    corrupt = dup = 0
    for line in (archived + rest).splitlines(keepends=True):
        ok = line.startswith(b"seq=")
        if ok:
            num = line[4:line.find(b" ")]
            ok = num.isdigit() and 0 < int(num) <= written and line == b"seq=" + num + TAIL
        if not ok:
            corrupt += 1
            continue
        n = int(num)
        if seen[n]:
            dup += 1
        else:
            seen[n] = 1
    lost = written - sum(seen)
    print(archived.count(b"\n"), rest.count(b"\n"), lost, dup, corrupt)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        gen(args[0], int(args[1]))
    elif cmd == "write":
        write(args[0], float(args[1]), args[2])
    elif cmd == "count":
        count(int(args[0]), args[1])
    else:
        sys.exit("unknown command " + cmd)
PY

# --- logwarden binary --------------------------------------------------------------
lw_skip=
if [[ ! -x $LOGWARDEN && $LOGWARDEN == "$lw_default" ]]; then
    if command -v cargo >/dev/null; then
        log "$LOGWARDEN missing: cargo build --release --locked"
        (cd "$repo_root" && cargo build --release --locked >&2) || log "cargo build --release --locked failed"
    else
        log "$LOGWARDEN missing and cargo not found"
    fi
fi
if [[ ! -x $LOGWARDEN ]]; then
    lw_skip="binary $LOGWARDEN not found"
    log "SKIPPING logwarden rows: $lw_skip (set LOGWARDEN=/path/to/logwarden)"
fi

# logwarden_conf NAME DIR FILE STATE_DIR > CONF : the documented example config:
# one source rotating DIR/FILE by copytruncate with gzip.
logwarden_conf() {
    local strategy=${5:-copytruncate}
    cat <<EOF
state_dir = "$4"

[defaults]
schedule = "daily"
at = "00:00"
timezone = "local"
strategy = "auto"
compress = "gzip"
max_age = "30d"

[[source]]
name = "$1"
dir = "$2"
include = ["$3"]
mode = "rotate"
strategy = "$strategy"
EOF
}

# logrotate_conf PATH > CONF : copytruncate + gzip (-6 is logrotate's default)
# + dateext. `rotate 7` because the default count 0 deletes the rotated file.
logrotate_conf() {
    cat <<EOF
$1 {
    copytruncate
    compress
    dateext
    rotate 7
    missingok
}
EOF
}

# check_logwarden CONF : `logwarden check -c CONF` (config written and its
# directories created first); on failure, skip all further logwarden runs.
check_logwarden() {
    [[ -z $lw_skip ]] || return 1
    local out
    if ! out=$("$LOGWARDEN" check -c "$1" 2>&1); then
        printf '%s\n' "$out" >&2
        lw_skip="'logwarden check -c' rejected the benchmark config"
        log "SKIPPING logwarden rows: $lw_skip"
        return 1
    fi
    printf '%s\n' "$out" | sed 's/^/[bench] logwarden check: /' >&2
}

# archives DIR LIVE : every file in DIR except the live file, i.e. what the
# rotation produced (state files live elsewhere).
archives() { find "$1" -mindepth 1 -maxdepth 1 -type f ! -name "$2" -print | sort; }

# --- part 1: speed / size / memory ---------------------------------------------
# fresh_copy DIR : DIR/bench.log = a new copy of the input. sync(1) the copy
# so no tool pays for writing back the copy's dirty pages (not timed).
fresh_copy() {
    rm -rf -- "$1"
    mkdir -p -- "$1"
    cp -- "$input" "$1/bench.log"
    sync -- "$1/bench.log"
}

# record TOOL STATUS OUTPUT_BYTES CHECK : append a row from $time_file.
record() {
    # GNU time prepends "Command exited with non-zero status N" on failure;
    # the format line is always last.
    local wall kib
    read -r wall kib < <(tail -n 1 "$time_file")
    tools+=("$1") walls+=("$wall") sizes+=("$3") rss+=("$kib")
    if [[ $2 != 0 ]]; then checks+=("exit $2"); else checks+=("$4"); fi
}

# verify_archives DIR LIVE : sets arch_bytes (total size of the archives) and
# chk: "ok" if the archives, decompressed, followed by what is left in the
# live file, are exactly the input (a block-aligned collapse leaves the last
# partial block in the live file), otherwise what is wrong.
verify_archives() {
    local -a files
    mapfile -t files < <(archives "$1" "$2")
    arch_bytes=0 chk=ok
    if ((${#files[@]} == 0)); then chk="no archive"; return; fi
    local f
    for f in "${files[@]}"; do
        arch_bytes=$((arch_bytes + $(stat -c %s "$f")))
        [[ $f == *.gz ]] || chk="not gzipped: ${f##*/}"
    done
    [[ $chk == ok ]] || return 0
    # (After a rename without `create`, there is no live file at all.)
    if ! { zcat -- "${files[@]}"; [[ ! -e $1/$2 ]] || cat -- "$1/$2"; } | cmp -s - "$input"; then chk="content differs"; return; fi
    local left=0
    [[ ! -e $1/$2 ]] || left=$(stat -c %s -- "$1/$2")
    ((left < 1048576)) || chk="live file not cut ($left bytes left)"
}

# part_1 : generate SIZE_MB of log, rotate/compress it with every tool, print
# the table (or key=value lines).
part_1() {
    input=$work/input.log
    log "generating ${SIZE_MB} MiB of log lines"
    python3 "$work/benchlib.py" gen "$input" $((SIZE_MB * 1024 * 1024))
    in_bytes=$(stat -c %s "$input")
    log "input: $in_bytes bytes, $(wc -l <"$input") lines"
    cat "$input" >/dev/null   # warm-up read; nothing is dropped from the caches

    tools=() walls=() sizes=() rss=() checks=()
    time_file=$work/time.txt
    run_dir=$work/run

    # logwarden twice: copy-truncate (copy + fsync + truncate + gzip, what
    # logrotate does below) and rename (cut + gzip only, comparable to gzip/pigz).
    for lw_strategy in copytruncate rename; do
        [[ -z $lw_skip ]] || break
        fresh_copy "$run_dir"
        mkdir -p -- "$work/lw-state"
        logwarden_conf bench "$run_dir" bench.log "$work/lw-state" "$lw_strategy" >"$work/logwarden.toml"
        if check_logwarden "$work/logwarden.toml"; then
            log "logwarden rotate ($lw_strategy + gzip)"
            st=0
            /usr/bin/time -f '%e %M' -o "$time_file" \
                "$LOGWARDEN" rotate -c "$work/logwarden.toml" >&2 || st=$?
            verify_archives "$run_dir" bench.log
            if [[ $lw_strategy == copytruncate ]]; then
                record "logwarden rotate" "$st" "$arch_bytes" "$chk"
            else
                record "logwarden (rename)" "$st" "$arch_bytes" "$chk"
            fi
        fi
        rm -rf -- "$work/lw-state"
    done

    log "logrotate -f (copytruncate, compress, dateext)"
    fresh_copy "$run_dir"
    logrotate_conf "$run_dir/bench.log" >"$work/logrotate.conf"
    st=0
    /usr/bin/time -f '%e %M' -o "$time_file" \
        logrotate -f -s "$work/logrotate.status" "$work/logrotate.conf" >&2 || st=$?
    verify_archives "$run_dir" bench.log
    record "logrotate -f" "$st" "$arch_bytes" "$chk"

    # gzip/pigz: stdout of /usr/bin/time is the compressor's stdout.
    for tool in "gzip -6" "pigz -p2 -6"; do
        log "$tool -c"
        fresh_copy "$run_dir"
        st=0
        # shellcheck disable=SC2086 # $tool is a command plus options
        /usr/bin/time -f '%e %M' -o "$time_file" $tool -c "$run_dir/bench.log" \
            >"$work/out.gz" || st=$?
        chk=ok
        zcat "$work/out.gz" | cmp -s - "$input" || chk="content differs"
        record "$tool" "$st" "$(stat -c %s "$work/out.gz")" "$chk"
        rm -f -- "$work/out.gz"
    done
    rm -rf -- "$run_dir"

    # Reference rows for the ratios.
    lw_wall='' gz_size=''
    for i in "${!tools[@]}"; do
        [[ ${tools[$i]} == "logwarden rotate" && ${checks[$i]} == ok ]] && lw_wall=${walls[$i]}
        [[ ${tools[$i]} == "gzip -6" ]] && gz_size=${sizes[$i]}
    done
    [[ -n $lw_wall ]] || log "no successful logwarden run: the 'wall vs logwarden' column is n/a"

    if [[ $BENCH_FORMAT == kv ]]; then
        # ids: lw_rotate, lw_rename, logrotate, gzip, pigz; wall in s, rss in KiB
        printf 'compress.input_bytes=%d\n' "$in_bytes"
        local id
        for i in "${!tools[@]}"; do
            case ${tools[$i]} in
                "logwarden rotate") id=lw_rotate ;;
                "logwarden (rename)") id=lw_rename ;;
                "logrotate -f") id=logrotate ;;
                "gzip -6") id=gzip ;;
                "pigz -p2 -6") id=pigz ;;
            esac
            printf 'compress.%s.%s=%s\n' "$id" wall "${walls[$i]}" "$id" bytes "${sizes[$i]}" \
                "$id" rss_kib "${rss[$i]}" "$id" check "${checks[$i]}"
        done
        if [[ -n $lw_skip ]]; then printf 'compress.lw_skip=%s\n' "$lw_skip"; fi
        rm -f -- "$input"
        return 0
    fi

    echo "Input: $in_bytes bytes ($SIZE_MB MiB), $(nproc) CPUs"
    printf '%-18s %8s %12s %14s %12s %12s  %s\n' \
        tool "wall s" "wall/lw" "output bytes" "size/gzip-6" "peak RSS MiB" check
    for i in "${!tools[@]}"; do
        awk -v t="${tools[$i]}" -v w="${walls[$i]}" -v lw="$lw_wall" -v s="${sizes[$i]}" \
            -v gz="$gz_size" -v k="${rss[$i]}" -v c="${checks[$i]}" 'BEGIN {
            wr = (lw != "" && lw > 0) ? sprintf("%.2fx", w / lw) : "n/a"
            sr = (gz != "" && gz > 0) ? sprintf("%.3fx", s / gz) : "n/a"
            printf "%-18s %8.2f %12s %14d %12s %12.1f  %s\n", t, w, wr, s, sr, k / 1024, c
        }'
    done
    if [[ -n $lw_skip ]]; then echo "logwarden rotate: skipped ($lw_skip)"; fi
    echo
    rm -f -- "$input"
}

# --- part 2: line loss under copytruncate -----------------------------------------
# loss_test TOOL : a writer appends seq=N lines for LOSS_SECONDS; ROTATE_AFTER
# seconds in, TOOL rotates the file once. Afterwards every archived line plus
# the live file is checked against 1..N.
loss_rows=()
declare -A exercised=()
loss_test() {
    local tool=$1 d=$work/loss-$1
    mkdir -p -- "$d/logs" "$d/state"
    local live=$d/logs/app.log
    local -a rotate_cmd
    case $tool in
        logrotate)
            logrotate_conf "$live" >"$d/logrotate.conf"
            rotate_cmd=(logrotate -f -s "$d/state/logrotate.status" "$d/logrotate.conf") ;;
        logwarden)
            logwarden_conf loss "$d/logs" app.log "$d/state" >"$d/logwarden.toml"
            check_logwarden "$d/logwarden.toml" || { rm -rf -- "$d"; return 0; }
            rotate_cmd=("$LOGWARDEN" rotate -c "$d/logwarden.toml" --source loss) ;;
    esac

    log "loss test ($tool): writer runs ${LOSS_SECONDS}s, rotation after ${ROTATE_AFTER}s"
    python3 "$work/benchlib.py" write "$live" "$LOSS_SECONDS" "$d/written" &
    writer_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do [[ -s $live ]] && break; sleep 0.05; done
    sleep "$ROTATE_AFTER"
    local st=0
    "${rotate_cmd[@]}" >&2 || st=$?
    wait "$writer_pid"
    writer_pid=
    ((st == 0)) || log "$tool exited with status $st"

    local written
    written=$(<"$d/written")
    local -a files
    mapfile -t files < <(archives "$d/logs" app.log)
    ((${#files[@]})) || log "WARNING: $tool produced no archive"
    local result
    # zcat -f passes through any archive that was left uncompressed.
    result=$( { ((${#files[@]} == 0)) || zcat -f -- "${files[@]}"; } |
        python3 "$work/benchlib.py" count "$written" "$live")
    loss_rows+=("$tool $written $result $st")
    # An empty live file means the cut did not happen while the writer was
    # still writing, so the race was not exercised.
    exercised[$tool]=yes
    [[ -s $live ]] || {
        exercised[$tool]=no
        log "WARNING: $tool cut after the writer had stopped; raise LOSS_SECONDS"
    }
    rm -rf -- "$d"
}

# part_2 : the loss test for logrotate and logwarden, then the table (or
# key=value lines).
part_2() {
    loss_test logrotate
    [[ -n $lw_skip ]] || loss_test logwarden

    if [[ $BENCH_FORMAT == kv ]]; then
        printf 'loss.seconds=%s\nloss.rotate_after=%s\n' "$LOSS_SECONDS" "$ROTATE_AFTER"
        local row t written archived live lost dup corrupt st
        for row in "${loss_rows[@]}"; do
            read -r t written archived live lost dup corrupt st <<<"$row"
            printf 'loss.%s.%s=%s\n' "$t" written "$written" "$t" archived "$archived" \
                "$t" live "$live" "$t" lost "$lost" "$t" duplicated "$dup" \
                "$t" corrupt "$corrupt" "$t" exit "$st" "$t" exercised "${exercised[$t]}"
        done
        if [[ -n $lw_skip ]]; then printf 'loss.lw_skip=%s\n' "$lw_skip"; fi
        return 0
    fi

    echo "Line loss, copytruncate under a writer (${LOSS_SECONDS}s, rotated once after ${ROTATE_AFTER}s)"
    printf '%-10s %10s %10s %10s %8s %10s %8s  %s\n' \
        tool written archived "live file" lost duplicated corrupt "exit"
    for row in "${loss_rows[@]}"; do
        # shellcheck disable=SC2086 # fields are single words
        printf '%-10s %10s %10s %10s %8s %10s %8s  %s\n' $row
    done
    if [[ -n $lw_skip ]]; then echo "logwarden: skipped ($lw_skip)"; fi
}

if [[ -n $part1 ]]; then part_1; fi
if [[ -n $part2 ]]; then part_2; fi
