#!/usr/bin/env python3
"""A log writer for the end-to-end tests: writes `count` sequence-numbered
lines to `path`, one write(2) per line, `delay` seconds apart.

mode: append    O_APPEND (what most loggers do)
      noappend  no O_APPEND: keeps its own offset, leaves a hole after a truncate
      flock     O_APPEND and an exclusive flock held for its whole life
With a pidfile it reopens its log on SIGHUP (a writer with a reopen hook).
With WRITER_SECRETS=1 in the environment every line also carries a planted
secret, `password=LEAK<seq>`, which must never reach a mirror."""
import fcntl, os, signal, sys, time

path, mode, count, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
pidfile = sys.argv[5] if len(sys.argv) > 5 else None
reopen = False
secrets = os.environ.get("WRITER_SECRETS") == "1"


def on_hup(*_):
    global reopen
    reopen = True


signal.signal(signal.SIGHUP, on_hup)


def open_log():
    flags = os.O_WRONLY | os.O_CREAT | (0 if mode == "noappend" else os.O_APPEND)
    fd = os.open(path, flags, 0o640)
    if mode == "noappend":
        os.lseek(fd, 0, os.SEEK_END)
    if mode == "flock":
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


fd = open_log()
if pidfile:
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(pidfile + ".tmp", pidfile)
print("ready", flush=True)
for i in range(count):
    if reopen:
        reopen = False
        os.close(fd)
        fd = open_log()
    if secrets:
        os.write(fd, b"seq=%08d password=LEAK%08d %s\n" % (i, i, b"x" * 20))
    else:
        os.write(fd, b"seq=%08d %s\n" % (i, b"x" * 40))
    if delay:
        time.sleep(delay)
os.close(fd)
# Like a real daemon, remove the pidfile on exit: a stale one could make a
# reopen hook signal whatever process gets this pid next (another test's
# writer that has not installed its SIGHUP handler yet would die of it).
if pidfile:
    try:
        os.remove(pidfile)
    except FileNotFoundError:
        pass
