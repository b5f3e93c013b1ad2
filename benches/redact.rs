//! Throughput of `Redactor::redact` on a mixed, trading-style corpus: 60%
//! nested JSON request logs, 40% key=value text lines, ~5% with a secret.
//! Criterion reports bytes/s (MB/s).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logwarden::config::{Mask, Redact};
use logwarden::redact::{Counts, Redactor, DEFAULT_KEYS};

/// A small deterministic PRNG (xorshift64*), so the corpus is the same on
/// every run without extra dependencies.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const SYMBOLS: &[&str] = &["AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOG", "JPM", "XOM"];
const PATHS: &[&str] = &[
    "/v1/orders",
    "/v1/orders/cancel",
    "/v1/fills",
    "/v1/positions",
    "/healthz",
];
const VENUES: &[&str] = &["XNAS", "XNYS", "ARCX", "BATS", "IEXG"];
const KEYS: &[&str] = &[
    "password",
    "token",
    "api_key",
    "apiKey",
    "X-Api-Key",
    "db_password",
    "secret",
];

fn corpus(bytes: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut lines = Vec::new();
    let mut total = 0;
    let mut i = 0u64;
    while total < bytes {
        i += 1;
        let secret = rng.below(100) < 5;
        let sec = format!("LEAKME{:016x}", rng.next());
        let line = if rng.below(100) < 60 {
            let extra = if secret {
                match rng.below(3) {
                    0 => format!(",\"{}\":\"{sec}\"", rng.pick(KEYS)),
                    1 => format!(",\"headers\":{{\"Authorization\":\"Bearer {sec}\"}}"),
                    _ => format!(",\"note\":\"login {}={sec}\"", rng.pick(KEYS)),
                }
            } else {
                String::new()
            };
            format!(
                "{{\"ts\":\"2024-05-{:02}T10:{:02}:{:02}.{:06}Z\",\"level\":\"info\",\"svc\":\"order-gw\",\
                 \"trace_id\":\"{:016x}{:016x}\",\"http\":{{\"method\":\"POST\",\"path\":\"{}\",\"status\":{},\
                 \"latency_ms\":{}.{:03},\"client\":{{\"ip\":\"10.0.{}.{}\",\"ua\":\"fix-bridge/2.{}\"}}}},\
                 \"order\":{{\"id\":\"ord-{}\",\"symbol\":\"{}\",\"side\":\"buy\",\"qty\":{},\"px\":{}.{:02},\
                 \"venue\":\"{}\",\"fills\":[{{\"qty\":{},\"px\":{}.5}}]}},\"msg\":\"order routed\"{extra}}}",
                1 + i % 28,
                i % 60,
                (i * 7) % 60,
                rng.below(1_000_000),
                rng.next(),
                rng.next(),
                rng.pick(PATHS),
                [200, 201, 400, 429][rng.below(4) as usize],
                rng.below(40),
                rng.below(1000),
                rng.below(256),
                rng.below(256),
                rng.below(20),
                rng.below(1_000_000_000),
                rng.pick(SYMBOLS),
                1 + rng.below(5000),
                10 + rng.below(900),
                rng.below(100),
                rng.pick(VENUES),
                1 + rng.below(500),
                10 + rng.below(900),
            )
        } else {
            let extra = if secret {
                match rng.below(3) {
                    0 => format!(" {}={sec}", rng.pick(KEYS)),
                    1 => format!(" url=https://h/x?a=1&access_token={sec}&b=2"),
                    _ => format!(" Authorization: Bearer {sec}"),
                }
            } else {
                String::new()
            };
            format!(
                "2024-05-{:02}T10:{:02}:{:02}.{:06}Z INFO risk-engine evt=exposure account=ACC{:06} \
                 symbol={} qty={} px={}.{:02} notional={}.{:02} venue={} session={:08x} note=\"ok\"{extra}",
                1 + i % 28,
                i % 60,
                (i * 7) % 60,
                rng.below(1_000_000),
                rng.below(1_000_000),
                rng.pick(SYMBOLS),
                1 + rng.below(10_000),
                10 + rng.below(900),
                rng.below(100),
                rng.below(10_000_000),
                rng.below(100),
                rng.pick(VENUES),
                rng.next() as u32,
            )
        };
        total += line.len() + 1;
        lines.push(line.into_bytes());
    }
    lines
}

fn bench(c: &mut Criterion) {
    let cfg = Redact {
        keys: DEFAULT_KEYS.iter().map(|s| s.to_string()).collect(),
        detectors: true,
        disable: Vec::new(),
        patterns: Vec::new(),
        mask: Mask::Text("[REDACTED]".into()),
        max_line_bytes: 65536,
    };
    let r = Redactor::new(&cfg, [0; 32]);
    let lines = corpus(16 << 20);
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut out = Vec::with_capacity(bytes + (1 << 20));
    let mut counts = Counts::default();
    for l in &lines {
        r.redact(l, &mut out, &mut counts);
    }
    assert!(!out.windows(6).any(|w| w == b"LEAKME"), "a secret leaked");
    eprintln!(
        "corpus: {} lines, {} bytes, {} redacted lines",
        counts.lines, bytes, counts.redacted_lines
    );
    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("mixed_corpus", |b| {
        b.iter(|| {
            let mut counts = Counts::default();
            out.clear();
            for l in &lines {
                r.redact(l, &mut out, &mut counts);
                out.push(b'\n');
            }
            counts.redacted_lines
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
