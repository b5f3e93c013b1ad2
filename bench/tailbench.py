#!/usr/bin/env python3
"""Tail throughput and write-to-mirror latency of a log tailer (logwarden's
mirror, rsyslog imfile + omfile ...), driven by bench/suite.sh.

usage:
  tailbench.py run LOG OUT_DIR OUT_NAME RATE SECONDS CORPUS TIMEOUT
  tailbench.py read OUT_DIR OUT_NAME EXPECTED TIMEOUT      (internal)

`run` expects the tailer to be running already, reading LOG (an existing,
empty file) and writing what it reads, line for line, to OUT_DIR/OUT_NAME.
It starts a reader on that output (its own process: inotify on OUT_DIR, plus
a 10 ms poll as a fallback), then, as the writer:

1. appends one warm-up line and waits until it is in the output (the tailer
   is watching);
2. paced: RATE lines/s for SECONDS, each line one write(2) on an O_APPEND
   descriptor carrying t_ns=<CLOCK_MONOTONIC ns> taken right before the
   write. The reader takes the clock after each read of the output; the
   difference, per line, is the write-to-output latency;
3. flat out: appends CORPUS in ~1 MiB writes cut at line ends, as fast as
   the page cache takes them. The throughput is CORPUS bytes (and lines)
   over the time from the first of these writes to the moment the reader
   has seen the last line.

Prints key=value lines on stdout. Both processes use CLOCK_MONOTONIC, which
is system-wide, so their timestamps compare directly.
"""
import ctypes
import json
import os
import select
import subprocess
import sys
import time

IN_MODIFY, IN_MOVED_TO, IN_CREATE = 0x2, 0x80, 0x100


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 1)) - 1))
    return sorted_vals[i]


def read(out_dir, name, expected, timeout):
    """Follow OUT_DIR/NAME from its first byte until it holds EXPECTED lines
    or nothing new arrived for TIMEOUT seconds. Prints one JSON object."""
    libc = ctypes.CDLL(None, use_errno=True)
    ino = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if ino < 0 or libc.inotify_add_watch(ino, out_dir.encode(),
                                         IN_MODIFY | IN_MOVED_TO | IN_CREATE) < 0:
        ino = -1  # poll only
    poller = select.poll()
    if ino >= 0:
        poller.register(ino, select.POLLIN)
    path = os.path.join(out_dir, name)
    fd, carry, lines, lats = None, b"", 0, []
    done_ns = None
    last_progress = time.monotonic()
    print("ready", flush=True)  # to the parent, on the pipe
    while True:
        poller.poll(10)
        if ino >= 0:
            try:
                while os.read(ino, 65536):
                    pass
            except BlockingIOError:
                pass
        if fd is None:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                pass
        got = False
        while fd is not None:
            chunk = os.read(fd, 4 << 20)
            if not chunk:
                break
            now = mono_ns()
            got = True
            data = carry + chunk
            end = data.rfind(b"\n") + 1
            carry = data[end:]
            whole = data[:end]
            n = whole.count(b"\n")
            if b"t_ns=" in whole:
                for line in whole.split(b"\n"):
                    p = line.find(b" t_ns=")
                    if p >= 0:
                        q = p + 6
                        r = q
                        while r < len(line) and 48 <= line[r] <= 57:
                            r += 1
                        if r > q:
                            lats.append(now - int(line[q:r]))
            lines += n
            if lines >= expected and done_ns is None:
                done_ns = now
        if got:
            last_progress = time.monotonic()
        if done_ns is not None:
            break
        if time.monotonic() - last_progress > timeout:
            break
    lats.sort()
    ms = lambda ns: round(ns / 1e6, 3)
    print(json.dumps({
        "lines": lines, "expected": expected, "done_ns": done_ns,
        "lat_n": len(lats),
        "lat_p50_ms": ms(percentile(lats, 0.50)) if lats else None,
        "lat_p99_ms": ms(percentile(lats, 0.99)) if lats else None,
        "lat_max_ms": ms(lats[-1]) if lats else None,
    }), flush=True)


def run(log, out_dir, name, rate, seconds, corpus, timeout):
    with open(corpus, "rb") as f:
        data = f.read()
    corpus_lines = data.count(b"\n")
    paced = int(rate * seconds)
    expected = 1 + paced + corpus_lines
    reader = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "read", out_dir, name,
         str(expected), str(timeout)], stdout=subprocess.PIPE)
    if reader.stdout.readline().strip() != b"ready":
        sys.exit("reader did not start")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    w = os.write

    # 1. warm-up: the tailer must be watching before anything is timed.
    w(fd, b"warm-up line, not timed\n")
    out = os.path.join(out_dir, name)
    deadline = time.monotonic() + timeout
    while not (os.path.exists(out) and os.path.getsize(out) > 0):
        if time.monotonic() > deadline:
            reader.kill()
            sys.exit("the warm-up line never reached %s" % out)
        time.sleep(0.01)

    # 2. paced, one write per line, t_ns taken right before the write.
    pad = b"x" * 60
    start = time.monotonic()
    for i in range(1, paced + 1):
        due = start + (i - 1) / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        w(fd, b"2026-12-06T10:00:00.000Z INFO [order-gw] seq=%d t_ns=%d "
              b"msg=\"order accepted\" user=ann password=LEAKME%08d pad=%s\n"
              % (i, mono_ns(), i, pad))
    paced_s = time.monotonic() - start
    time.sleep(0.5)  # let the paced lines drain before the flat-out phase

    # 3. flat out: ~1 MiB writes, each ending at a line end.
    t0 = mono_ns()
    pos = 0
    while pos < len(data):
        end = data.rfind(b"\n", pos, pos + (1 << 20)) + 1
        if end <= pos:
            end = data.find(b"\n", pos) + 1 or len(data)
        while pos < end:
            pos += w(fd, memoryview(data)[pos:end])
    t_written = mono_ns()
    os.close(fd)

    res = json.loads(reader.communicate()[0].splitlines()[-1])
    kv = {
        "paced_lines": paced,
        "paced_rate": round(paced / paced_s, 1) if paced_s > 0 else 0,
        "corpus_bytes": len(data),
        "corpus_lines": corpus_lines,
        "writer_s": round((t_written - t0) / 1e9, 4),
        "lines": res["lines"],
        "expected": expected,
        "complete": "yes" if res["done_ns"] is not None else "no",
        "lat_n": res["lat_n"],
        "lat_p50_ms": res["lat_p50_ms"],
        "lat_p99_ms": res["lat_p99_ms"],
        "lat_max_ms": res["lat_max_ms"],
    }
    if res["done_ns"] is not None:
        s = (res["done_ns"] - t0) / 1e9
        kv["flat_s"] = round(s, 4)
        kv["flat_mbps"] = round(len(data) / s / 1e6, 1)
        kv["flat_klps"] = round(corpus_lines / s / 1e3, 1)
    for k, v in kv.items():
        print("%s=%s" % (k, "" if v is None else v))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "run" and len(a) == 7:
        run(a[0], a[1], a[2], float(a[3]), float(a[4]), a[5], float(a[6]))
    elif cmd == "read" and len(a) == 4:
        read(a[0], a[1], int(a[2]), float(a[3]))
    else:
        sys.exit(__doc__)
