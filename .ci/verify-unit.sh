#!/usr/bin/env bash
# Lint systemd/logwarden.service with `systemd-analyze verify`.
#
# Fails (exit 1) if systemd-analyze exits non-zero OR prints anything at all:
# verify reports unknown keys, bad values, etc. as warnings but still exits 0
# on some systemd versions, so "no output" is the only reliable pass criterion.
# Also fails on capability names systemd does not know (verify ignores those).
#
# Usage: .ci/verify-unit.sh [BINARY] [UNIT]
#   BINARY  executable standing in for /usr/bin/logwarden, which does not exist
#           on a CI machine (default: <repo>/target/debug/logwarden)
#   UNIT    unit file to check (default: systemd/logwarden.service)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$repo_root/target/debug/logwarden}
unit=${2:-$repo_root/systemd/logwarden.service}

if ! command -v systemd-analyze >/dev/null; then
    echo "verify-unit: installing systemd (for systemd-analyze)" >&2
    apt-get update -qq >&2
    apt-get install -y --no-install-recommends systemd >&2
fi

[[ -f $unit ]] || { echo "verify-unit: no such unit file: $unit" >&2; exit 1; }
if [[ ! -f $bin || ! -x $bin ]]; then
    echo "verify-unit: stand-in binary '$bin' is not an executable file (build it first, or pass one)" >&2
    exit 1
fi
bin=$(realpath -- "$bin")
# Escape it for use as a sed replacement (delimiter '#').
bin_sed=$(printf '%s' "$bin" | sed 's/[\\&#]/\\&/g')

# Resolved, because systemd-analyze prints canonical paths (filtered below).
work=$(realpath -- "$(mktemp -d)")
trap 'rm -rf -- "$work"' EXIT

# verify checks that every Exec*= command is executable on *this* host. The
# daemon is not installed here, so check a copy (same file name, hence same
# unit name) in which only the Exec*= program paths are pointed at the built
# binary. Every other line is checked exactly as written.
copy=$work/$(basename -- "$unit")
sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/usr/bin/logwarden([[:space:]]|\$)#\1$bin_sed\2#" "$unit" >"$copy"
# /bin/kill comes from procps, which minimal CI images may lack although
# systemd itself does not need it; every real host has it.
if [[ ! -x /bin/kill ]]; then
    echo "verify-unit: /bin/kill missing on this host; checking ExecReload= with $bin instead" >&2
    sed -Ei "s#^(ExecReload=[-@:+!]*)/bin/kill([[:space:]]|\$)#\1$bin_sed\2#" "$copy"
fi

opts=(
    # Documentation=man: pages belong to the installed package and are not on
    # the CI machine; a missing man page says nothing about the unit.
    --man=no
    # Generators describe the host (fstab, etc.), not this unit; as non-root
    # they also fail noisily.
    --generators=no
)
# systemd >= 250: check and report only the named unit, not the host's own
# units that it pulls in through default dependencies (sysinit.target and
# everything wanted by it), whose warnings are none of our business.
# With this mode a warning in our unit also makes the exit status non-zero.
help=$(systemd-analyze --help 2>&1 || true)
if [[ $help == *--recursive-errors=* ]]; then
    opts+=(--recursive-errors=no)
fi

rc=0
out=$(systemd-analyze verify "${opts[@]}" "$copy" 2>&1) || rc=$?

# Filter environment noise only, each pattern as narrow as possible:
#  1. "<path>:<line>: ..." parse warnings located in a unit file other than
#     our copy or a logwarden.service.d/ drop-in. These are the host's units,
#     loaded as dependencies on systemd < 250 (no --recursive-errors).
#  2. "Using systemd-executor binary from '...'": systemd v255 development
#     builds logged this on every invocation (systemd issue #30162).
name=$(basename -- "$unit")
filtered=$(printf '%s\n' "$out" | awk -v copy="$copy" -v dropin="/$name.d/" -v q="'" '
    $0 == "" { next }
    /^\/[^: ]+:[0-9]+: / {
        path = substr($0, 1, index($0, ":") - 1)
        if (path != copy && index(path, dropin) == 0) next
    }
    index($0, "Using systemd-executor binary from " q) == 1 && substr($0, length($0)) == q { next }
    { print }
')

# systemd drops capability names it does not know without a word (a typo like
# CAP_CHOWNN just vanishes from CapabilityBoundingSet=, and verify is silent),
# so check every CAP_* name against systemd's own table. `systemd-analyze
# capability` exists since systemd 247; older versions skip this check.
if known=$(systemd-analyze capability 2>/dev/null) && [[ -n $known ]]; then
    bad_caps=$(awk -v known="$known" -v file="$unit" '
        BEGIN { n = split(tolower(known), w, /[ \t\n]+/); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
        /^(CapabilityBoundingSet|AmbientCapabilities)=/ {
            v = substr($0, index($0, "=") + 1)
            sub(/^~/, "", v)
            n = split(v, caps, /[ \t]+/)
            for (i = 1; i <= n; i++)
                if (caps[i] != "" && !(tolower(caps[i]) in ok))
                    printf "%s:%d: Unknown capability %s (systemd ignores it silently)\n", file, NR, caps[i]
        }' "$unit")
    if [[ -n $bad_caps ]]; then filtered+=${filtered:+$'\n'}$bad_caps; fi
else
    echo "verify-unit: note: this systemd has no 'systemd-analyze capability'; capability names not checked" >&2
fi

if [[ -n $filtered ]]; then
    # Show the real file name rather than the temp copy.
    printf '%s\n' "$filtered" | awk -v from="$copy" -v to="$unit" '
        { while ((i = index($0, from)) > 0) $0 = substr($0, 1, i - 1) to substr($0, i + length(from)); print }' >&2
    echo "verify-unit: FAIL: systemd-analyze verify reported problems in $unit (exit status $rc)" >&2
    exit 1
fi
if ((rc != 0)); then
    # Non-zero exit with only filtered output: show everything, do not guess.
    printf '%s\n' "$out" >&2
    echo "verify-unit: FAIL: systemd-analyze verify exited with status $rc" >&2
    exit 1
fi
echo "verify-unit: OK: $unit ($(systemd-analyze --version | head -n1))" >&2
