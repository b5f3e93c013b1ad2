#!/usr/bin/env bash
# logwarden beside its peers, all measured in one run, printed as ONE table
# (see bench/README.md):
#   redact    redaction throughput vs `sed -E` and `cat`       (bench/redact.sh)
#   compress  cut + gzip vs `gzip -6`, `pigz -p2 -6`; rotate vs logrotate
#                                                  (bench/rotate-compress.sh part 1)
#   loss      lines lost by a copytruncate under a writer vs logrotate
#                                                  (bench/rotate-compress.sh part 2)
#   tail      tail throughput and write-to-mirror latency vs rsyslogd imfile
#                                                  (bench/tailbench.py)
#   newfile   latency from a new file's first write to its line in the output,
#             vs rsyslogd imfile                    (bench/newfile.py)
#   idle      peak RSS and idle CPU with 1,000 and 10,000 watched files,
#             vs rsyslogd imfile on the same files
# Progress goes to stderr, the table to stdout. Every figure is measured in
# this run; what could not be measured says so in its cell.
#
# Environment (defaults keep the whole run to a few minutes on 2 cores):
#   LOGWARDEN       binary (default <repo>/target/release/logwarden, built with
#                   `cargo build --release --locked` only if it is missing)
#   SUITE_PARTS     parts to run         (default "redact compress loss tail newfile idle")
#   NEWFILE_COUNT   new files created, one line each, 200 ms apart          (default 30)
#   REDACT_MIB      redaction corpus, MiB                                (default 64)
#   COMPRESS_MIB    compression input, MiB                              (default 128)
#   LOSS_SECONDS    loss-test writer run, s                               (default 3)
#   ROTATE_AFTER    rotate this many s into the writer run                (default 1)
#   TAIL_RATE       paced writer, lines/s (latency phase)              (default 2000)
#   TAIL_SECONDS    paced phase, s                                        (default 5)
#   TAIL_MIB        flat-out phase: corpus appended at once, MiB         (default 128)
#   IDLE_FILES      watched-file counts                        (default "1000 10000")
#   IDLE_SECONDS    idle window over which CPU is measured, s            (default 20)
#   SETTLE_SECONDS  wait after startup (all files mirrored) before it, s  (default 5)
#   NOFILE          hard open-files limit the daemons run under       (default 65536)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
lw_default=$repo_root/target/release/logwarden
LOGWARDEN=${LOGWARDEN:-$lw_default}
SUITE_PARTS=${SUITE_PARTS:-redact compress loss tail newfile idle}
NEWFILE_COUNT=${NEWFILE_COUNT:-30}
REDACT_MIB=${REDACT_MIB:-64}
COMPRESS_MIB=${COMPRESS_MIB:-128}
LOSS_SECONDS=${LOSS_SECONDS:-3}
ROTATE_AFTER=${ROTATE_AFTER:-1}
TAIL_RATE=${TAIL_RATE:-2000}
TAIL_SECONDS=${TAIL_SECONDS:-5}
TAIL_MIB=${TAIL_MIB:-128}
IDLE_FILES=${IDLE_FILES:-1000 10000}
IDLE_SECONDS=${IDLE_SECONDS:-20}
SETTLE_SECONDS=${SETTLE_SECONDS:-5}
NOFILE=${NOFILE:-65536}

