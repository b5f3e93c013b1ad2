//! The mirror pipeline end to end, against the real (release) binary:
//!
//! 1. load: writers append JSON request lines (each carrying its write time
//!    and a password) to 10 files at a target total rate (default 100 MB/s),
//!    readers poll the 10 mirrors and record, per line, the delay from the
//!    write to its appearance in the mirror; reports write-to-mirror lag
//!    (p50/p99/max), the daemon's CPU and peak RSS, and checks no secret
//!    reached a mirror;
//! 2. idle: 1,000 watched files nobody writes; reports the daemon's CPU over
//!    10 s (event-driven: it should be ~0).
//!
//! Run: `cargo bench --bench mirror_e2e` (MB_PER_S and SECONDS override the
//! load). Figures go to bench/RESULTS.md by hand.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_logwarden");
const FILES: usize = 10;

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn config(root: &Path, dirs: &[(&str, &Path)]) -> PathBuf {
    let mut text = format!(
        "state_dir = {:?}\n[defaults]\nschedule = \"daily\"\n",
        root.join("state")
    );
    for (name, dir) in dirs {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\ndir = {dir:?}\ninclude = [\"*.log\"]\noutput_dir = {:?}\n",
            root.join(format!("mirror-{name}"))
        ));
    }
    let p = root.join("logwarden.toml");
    std::fs::write(&p, text).expect("write config");
    p
}

fn start(cfg: &Path) -> Child {
    let child = Command::new(BIN)
        .args(["run", "-c"])
        .arg(cfg)
        .env("LOGWARDEN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start logwarden");
    std::thread::sleep(Duration::from_millis(800));
    child
}

/// (user+system CPU seconds, peak RSS KiB) of a process.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0; // USER_HZ
    let cpu = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (cpu / tick, hwm)
}

