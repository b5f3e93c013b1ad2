#!/usr/bin/env python3
"""Latency from a NEW file's first write to that line in a tailer's output,
driven by bench/suite.sh (part `newfile`).

usage: newfile.py DIR OUT_DIR OUT_NAME COUNT GAP_S

The tailer must already watch DIR/*.log. COUNT times, GAP_S apart: create
DIR/new-<i>.log with one line carrying a token, then poll the output every
0.5 ms until the token is there. OUT_NAME `-` means the output is
OUT_DIR/new-<i>.log (logwarden's mirror keeps each file's name); otherwise
every line goes to OUT_DIR/OUT_NAME (rsyslog omfile). A file whose line has
not arrived after 10 s counts as missing. Prints key=value lines.
"""
import os
import sys
import time


def percentile(vals, p):
    if not vals:
        return float("nan")
    return vals[max(0, min(len(vals) - 1, int(-(-p * len(vals) // 1)) - 1))]


def main():
    d, out_dir, out_name, count, gap = sys.argv[1:6]
    count, gap = int(count), float(gap)
    lat, missing = [], 0
    for i in range(count):
        token = ("newfile-%06d-%d" % (i, os.getpid())).encode()
        out = os.path.join(out_dir, "new-%d.log" % i if out_name == "-" else out_name)
        t0 = time.monotonic()
        fd = os.open(os.path.join(d, "new-%d.log" % i), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(fd, b"first line of a new file " + token + b"\n")
        os.close(fd)
        seen = False
        while time.monotonic() - t0 < 10:
            try:
                with open(out, "rb") as f:
                    if token in f.read():
                        seen = True
                        break
            except FileNotFoundError:
                pass
            time.sleep(0.0005)
        if seen:
            lat.append((time.monotonic() - t0) * 1000)
        else:
            missing += 1
        time.sleep(gap)
    lat.sort()
    print("files=%d" % count)
    print("missing=%d" % missing)
    for p, name in ((0.5, "p50"), (0.99, "p99")):
        print("new_%s_ms=%.1f" % (name, percentile(lat, p)))
    print("new_max_ms=%.1f" % (lat[-1] if lat else float("nan")))


if __name__ == "__main__":
    main()