log() { printf '[suite] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in REDACT_MIB COMPRESS_MIB LOSS_SECONDS ROTATE_AFTER TAIL_RATE TAIL_SECONDS \
    TAIL_MIB IDLE_SECONDS SETTLE_SECONDS NOFILE; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
for n in $IDLE_FILES; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "IDLE_FILES must be positive integers, got '$IDLE_FILES'"
done
for p in $SUITE_PARTS; do
    [[ $p =~ ^(redact|compress|loss|tail|newfile|idle)$ ]] || die "unknown part '$p' in SUITE_PARTS"
done
want() { [[ " $SUITE_PARTS " == *" $1 "* ]]; }

# --- tools ---------------------------------------------------------------------
find_rsyslogd() {
    command -v rsyslogd 2>/dev/null ||
        { [[ -x /usr/sbin/rsyslogd ]] && echo /usr/sbin/rsyslogd; } || true
}
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v logrotate >/dev/null || missing+=(logrotate)
command -v pigz >/dev/null || missing+=(pigz)
command -v gzip >/dev/null || missing+=(gzip)
command -v prlimit >/dev/null || missing+=(util-linux)
[[ -x /usr/bin/time ]] || missing+=(time) # GNU time, not the shell keyword
[[ -n $(find_rsyslogd) ]] || missing+=(rsyslog)
if ((${#missing[@]})); then
    if ((EUID == 0)) && command -v apt-get >/dev/null; then
        log "installing ${missing[*]}"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
            log "apt-get install failed; the parts needing ${missing[*]} may fail"
    else
        log "missing packages (${missing[*]}); install them or run as root"
    fi
fi
command -v python3 >/dev/null || die "python3 is needed"
command -v prlimit >/dev/null || die "prlimit (util-linux) is needed"
RSYSLOGD=$(find_rsyslogd)
rs_skip=
[[ -n $RSYSLOGD ]] || rs_skip="rsyslogd not installed"
clk_tck=$(getconf CLK_TCK)

# --- logwarden binary ------------------------------------------------------------
if [[ ! -x $LOGWARDEN && $LOGWARDEN == "$lw_default" ]]; then
    command -v cargo >/dev/null || die "$LOGWARDEN missing and cargo not found"
    log "$LOGWARDEN missing: cargo build --release --locked"
    (cd "$repo_root" && cargo build --release --locked >&2)
fi
[[ -x $LOGWARDEN ]] || die "no executable $LOGWARDEN (set LOGWARDEN=/path/to/logwarden)"
LOGWARDEN=$(realpath "$LOGWARDEN")

# The daemons run under NOFILE as the hard limit (logwarden raises its soft
# limit to the hard one itself, so it starts at 1024 to show it does).
if ! prlimit --nofile="1024:$NOFILE" true 2>/dev/null; then
    log "cannot raise the hard open-files limit to $NOFILE (no CAP_SYS_RESOURCE?): using $(ulimit -Hn)"
    NOFILE=$(ulimit -Hn)
fi

# --- work dir, processes ---------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/logwarden-suite.XXXXXX")
pids=() # daemons started here, stopped on exit
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C / kill as well
log "work dir: $work"
started_at=$SECONDS

# --- helpers ---------------------------------------------------------------------
# kv FILE KEY : the value of KEY=... in FILE (key=value lines), or empty.
kv() { awk -v k="$2" 'index($0, k "=") == 1 { v = substr($0, length(k) + 2) } END { print v }' "$1"; }

# calc PROGRAM [VAR=VALUE...] : run an awk BEGIN block with these variables.
calc() {
    local e=$1 a args=()
    shift
    for a in "$@"; do args+=(-v "$a"); done
    awk "${args[@]}" "BEGIN { $e }"
}

# ratio LW PEER [DECIMALS] : LW/PEER as "1.23x", or why there is none.
ratio() {
    [[ -n $1 && -n $2 ]] || { echo "n/a"; return 0; }
    calc 'if (b > 0) printf "%." d "fx", a / b; else if (a == 0) print "n/a (both 0)"; else print "n/a (peer 0)"' \
        a="$1" b="$2" d="${3:-2}"
}

rows=$work/rows.tsv
: >"$rows"
# row MEASURE LW_CELL PEER PEER_CELL RATIO BETTER : one line of the table.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }

procfs=/proc
# cpu_ticks PID : utime + stime (all threads, exited ones too) in clock ticks.
cpu_ticks() {
    local s f
    s=$(<"$procfs/$1/stat")
    s=${s##*) } # after the command name, which may hold spaces
    read -ra f <<<"$s"
    echo $((f[11] + f[12]))
}
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "$procfs/$1/status"; }
mib() { calc 'printf "%.1f", k / 1024' k="$1"; }

# start_daemon LOG SOFT CMD... : CMD in the background under
# prlimit --nofile=SOFT:NOFILE, output to LOG; sets daemon_pid.
daemon_pid=
start_daemon() {
    local out=$1 soft=$2
    shift 2
    prlimit --nofile="$soft:$NOFILE" -- "$@" </dev/null >"$out" 2>&1 &
    daemon_pid=$!
    pids+=("$daemon_pid")
}

# stop_daemon PID : SIGTERM, wait up to 30 s, then SIGKILL.
stop_daemon() {
    local i
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        log "pid $1 did not stop within 30 s of SIGTERM: SIGKILL"
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
    local p keep=()
    for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    pids=("${keep[@]}")
}

# alive PID LOG : whether PID still runs; if not, show the end of LOG.
alive() {
    kill -0 "$1" 2>/dev/null && return 0
    log "pid $1 exited early; its output:"
    tail -n 20 "$2" | sed 's/^/[suite]   /' >&2
    return 1
}

# lw_conf STATE_DIR DIR OUTPUT_DIR : a mirror-mode config for DIR/*.log, no
# cut during the run.
lw_conf() {
    cat <<EOF
state_dir = "$1"
log_level = "warn"

[defaults]
schedule = "daily"
mode = "mirror"

[[source]]
name = "bench"
dir = "$2"
include = ["*.log"]
mode = "mirror"
output_dir = "$3"
EOF
}

# rs_conf WORK_DIR GLOB OUT OWN_LOG : rsyslogd reading GLOB with imfile
# (inotify mode, the input settings of config/shippers/rsyslog-logwarden.conf)
# and writing each line as is (%msg%) to OUT; its own messages go to OWN_LOG.
rs_conf() {
    cat <<EOF
global(workDirectory="$1" maxMessageSize="128k" processInternalMessages="on")
module(load="imfile" mode="inotify")
template(name="bench_line" type="string" string="%msg%\\n")
ruleset(name="bench") {
    action(type="omfile" file="$3" template="bench_line")
}
input(type="imfile" File="$2" Tag="bench" Ruleset="bench" addMetadata="on"
      freshStartTail="off" reopenOnTruncate="on" persistStateAfterSubmission="on")
*.* action(type="omfile" file="$4")
EOF
}

# warnings WHO FILE... : show the first warnings or errors a daemon logged.
warnings() {
    local who=$1
    shift
    local hits
    hits=$(cat -- "$@" 2>/dev/null | grep -iE 'warn|error' | head -n 5) || true
    [[ -z $hits ]] || { log "$who logged:"; printf '%s\n' "$hits" | sed 's/^/[suite]   /' >&2; }
}

# lw_check CONF : `logwarden check`, quietly unless it fails.
lw_check() {
    local out
    out=$("$LOGWARDEN" check -c "$1" 2>&1) && return 0
    printf '%s\n' "$out" | sed 's/^/[suite] logwarden check: /' >&2
    return 1
}

# rs_check CONF : `rsyslogd -N1`, quietly unless it fails.
rs_check() {
    local out
    out=$("$RSYSLOGD" -N1 -f "$1" 2>&1) && return 0
    printf '%s\n' "$out" | sed 's/^/[suite] rsyslogd -N1: /' >&2
    return 1
}

# --- part: redaction ---------------------------------------------------------------
part_redact() {
    log "redaction: ${REDACT_MIB} MiB corpus, logwarden redact vs sed -E vs cat (bench/redact.sh)"
    local d=$work/redact
    mkdir -p "$d/logs"
    lw_conf "$d/state" "$d/logs" "$d/mirror" >"$d/lw.toml"
    python3 "$here/gen-corpus.py" "$d/corpus.log" "$REDACT_MIB"
    local measure="redaction throughput, MB/s (${REDACT_MIB} MiB corpus, best of 3)"
    if ! BENCH_FORMAT=kv LOGWARDEN=$LOGWARDEN CONFIG=$d/lw.toml \
        bash "$here/redact.sh" "$d/corpus.log" >"$d/kv"; then
        row "$measure" "failed (see stderr)" "sed -E / cat" "" "n/a" higher
        rm -rf -- "$d"
        return 0
    fi
    local bytes planted s_lw s_sed s_cat lw sed cat
    bytes=$(kv "$d/kv" redact.bytes)
    planted=$(kv "$d/kv" redact.planted)
    s_lw=$(kv "$d/kv" redact.logwarden.seconds)
    s_sed=$(kv "$d/kv" redact.sed.seconds)
    s_cat=$(kv "$d/kv" redact.cat.seconds)
    lw=$(calc 'printf "%.0f", n / s / 1e6' n="$bytes" s="$s_lw")
    sed=$(calc 'printf "%.0f", n / s / 1e6' n="$bytes" s="$s_sed")
    cat=$(calc 'printf "%.0f", n / s / 1e6' n="$bytes" s="$s_cat")
    row "$measure" "$lw" "sed -E, default keys" "$sed" "$(ratio "$lw" "$sed")" higher
    row "$measure" "$lw" "cat (the pipe's limit)" "$cat" "$(ratio "$lw" "$cat")" higher
    local l_lw l_sed
    l_lw=$(kv "$d/kv" redact.logwarden.leaked)
    l_sed=$(kv "$d/kv" redact.sed.leaked)
    row "planted secrets leaked (of $planted)" "$l_lw" "sed -E, default keys" "$l_sed" \
        "$(ratio "$l_lw" "$l_sed")" lower
    rm -rf -- "$d"
}

# --- part: compression (rotate-compress.sh part 1) ------------------------------
part_compress() {
    log "compression: ${COMPRESS_MIB} MiB, bench/rotate-compress.sh part 1"
    local d=$work/compress
    mkdir -p "$d"
    if ! SIZE_MB=$COMPRESS_MIB PARTS=1 BENCH_FORMAT=kv LOGWARDEN=$LOGWARDEN \
        bash "$here/rotate-compress.sh" >"$d/kv"; then
        row "compression (rotate-compress.sh part 1)" "failed (see stderr)" "gzip -6" "" "n/a" higher
        return 0
    fi
    local in skip
    in=$(kv "$d/kv" compress.input_bytes)
    skip=$(kv "$d/kv" compress.lw_skip)
    if [[ -n $skip ]]; then
        row "compression (rotate-compress.sh part 1)" "skipped: $skip" "gzip -6" "" "n/a" higher
        return 0
    fi
    local id
    declare -A wall bytes rss check mbps
    for id in lw_rotate lw_rename logrotate gzip pigz; do
        wall[$id]=$(kv "$d/kv" "compress.$id.wall")
        bytes[$id]=$(kv "$d/kv" "compress.$id.bytes")
        rss[$id]=$(kv "$d/kv" "compress.$id.rss_kib")
        check[$id]=$(kv "$d/kv" "compress.$id.check")
        mbps[$id]=$(calc 'printf "%.0f", (w > 0 ? n / w / 1e6 : 0)' n="$in" w="${wall[$id]}")
    done
    # flag ID : what is wrong with tool ID's output, if its content check failed.
    flag() { [[ ${check[$1]} == ok ]] || printf ' (check: %s)' "${check[$1]}"; }
    local measure="cut + gzip throughput, MB/s of input (${COMPRESS_MIB} MiB; logwarden: rotate, strategy rename)"
    row "$measure" "${mbps[lw_rename]}$(flag lw_rename)" "gzip -6" "${mbps[gzip]}$(flag gzip)" \
        "$(ratio "${mbps[lw_rename]}" "${mbps[gzip]}")" higher
    row "$measure" "${mbps[lw_rename]}$(flag lw_rename)" "pigz -p2 -6" "${mbps[pigz]}$(flag pigz)" \
        "$(ratio "${mbps[lw_rename]}" "${mbps[pigz]}")" higher
    local lw_mb gz_mb
    lw_mb=$(calc 'printf "%.2f", b / 1e6' b="${bytes[lw_rename]}")
    gz_mb=$(calc 'printf "%.2f", b / 1e6' b="${bytes[gzip]}")
    row "archive size, MB" "$lw_mb" "gzip -6" "$gz_mb" \
        "$(ratio "${bytes[lw_rename]}" "${bytes[gzip]}" 3)" lower
    row "rotate copytruncate + gzip, wall s (${COMPRESS_MIB} MiB)" \
        "${wall[lw_rotate]}$(flag lw_rotate)" "logrotate -f (copytruncate, compress)" \
        "${wall[logrotate]}$(flag logrotate)" "$(ratio "${wall[lw_rotate]}" "${wall[logrotate]}")" lower
    row "rotate copytruncate + gzip, peak RSS MiB" "$(mib "${rss[lw_rotate]}")" \
        "logrotate -f (incl. its gzip child)" "$(mib "${rss[logrotate]}")" \
        "$(ratio "${rss[lw_rotate]}" "${rss[logrotate]}")" lower
    rm -rf -- "$d"
}

# --- part: line loss (rotate-compress.sh part 2) ---------------------------------
part_loss() {
    log "line loss: bench/rotate-compress.sh part 2 (${LOSS_SECONDS}s writer, cut at ${ROTATE_AFTER}s)"
    local d=$work/loss
    mkdir -p "$d"
    local measure="lines lost, copytruncate under a flat-out writer (${LOSS_SECONDS} s, cut at ${ROTATE_AFTER} s)"
    if ! SIZE_MB=1 PARTS=2 BENCH_FORMAT=kv LOGWARDEN=$LOGWARDEN LOSS_SECONDS=$LOSS_SECONDS \
        ROTATE_AFTER=$ROTATE_AFTER bash "$here/rotate-compress.sh" >"$d/kv"; then
        row "$measure" "failed (see stderr)" "logrotate copytruncate" "" "n/a" lower
        return 0
    fi
    local t skip
    skip=$(kv "$d/kv" loss.lw_skip)
    declare -A lost written bad cell
    for t in logwarden logrotate; do
        written[$t]=$(kv "$d/kv" "loss.$t.written")
        lost[$t]=$(kv "$d/kv" "loss.$t.lost")
        bad[$t]=$(calc 'print a + b' a="$(kv "$d/kv" "loss.$t.duplicated")" \
            b="$(kv "$d/kv" "loss.$t.corrupt")")
        if [[ -z ${written[$t]} ]]; then
            cell[$t]="not measured${skip:+: $skip}"
            lost[$t]='' bad[$t]=''
            continue
        fi
        cell[$t]="${lost[$t]} of ${written[$t]}"
        [[ $(kv "$d/kv" "loss.$t.exit") == 0 ]] || cell[$t]+=" (exit $(kv "$d/kv" "loss.$t.exit"))"
        [[ $(kv "$d/kv" "loss.$t.exercised") == yes ]] || cell[$t]+=" (cut after the writer stopped: not exercised)"
    done
    row "$measure" "${cell[logwarden]}" "logrotate copytruncate" "${cell[logrotate]}" \
        "$(ratio "${lost[logwarden]}" "${lost[logrotate]}")" lower
    row "lines duplicated or torn, same run" "${bad[logwarden]:-n/a}" "logrotate copytruncate" \
        "${bad[logrotate]:-n/a}" "$(ratio "${bad[logwarden]}" "${bad[logrotate]}")" lower
    rm -rf -- "$d"
}

# --- part: tail throughput and latency -------------------------------------------
# tail_run WHO : WHO (logwarden or rsyslog) tails DIR/logs/app.log while
# tailbench.py writes to it; key=value results in $work/tail-WHO.kv.
tail_run() {
    local who=$1 d=$work/tail-$1 out_dir
    mkdir -p "$d/logs" "$d/state" "$d/out" "$d/work"
    : >"$d/logs/app.log"
    case $who in
        logwarden)
            lw_conf "$d/state" "$d/logs" "$d/out" >"$d/conf"
            lw_check "$d/conf" || { echo "skip=logwarden check rejected the config" >"$d.kv"; return 0; }
            start_daemon "$d/daemon.log" 1024 "$LOGWARDEN" run -c "$d/conf" ;;
        rsyslog)
            rs_conf "$d/work" "$d/logs/*.log" "$d/out/app.log" "$d/own.log" >"$d/conf"
            rs_check "$d/conf" || { echo "skip=rsyslogd -N1 rejected the config" >"$d.kv"; return 0; }
            start_daemon "$d/daemon.log" "$NOFILE" "$RSYSLOGD" -n -f "$d/conf" -i "$d/rsyslogd.pid" ;;
    esac
    local pid=$daemon_pid cpu0
    out_dir=$d/out
    sleep 0.5
    alive "$pid" "$d/daemon.log" || { echo "skip=$who exited at start" >"$d.kv"; return 0; }
    cpu0=$(cpu_ticks "$pid")
    log "tail ($who): ${TAIL_RATE} lines/s for ${TAIL_SECONDS} s, then ${TAIL_MIB} MiB flat out"
    if ! python3 "$here/tailbench.py" run "$d/logs/app.log" "$out_dir" app.log \
        "$TAIL_RATE" "$TAIL_SECONDS" "$work/tail-corpus.log" 60 >"$d.kv"; then
        echo "skip=tailbench failed" >>"$d.kv"
    fi
    if alive "$pid" "$d/daemon.log"; then
        printf 'cpu_s=%s\npeak_rss_kib=%s\n' \
            "$(calc 'printf "%.2f", (b - a) / t' a="$cpu0" b="$(cpu_ticks "$pid")" t="$clk_tck")" \
            "$(hwm_kib "$pid")" >>"$d.kv"
    fi
    # Nothing may arrive twice: give it a moment, then count every line.
    sleep 1
    local final=0 leaked=0
    if [[ -e $out_dir/app.log ]]; then
        final=$(wc -l <"$out_dir/app.log")
        leaked=$(grep -c LEAKME "$out_dir/app.log" || true)
    fi
    printf 'final_lines=%s\nleaked=%s\n' "$final" "$leaked" >>"$d.kv"
    warnings "$who" "$d/daemon.log" "$d/own.log"
    log "tail ($who): $(kv "$d.kv" lines) of $(kv "$d.kv" expected) lines seen, $final in the output" \
        "after 1 s; flat out $(kv "$d.kv" flat_mbps) MB/s; latency p50 $(kv "$d.kv" lat_p50_ms) ms," \
        "p99 $(kv "$d.kv" lat_p99_ms) ms (paced at $(kv "$d.kv" paced_rate) lines/s)"
    stop_daemon "$pid"
    rm -rf -- "$d"
}

part_tail() {
    log "tail: generating the ${TAIL_MIB} MiB flat-out corpus"
    python3 "$here/gen-corpus.py" "$work/tail-corpus.log" "$TAIL_MIB"
    tail_run logwarden
    if [[ -n $rs_skip ]]; then
        echo "skip=$rs_skip" >"$work/tail-rsyslog.kv"
    else
        tail_run rsyslog
    fi
    local lw=$work/tail-logwarden.kv rs=$work/tail-rsyslog.kv
    local peer="rsyslogd $rs_version imfile -> omfile"
    # cell FILE KEY : the figure, or why there is none.
    cell() {
        local skip v
        skip=$(kv "$1" skip)
        v=$(kv "$1" "$2")
        if [[ -n $skip ]]; then echo "not measured: $skip"
        elif [[ -n $v ]]; then echo "$v"
        elif [[ $(kv "$1" complete) != yes ]]; then
            echo "incomplete: $(kv "$1" lines) of $(kv "$1" expected) lines in 60 s"
        else echo "n/a"; fi
    }
    # num FILE KEY : the figure, or empty.
    num() { if [[ -z $(kv "$1" skip) ]]; then kv "$1" "$2"; fi; }
    # exactness: every line once (the final count equals what was written)
    exact() {
        local f e
        f=$(kv "$1" final_lines) e=$(kv "$1" expected)
        [[ -z $f || -z $e || $f == "$e" ]] || printf ' (%s lines for %s written)' "$f" "$e"
    }
    local lines
    lines=$(kv "$lw" corpus_lines)
    [[ -n $lines ]] || lines=$(kv "$rs" corpus_lines)
    row "tail flat out, MB/s of input until all is in the output (${TAIL_MIB} MiB, ${lines} lines)" \
        "$(cell "$lw" flat_mbps)$(exact "$lw")" "$peer" "$(cell "$rs" flat_mbps)$(exact "$rs")" \
        "$(ratio "$(num "$lw" flat_mbps)" "$(num "$rs" flat_mbps)")" higher
    row "tail flat out, k lines/s" "$(cell "$lw" flat_klps)" "$peer" "$(cell "$rs" flat_klps)" \
        "$(ratio "$(num "$lw" flat_klps)" "$(num "$rs" flat_klps)")" higher
    local p
    for p in p50 p99 max; do
        row "write -> output latency $p, ms (${TAIL_RATE} lines/s for ${TAIL_SECONDS} s)" \
            "$(cell "$lw" "lat_${p}_ms")" "$peer" "$(cell "$rs" "lat_${p}_ms")" \
            "$(ratio "$(num "$lw" "lat_${p}_ms")" "$(num "$rs" "lat_${p}_ms")")" lower
    done
    row "daemon CPU over the whole tail run, s" "$(cell "$lw" cpu_s)" "$peer" "$(cell "$rs" cpu_s)" \
        "$(ratio "$(num "$lw" cpu_s)" "$(num "$rs" cpu_s)")" lower
    # rss_cell FILE : peak RSS in MiB, or why there is none.
    rss_cell() {
        local k
        k=$(num "$1" peak_rss_kib)
        if [[ -n $k ]]; then mib "$k"; else cell "$1" peak_rss_kib; fi
    }
    row "daemon peak RSS over the tail run, MiB" "$(rss_cell "$lw")" "$peer" "$(rss_cell "$rs")" \
        "$(ratio "$(num "$lw" peak_rss_kib)" "$(num "$rs" peak_rss_kib)")" lower
    row "planted secrets in the output (of $(grep -c LEAKME "$work/tail-corpus.log" || true) + ${TAIL_RATE}x${TAIL_SECONDS} paced)" \
        "$(cell "$lw" leaked)" "$peer (no redaction)" "$(cell "$rs" leaked)" \
        "$(ratio "$(num "$lw" leaked)" "$(num "$rs" leaked)")" lower
    rm -f -- "$work/tail-corpus.log"
}

# --- part: a new file's first line ------------------------------------------------
# newfile_run WHO : WHO watches DIR/*.log while newfile.py creates files in
# it; key=value results in $work/newfile-WHO.kv.
newfile_run() {
    local who=$1 d=$work/newfile-$1 out_name
    mkdir -p "$d/logs" "$d/state" "$d/out" "$d/work"
    case $who in
        logwarden)
            out_name=-
            lw_conf "$d/state" "$d/logs" "$d/out" >"$d/conf"
            lw_check "$d/conf" || { echo "skip=logwarden check rejected the config" >"$d.kv"; return 0; }
            start_daemon "$d/daemon.log" 1024 "$LOGWARDEN" run -c "$d/conf" ;;
        rsyslog)
            out_name=all.log
            rs_conf "$d/work" "$d/logs/*.log" "$d/out/all.log" "$d/own.log" >"$d/conf"
            rs_check "$d/conf" || { echo "skip=rsyslogd -N1 rejected the config" >"$d.kv"; return 0; }
            start_daemon "$d/daemon.log" "$NOFILE" "$RSYSLOGD" -n -f "$d/conf" -i "$d/rsyslogd.pid" ;;
    esac
    local pid=$daemon_pid
    sleep 0.5
    alive "$pid" "$d/daemon.log" || { echo "skip=$who exited at start" >"$d.kv"; return 0; }
    log "newfile ($who): $NEWFILE_COUNT new files, one line each, 200 ms apart"
    python3 "$here/newfile.py" "$d/logs" "$d/out" "$out_name" "$NEWFILE_COUNT" 0.2 >"$d.kv" ||
        echo "skip=newfile.py failed" >>"$d.kv"
    warnings "$who" "$d/daemon.log" "$d/own.log"
    stop_daemon "$pid"
    rm -rf -- "$d"
}

