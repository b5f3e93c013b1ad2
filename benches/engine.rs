//! Criterion benches for the hot parts of the rotation engine.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logwarden::policy::archive;
use logwarden::policy::schedule::{Schedule, Zone};
use logwarden::rotation::rotate::{self, Choice, CutSpec, Strategy};
use logwarden::sys::safe_dir::SafeDir;

const SIZE: usize = 32 << 20;

fn log_text() -> Vec<u8> {
    let mut v = Vec::with_capacity(SIZE + 200);
    let mut i = 0u64;
    while v.len() < SIZE {
        writeln!(
            v,
            "2026-11-21T10:{:02}:{:02}.{:06}Z INFO order id={i} qty={} px={}.{:02} venue=X{} {{\"client\":\"c{}\"}}",
            i % 60,
            (i / 60) % 60,
            i % 1_000_000,
            (i * 7919) % 1000,
            (i * 31) % 500,
            i % 100,
            i % 4,
            i % 97
        )
        .unwrap();
        i += 1;
    }
    v
}

fn compress(c: &mut Criterion) {
    let data = log_text();
    let mut g = c.benchmark_group("compress");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("gzip 32 MiB (2 threads, level 6)", |b| {
        b.iter_batched(
            || {
                let t = tempfile::tempdir().unwrap();
                std::fs::write(t.path().join("a.log.2026-11-20"), &data).unwrap();
                t
            },
            |t| {
                let dir = SafeDir::open(t.path()).unwrap();
                let a = archive::parse_any("a.log.2026-11-20").unwrap();
                black_box(logwarden::rotation::compress::compress(&dir, &a, &mut |_| {}).unwrap());
                t
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn copy_truncate(c: &mut Criterion) {
    let data = log_text();
    let mut g = c.benchmark_group("rotate");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("copy-truncate 32 MiB", |b| {
        b.iter_batched(
            || {
                let t = tempfile::tempdir().unwrap();
                std::fs::write(t.path().join("a.log"), &data).unwrap();
                t
            },
            |t| {
                let dir = SafeDir::open(t.path()).unwrap();
                let meta = dir.stat("a.log").unwrap();
                let spec = CutSpec {
                    label: "2026-11-20",
                    choice: Choice {
                        strategy: Strategy::CopyTruncate,
                        reason: "bench".into(),
                    },
                    may_fall_back: false,
                    create: None,
                    reopen: None,
                };
                black_box(rotate::cut(&dir, "a.log", &meta, spec).unwrap());
                t
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn schedule(c: &mut Criterion) {
    let daily = Schedule::Daily {
        at: chrono::NaiveTime::MIN,
    };
    let ny = Zone::Named(chrono_tz::America::New_York);
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    c.bench_function("schedule: 365 daily cuts in New York", |b| {
        b.iter(|| {
            let mut t = start;
            for _ in 0..365 {
                t = daily.next_cut(ny, black_box(t));
            }
            t
        })
    });
}

criterion_group!(benches, compress, copy_truncate, schedule);
criterion_main!(benches);
