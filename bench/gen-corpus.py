#!/usr/bin/env python3
"""Write a deterministic trading-style log corpus for the redaction benchmark.

usage: gen-corpus.py OUT SIZE_MIB [SEED]

About 60% of the lines are nested JSON request logs, 40% key=value text
lines; about 5% carry a secret. Every planted secret contains the marker
LEAKME, so `grep -c LEAKME` on a redacted output counts leaked lines.
"""
import json
import random
import sys

SYMBOLS = ["AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOG", "META", "JPM", "XOM", "BRK.B"]
VENUES = ["XNAS", "XNYS", "ARCX", "BATS", "IEXG"]
PATHS = ["/v1/orders", "/v1/orders/cancel", "/v1/fills", "/v1/positions", "/v1/quotes", "/healthz"]
LEVELS = ["info"] * 8 + ["debug", "warn"]
# Key spellings of the default keys, incl. ones sed's simple rules miss.
SECRET_KEYS = ["password", "token", "api_key", "secret", "access_token", "refresh_token",
               "apiKey", "X-Api-Key", "db_password", "private_key", "passwd"]


def secret(rnd):
    return "LEAKME" + "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                              for _ in range(20))


def ts(rnd, i):
    return "2024-05-%02dT%02d:%02d:%02d.%06dZ" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60,
                                                   rnd.randrange(1000000))


def json_line(rnd, i, with_secret):
    sym = rnd.choice(SYMBOLS)
    rec = {
        "ts": ts(rnd, i),
        "level": rnd.choice(LEVELS),
        "svc": "order-gw",
        "trace_id": "%032x" % rnd.getrandbits(128),
        "http": {"method": rnd.choice(["GET", "POST", "DELETE"]), "path": rnd.choice(PATHS),
                 "status": rnd.choice([200, 200, 200, 201, 400, 404, 429, 500]),
                 "latency_ms": round(rnd.uniform(0.1, 40.0), 3),
                 "client": {"ip": "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256),
                                                   rnd.randrange(256)),
                            "ua": "fix-bridge/2.%d" % rnd.randrange(20)}},
        "order": {"id": "ord-%d" % rnd.randrange(10 ** 9), "symbol": sym,
                  "side": rnd.choice(["buy", "sell"]), "qty": rnd.randrange(1, 5000),
                  "px": round(rnd.uniform(10, 900), 2), "tif": rnd.choice(["DAY", "IOC", "GTC"]),
                  "venue": rnd.choice(VENUES),
                  "fills": [{"qty": rnd.randrange(1, 500), "px": round(rnd.uniform(10, 900), 2)}
                            for _ in range(rnd.randrange(0, 3))]},
        "msg": rnd.choice(["order accepted", "order routed", "fill received", "quote stale",
                           "risk check passed", "position updated"]),
    }
    if with_secret:
        k = rnd.choice(SECRET_KEYS)
        where = rnd.randrange(4)
        if where == 0:
            rec[k] = secret(rnd)
        elif where == 1:
            rec["http"]["headers"] = {k: secret(rnd), "accept": "application/json"}
        elif where == 2:
            rec["http"]["headers"] = {"Authorization": "Bearer " + secret(rnd)}
        else:
            rec["msg"] = "login ok %s=%s" % (k, secret(rnd))
    return json.dumps(rec, separators=(",", ":") if rnd.random() < 0.7 else (", ", ": "))


def text_line(rnd, i, with_secret):
    sym = rnd.choice(SYMBOLS)
    parts = [ts(rnd, i), rnd.choice(LEVELS).upper(), "risk-engine",
             "evt=%s" % rnd.choice(["exposure", "margin", "limit_check", "heartbeat"]),
             "account=ACC%06d" % rnd.randrange(10 ** 6), "symbol=%s" % sym,
             "qty=%d" % rnd.randrange(1, 10000), "px=%.2f" % rnd.uniform(10, 900),
             "notional=%.2f" % rnd.uniform(1e3, 1e7), "venue=%s" % rnd.choice(VENUES),
             "session=%08x" % rnd.getrandbits(32), 'note="%s"' % rnd.choice(
                 ["within limits", "near limit", "recalculated", "ok"])]
    if with_secret:
        k = rnd.choice(SECRET_KEYS)
        form = rnd.randrange(4)
        if form == 0:
            parts.insert(rnd.randrange(3, len(parts)), "%s=%s" % (k, secret(rnd)))
        elif form == 1:
            parts.insert(rnd.randrange(3, len(parts)), "%s: %s" % (k, secret(rnd)))
        elif form == 2:
            parts.append("url=https://api.example/v1/x?a=1&%s=%s&b=2" % (k, secret(rnd)))
        else:
            parts.append("Authorization: Bearer %s" % secret(rnd))
    return " ".join(parts)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, size = sys.argv[1], int(float(sys.argv[2]) * 1024 * 1024)
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20240501)
    # Build a pool of distinct lines once, then write it over and over in a
    # seeded order: fast enough for GiB-sized corpora from pure Python.
    pool = []
    for i in range(20000):
        with_secret = rnd.random() < 0.05
        if rnd.random() < 0.6:
            pool.append(json_line(rnd, i, with_secret))
        else:
            pool.append(text_line(rnd, i, with_secret))
    written = 0
    with open(out, "wb") as f:
        while written < size:
            rnd.shuffle(pool)
            chunk = "\n".join(pool) + "\n"
            data = chunk.encode()
            if written + len(data) > size:
                cut = data.rfind(b"\n", 0, size - written)
                data = data[:cut + 1] if cut >= 0 else b""
                if not data:
                    break
            f.write(data)
            written += len(data)


if __name__ == "__main__":
    main()