part_newfile() {
    newfile_run logwarden
    if [[ -n $rs_skip ]]; then
        echo "skip=$rs_skip" >"$work/newfile-rsyslog.kv"
    else
        newfile_run rsyslog
    fi
    local lw=$work/newfile-logwarden.kv rs=$work/newfile-rsyslog.kv p
    local peer="rsyslogd $rs_version imfile (inotify)"
    # nf FILE KEY : the figure (with the count of files never seen), or why there is none.
    nf() {
        local skip miss
        skip=$(kv "$1" skip) miss=$(kv "$1" missing)
        if [[ -n $skip ]]; then echo "not measured: $skip"; return; fi
        printf '%s' "$(kv "$1" "$2")"
        [[ ${miss:-0} == 0 ]] || printf ' (%s of %s never arrived)' "$miss" "$(kv "$1" files)"
        echo
    }
    nn() { if [[ -z $(kv "$1" skip) ]]; then kv "$1" "$2"; fi; }
    for p in p50 p99 max; do
        row "new file: first write -> line in the output $p, ms ($NEWFILE_COUNT files)" \
            "$(nf "$lw" "new_${p}_ms")" "$peer" "$(nf "$rs" "new_${p}_ms")" \
            "$(ratio "$(nn "$lw" "new_${p}_ms")" "$(nn "$rs" "new_${p}_ms")")" lower
    done
}