fn stop(mut child: Child) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn load(mb_per_s: f64, seconds: f64) {
    let root = tempfile::tempdir().expect("tempdir");
    let logs = root.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let cfg = config(root.path(), &[("load", &logs)]);
    for i in 0..FILES {
        std::fs::write(logs.join(format!("f{i}.log")), b"").expect("create");
    }
    let daemon = start(&cfg);
    let pid = daemon.id();
    let (cpu0, _) = usage(pid);
    let stop_flag = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let per_file = mb_per_s * 1e6 / FILES as f64;
    let pad = "x".repeat(120);
    let mut writers = Vec::new();
    for i in 0..FILES {
        let path = logs.join(format!("f{i}.log"));
        let written = Arc::clone(&written);
        let pad = pad.clone();
        writers.push(std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("open log");
            let start = Instant::now();
            let mut bytes = 0u64;
            let mut seq = 0u64;
            let mut buf = Vec::with_capacity(64 * 1024);
            while start.elapsed().as_secs_f64() < seconds {
                buf.clear();
                let ts = now_ns();
                for _ in 0..32 {
                    let _ = writeln!(
                        buf,
                        r#"{{"ts_ns":{ts},"seq":{seq},"user":"u{i}","password":"LEAK{seq}","pad":"{pad}"}}"#
                    );
                    seq += 1;
                }
                let _ = f.write_all(&buf);
                bytes += buf.len() as u64;
                // Pace to the target rate.
                let due = bytes as f64 / per_file;
                let el = start.elapsed().as_secs_f64();
                if due > el {
                    std::thread::sleep(Duration::from_secs_f64(due - el));
                }
            }
            written.fetch_add(bytes, Ordering::Relaxed);
            seq
        }));
    }
    let mut readers = Vec::new();
    for i in 0..FILES {
        let path = root.path().join("mirror-load").join(format!("f{i}.log"));
        let stop_flag = Arc::clone(&stop_flag);
        readers.push(std::thread::spawn(move || {
            let mut lags: Vec<u64> = Vec::new();
            let mut leaks = 0u64;
            let mut lines = 0u64;
            let mut off = 0u64;
            let mut carry: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut idle_since: Option<Instant> = None;
            loop {
                let n = std::fs::File::open(&path)
                    .and_then(|f| f.read_at(&mut buf, off))
                    .unwrap_or(0);
                if n == 0 {
                    if stop_flag.load(Ordering::Relaxed) {
                        let t = *idle_since.get_or_insert_with(Instant::now);
                        if t.elapsed() > Duration::from_secs(2) {
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_micros(500));
                    continue;
                }
                idle_since = None;
                let now = now_ns();
                off += n as u64;
                carry.extend_from_slice(&buf[..n]);
                let mut start = 0;
                while let Some(j) = memchr::memchr(b'\n', &carry[start..]) {
                    let line = &carry[start..start + j];
                    lines += 1;
                    if memchr::memmem::find(line, b"LEAK").is_some() {
                        leaks += 1;
                    }
                    if let Some(p) = memchr::memmem::find(line, b"\"ts_ns\":") {
                        let digits: Vec<u8> = line[p + 8..]
                            .iter()
                            .take_while(|b| b.is_ascii_digit())
                            .copied()
                            .collect();
                        if let Some(ts) = std::str::from_utf8(&digits)
                            .ok()
                            .and_then(|s| s.parse::<u64>().ok())
                        {
                            lags.push(now.saturating_sub(ts));
                        }
                    }
                    start += j + 1;
                }
                carry.drain(..start);
            }
            (lags, leaks, lines)
        }));
    }
    let mut total_lines = 0;
    for w in writers {
        total_lines += w.join().unwrap_or(0);
    }
    let (cpu1, hwm) = usage(pid);
    stop_flag.store(true, Ordering::Relaxed);
    let mut lags = Vec::new();
    let mut leaks = 0;
    let mut mirrored = 0;
    for r in readers {
        if let Ok((l, k, n)) = r.join() {
            lags.extend(l);
            leaks += k;
            mirrored += n;
        }
    }
    stop(daemon);
    lags.sort_unstable();
    let pct = |p: f64| {
        lags.get(((lags.len() as f64 * p) as usize).min(lags.len().saturating_sub(1)))
            .map_or(0.0, |v| *v as f64 / 1e6)
    };
    let mb = written.load(Ordering::Relaxed) as f64 / 1e6;
    println!(
        "load: {FILES} files, {mb:.0} MB in {seconds:.0} s ({:.0} MB/s offered)",
        mb / seconds
    );
    println!("  lines written {total_lines}, mirrored {mirrored}, secrets leaked {leaks}");
    println!(
        "  write-to-mirror lag: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.99),
        lags.last().map_or(0.0, |v| *v as f64 / 1e6)
    );
    println!(
        "  daemon CPU {:.2} s over {seconds:.0} s ({:.0}% of one core), peak RSS {:.1} MiB",
        cpu1 - cpu0,
        (cpu1 - cpu0) / seconds * 100.0,
        hwm as f64 / 1024.0
    );
}

fn idle(files: usize) {
    let root = tempfile::tempdir().expect("tempdir");
    let logs = root.path().join("idle");
    std::fs::create_dir(&logs).expect("mkdir");
    for i in 0..files {
        std::fs::write(logs.join(format!("idle{i:05}.log")), b"one line\n").expect("create");
    }
    let cfg = config(root.path(), &[("idle", &logs)]);
    let daemon = start(&cfg);
    std::thread::sleep(Duration::from_secs(3)); // initial catch-up
    let (cpu0, _) = usage(daemon.id());
    std::thread::sleep(Duration::from_secs(10));
    let (cpu1, hwm) = usage(daemon.id());
    stop(daemon);
    println!(
        "idle: {files} watched files, daemon CPU {:.3} s over 10 s, peak RSS {:.1} MiB",
        cpu1 - cpu0,
        hwm as f64 / 1024.0
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb: f64 = std::env::var("MB_PER_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0);
    let secs: f64 = std::env::var("SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    load(mb, secs);
    idle(1000);
}