# --- part: idle RSS and CPU with many files -------------------------------------
# idle_run WHO N : WHO watches N files of one line each; sets startup_s,
# cpu_ms, rss_kib, fds, and idle_note if not every file reached the output
# (idle_skip if nothing could be measured).
idle_run() {
    local who=$1 n=$2 d=$work/idle-$1-$2
    mkdir -p "$d/logs" "$d/state" "$d/out" "$d/work"
    startup_s='' cpu_ms='' rss_kib='' fds='' idle_skip='' idle_note=''
    python3 - "$d/logs" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, "f%05d.log" % i), "w") as f:
        f.write("2026-12-06T10:00:00Z INFO idle file %d password=LEAKME%d\n" % (i, i))
PY
    case $who in
        logwarden)
            lw_conf "$d/state" "$d/logs" "$d/out" >"$d/conf"
            lw_check "$d/conf" || { idle_skip="logwarden check rejected the config"; return 0; }
            start_daemon "$d/daemon.log" 1024 "$LOGWARDEN" run -c "$d/conf" ;;
        rsyslog)
            rs_conf "$d/work" "$d/logs/*.log" "$d/out/all.log" "$d/own.log" >"$d/conf"
            rs_check "$d/conf" || { idle_skip="rsyslogd -N1 rejected the config"; return 0; }
            start_daemon "$d/daemon.log" "$NOFILE" "$RSYSLOGD" -n -f "$d/conf" -i "$d/rsyslogd.pid" ;;
    esac
    # Started when every file's line is in the output; given up on when the
    # count stalls for 20 s (the idle figures are then still taken, flagged).
    local pid=$daemon_pid t0=$EPOCHREALTIME got=0 last=-1 stalled=$SECONDS
    while :; do
        if ! alive "$pid" "$d/daemon.log"; then idle_skip="$who exited"; return 0; fi
        case $who in
            logwarden) got=$(find "$d/out" -type f -size +0c | wc -l) ;;
            rsyslog) got=0; [[ ! -e $d/out/all.log ]] || got=$(wc -l <"$d/out/all.log") ;;
        esac
        ((got < n)) || break
        ((got == last)) || { last=$got; stalled=$SECONDS; }
        if ((SECONDS - stalled > 20)); then
            idle_note="only $got of $n files in the output"
            if cat "$d/daemon.log" "$d/own.log" 2>/dev/null | grep -q 'Too many open files'; then
                idle_note+=", EMFILE at the $NOFILE open-files limit"
            fi
            log "idle ($who, $n files): $idle_note"
            break
        fi
        sleep 0.2
    done
    [[ -n $idle_note ]] || startup_s=$(calc 'printf "%.1f", b - a' a="$t0" b="$EPOCHREALTIME")
    sleep "$SETTLE_SECONDS"
    local c0 c1
    c0=$(cpu_ticks "$pid")
    sleep "$IDLE_SECONDS"
    c1=$(cpu_ticks "$pid")
    cpu_ms=$(((c1 - c0) * 1000 / clk_tck))
    rss_kib=$(hwm_kib "$pid")
    fds=$(find "$procfs/$pid/fd" -mindepth 1 | wc -l)
    warnings "$who" "$d/daemon.log" "$d/own.log"
    log "idle ($who, $n files): started in ${startup_s:-n/a} s, ${cpu_ms} ms CPU over ${IDLE_SECONDS} s, VmHWM $rss_kib KiB, $fds fds"
    stop_daemon "$pid"
    rm -rf -- "$d"
}

part_idle() {
    local n peer="rsyslogd $rs_version imfile -> omfile"
    for n in $IDLE_FILES; do
        log "idle: $n watched files (mirror mode, one line each)"
        idle_run logwarden "$n"
        local l_start=$startup_s l_cpu=$cpu_ms l_rss=$rss_kib l_skip=$idle_skip l_note=$idle_note
        if [[ -n $rs_skip ]]; then
            startup_s='' cpu_ms='' rss_kib='' idle_skip=$rs_skip idle_note=''
        else
            idle_run rsyslog "$n"
        fi
        local r_start=$startup_s r_cpu=$cpu_ms r_rss=$rss_kib r_skip=$idle_skip r_note=$idle_note
        # show FIGURE SKIP NOTE : the cell.
        show() {
            if [[ -n $2 ]]; then echo "not measured: $2"
            elif [[ -n $3 ]]; then echo "${1:-n/a} ($3)"
            else echo "$1"; fi
        }
        # A ratio only where both sides watched every file.
        both() { if [[ -z $l_note$r_note ]]; then ratio "$@"; else echo "n/a"; fi; }
        row "peak RSS (VmHWM), MiB, $n files" "$(show "$(mib "${l_rss:-0}")" "$l_skip" "$l_note")" "$peer" \
            "$(show "$(mib "${r_rss:-0}")" "$r_skip" "$r_note")" "$(both "$l_rss" "$r_rss")" lower
        row "idle CPU (utime+stime) over ${IDLE_SECONDS} s, ms, $n files" \
            "$(show "$l_cpu" "$l_skip" "$l_note")" "$peer" "$(show "$r_cpu" "$r_skip" "$r_note")" \
            "$(both "$l_cpu" "$r_cpu")" lower
        row "startup until every file is in the output, s, $n files" \
            "$(show "$l_start" "$l_skip" "$l_note")" "$peer" "$(show "$r_start" "$r_skip" "$r_note")" \
            "$(both "$l_start" "$r_start")" lower
    done
}

# --- run ---------------------------------------------------------------------------
rs_version=
[[ -n $rs_skip ]] || rs_version=$("$RSYSLOGD" -v 2>/dev/null | awk 'NR == 1 { print $2 }')
lw_version=$("$LOGWARDEN" --version 2>/dev/null | awk '{ print $NF }')
rev=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo_root" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    rev+=" + uncommitted changes in src/"
fi

want redact && part_redact
want compress && part_compress
want loss && part_loss
want tail && part_tail
want newfile && part_newfile
want idle && part_idle

elapsed=$((SECONDS - started_at))
log "done in ${elapsed} s"

echo "logwarden ${lw_version:-?} ($rev) vs peers; $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ), ${elapsed} s"
awk -F'\t' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
    END {
        split("measure|logwarden|peer|peer figure|ratio logwarden/peer|better", h, "|")
        for (i = 1; i <= 6; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
        line = "|"; sep = "|"
        for (i = 1; i <= 6; i++) {
            line = line sprintf(" %-" w[i] "s |", h[i])
            sep = sep dashes(w[i] + 2) "|"
        }
        print line; print sep
        for (r = 1; r <= NR; r++) {
            line = "|"
            for (i = 1; i <= 6; i++) line = line sprintf(" %-" w[i] "s |", cell[r, i])
            print line
        }
    }
    function dashes(n,   s) { s = ""; while (n-- > 0) s = s "-"; return s }
' "$rows"
echo "(ratio = logwarden's figure / the peer's; 'better' says whether higher or lower favours logwarden)"
