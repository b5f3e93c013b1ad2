//! Crash torture. Writers of every kind run — `O_APPEND` with a reopen hook
//! (cut by rename), no `O_APPEND` and `flock`-holding (cut by copy-truncate),
//! many small files appended and closed like a cron job, one fast file, and
//! a logrotate-style source with retention — while the daemon, cutting every
//! second, is killed again and again: by SIGKILL at random moments, and by
//! its own crash points (built with the `failpoints` feature) inside
//! rotation, copy-truncate, compression, retention, checkpoint and tail
//! checkpoint writes, and mid journal record. Each time it is restarted.
//!
//! At the end: every sequence number exactly once in each mirror plus its
//! archives, no planted secret in any mirror or archive, `verify` clean, no
//! temp file left anywhere, retention held.
//!
//! Fast profile (CI): at least 50 kills. Long profile:
//! `LOGWARDEN_TORTURE_KILLS=1000 cargo test --features failpoints --test it torture -- --nocapture`.
//! The counts are printed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use logwarden::policy::archive;

use crate::harness::*;

/// The crash points a kill can be aimed at (see `src/crash.rs`).
const POINTS: &[&str] = &[
    "rotate.renamed",
    "rotate.copied",
    "compress.written",
    "compress.journaled",
    "compress.renamed",
    "retain.hashed",
    "retain.journaled",
    "retain.unlinked",
    "checkpoint",
    "journal.torn",
    "mirror.synced",
    "tail.json.written",
    "state.json.written",
];

/// Small files, appended to and closed like a cron job would.
const SMALL: usize = 8;

struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("LOGWARDEN_TORTURE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("torture: seed {seed} (LOGWARDEN_TORTURE_SEED replays it)");
        Rng(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn dir(env: &Env, parts: &[&str]) -> PathBuf {
    let mut p = env.tmp.path().to_path_buf();
    for x in parts {
        p.push(x);
    }
    p
}

fn write_config(env: &Env) {
    for d in ["hooked", "plain", "churn"] {
        std::fs::create_dir_all(env.logs.join(d)).unwrap();
        set_mode(&env.logs.join(d), 0o755);
    }
    let text = format!(
        r#"state_dir = {state:?}

[defaults]
schedule = "every 1s"
timezone = "UTC"
writer_grace = "5s"

[[source]]
name = "hooked"
dir = {hooked:?}
include = ["*.log"]
output_dir = {m_hooked:?}
reopen = {{ signal = "HUP", pidfile = {pid:?} }}

[[source]]
name = "plain"
dir = {plain:?}
include = ["*.log"]
output_dir = {m_plain:?}

[[source]]
name = "churn"
dir = {churn:?}
include = ["*.log"]
mode = "rotate"
max_archives = 3
"#,
        state = env.state,
        hooked = env.logs.join("hooked"),
        plain = env.logs.join("plain"),
        churn = env.logs.join("churn"),
        m_hooked = dir(env, &["mirror", "hooked"]),
        m_plain = dir(env, &["mirror", "plain"]),
        pid = dir(env, &["app.pid"]),
    );
    std::fs::write(&env.config, text).unwrap();
}

/// A mirror's history: archives (decompressed) in cut order, then the live one.
fn history(dir: &Path, base: &str) -> Vec<u8> {
    let mut v: Vec<archive::Archive> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| archive::parse_for(base, e.unwrap().file_name().to_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a.cut_order(b));
    let mut all = Vec::new();
    for a in v {
        all.extend(read_maybe_gz(&dir.join(a.file_name())));
    }
    all.extend(std::fs::read(dir.join(base)).unwrap_or_default());
    all
}

/// Appends `per_file` lines to each small file, one open-write-close each,
/// until done or stopped; returns how many it wrote to each.
fn small_files(
    logs: PathBuf,
    prefix: String,
    per_file: usize,
    stop: Arc<AtomicBool>,
) -> Vec<usize> {
    let mut written = vec![0; SMALL];
    for i in 0..per_file {
        for (k, w) in written.iter_mut().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return written;
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logs.join(format!("{prefix}small{k}.log")))
                .unwrap();
            f.write_all(format!("seq={i:08} password=LEAK{i:08} {}\n", "y".repeat(20)).as_bytes())
                .unwrap();
            *w += 1;
        }
        std::thread::sleep(Duration::from_millis(8));
    }
    written
}

/// A daemon started without waiting for it (a kill may land in start-up
/// recovery), its output discarded.
fn spawn(env: &Env, failpoints: Option<&str>) -> Child {
    let mut c = env.cmd(&["run"]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(f) = failpoints {
        c.env("FAILPOINTS", f);
    }
    c.spawn().unwrap()
}

fn sigkill(c: &mut Child) {
    let _ = c.kill();
    let _ = c.wait();
}

fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(archive::TMP_SUFFIX) || name.ends_with(".tmp") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(feature = "failpoints"),
    ignore = "needs the crash points: cargo test --features failpoints"
)]
fn kill_9_anywhere_loses_duplicates_and_leaks_nothing() {
    let want_kills: usize = std::env::var("LOGWARDEN_TORTURE_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let env = Env::new();
    write_config(&env);
    let mut rng = Rng::seeded();
    let plain = env.logs.join("plain");
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut kills, mut random_kills) = (0usize, 0usize);
    let mut at_point: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    let mut round = 0;
    let mut aimed = rng.below(POINTS.len() as u64) as usize;
    while kills < want_kills {
        // A round: fresh writers (new file names), killed until they are done
        // and the round has had its share of kills.
        let tag = |name: &str| format!("r{round}-{name}");
        let pidfile = dir(&env, &["app.pid"]);
        let hooked = Writer::start_with_secrets(
            &env.logs.join("hooked").join(tag("app.log")),
            "append",
            4000,
            0.004,
            Some(&pidfile),
        );
        let noappend = Writer::start_with_secrets(
            &plain.join(tag("noappend.log")),
            "noappend",
            4000,
            0.004,
            None,
        );
        let locked =
            Writer::start_with_secrets(&plain.join(tag("locked.log")), "flock", 4000, 0.004, None);
        let fast =
            Writer::start_with_secrets(&plain.join(tag("fast.log")), "append", 60000, 0.0, None);
        let churn = Writer::start(
            &env.logs.join("churn").join(tag("churn.log")),
            "append",
            4000,
            0.004,
            None,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let small = {
            let (logs, stop, prefix) = (plain.clone(), Arc::clone(&stop), tag(""));
            std::thread::spawn(move || small_files(logs, prefix, 400, stop))
        };
        let round_kills = (want_kills - kills).min(50);
        let mut n = 0;
        let round_start = Instant::now();
        while n < round_kills || round_start.elapsed() < Duration::from_secs(12) {
            if n >= round_kills && round_start.elapsed() >= Duration::from_secs(12) {
                break;
            }
            if rng.below(2) == 0 {
                // Every point in turn, so each gets its share.
                let point = POINTS[aimed % POINTS.len()];
                aimed += 1;
                let skip = rng.below(2);
                let mut c = spawn(&env, Some(&format!("{point}={skip}*off->return")));
                let deadline = Instant::now() + Duration::from_secs(3);
                let mut died = false;
                while Instant::now() < deadline {
                    if let Ok(Some(s)) = c.try_wait() {
                        use std::os::unix::process::ExitStatusExt;
                        assert_eq!(s.signal(), Some(9), "the daemon exited by itself: {s}");
                        died = true;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if died {
                    let _ = c.wait();
                    *at_point.entry(point).or_default() += 1;
                } else {
                    sigkill(&mut c);
                    random_kills += 1;
                }
            } else {
                let mut c = spawn(&env, None);
                std::thread::sleep(Duration::from_millis(50 + rng.below(900)));
                sigkill(&mut c);
                random_kills += 1;
            }
            n += 1;
        }
        kills += n;
        // Let the round finish under a daemon that stays up.
        let mut d = env.daemon();
        for w in [hooked, noappend, locked, fast, churn] {
            w.wait();
        }
        stop.store(true, Ordering::Relaxed);
        let small = small.join().unwrap();
        for (name, count) in [
            ("app.log", 4000),
            ("noappend.log", 4000),
            ("locked.log", 4000),
            ("fast.log", 60000),
        ] {
            let src = if name == "app.log" { "hooked" } else { "plain" };
            expected.insert((src.to_string(), tag(name)), count);
        }
        for (k, count) in small.iter().enumerate() {
            expected.insert(("plain".to_string(), tag(&format!("small{k}.log"))), *count);
        }
        // Wait until this round's files are fully mirrored, then end it.
        let mirrors = |src: &str| dir(&env, &["mirror", src]);
        let caught_up = wait_for(Duration::from_secs(60), || {
            expected.iter().all(|((src, base), count)| {
                let h = history(&mirrors(src), base);
                h.iter().filter(|b| **b == b'\n').count() >= *count
            })
        });
        assert!(d.stop().success());
        if !caught_up {
            let err = d.take_stderr();
            for l in err
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            {
                eprintln!("daemon: {l}");
            }
            for ((src, base), count) in &expected {
                let got = history(&mirrors(src), base);
                eprintln!(
                    "{src}/{base}: {} of {count} lines; {}",
                    got.iter().filter(|b| **b == b'\n').count(),
                    diff_seqs(&got, *count)
                );
                let live = env.logs.join(src).join(base);
                eprintln!(
                    "  raw {}: {:?} bytes",
                    live.display(),
                    std::fs::metadata(&live).map(|m| m.len()).ok()
                );
            }
            panic!("round {round}: the mirrors did not catch up");
        }
        round += 1;
    }
    for ((src, base), count) in &expected {
        let got = history(&dir(&env, &["mirror", src]), base);
        check_once(&got, *count, &format!("{src}/{base}"));
    }
    // No secret in any mirror or archive (the churn source is raw by design).
    for root in [dir(&env, &["mirror"])] {
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                    continue;
                }
                let bytes = read_maybe_gz(&e.path());
                assert!(
                    memchr::memmem::find(&bytes, b"LEAK").is_none(),
                    "a secret in {}",
                    e.path().display()
                );
            }
        }
    }
    // Retention held for the logrotate-style source.
    for r in 0..round {
        let n = std::fs::read_dir(env.logs.join("churn"))
            .unwrap()
            .flatten()
            .filter(|e| {
                archive::parse_for(&format!("r{r}-churn.log"), e.file_name().to_str().unwrap())
                    .is_some()
            })
            .count();
        assert!(
            n <= 3,
            "round {r}: {n} churn archives kept, max_archives = 3"
        );
    }
    let leftovers: Vec<_> = [env.logs.clone(), dir(&env, &["mirror"]), env.state.clone()]
        .iter()
        .flat_map(|d| temp_files(d))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let out = env.run(&["verify"]);
    if !out.status.success() {
        // Enough to see what happened: the records about the file named.
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let named = err
            .split_whitespace()
            .find(|w| w.contains("/mirror/"))
            .and_then(|w| w.trim_end_matches(':').rsplit('/').next())
            .unwrap_or("")
            .to_string();
        let stem: String = named.split(".log").next().unwrap_or("").to_string() + ".log";
        let journal = std::fs::read_to_string(env.state.join("journal.ndjson")).unwrap_or_default();
        for l in journal
            .lines()
            .filter(|l| l.contains(&stem) && !l.contains("\"segment\""))
        {
            eprintln!("{l}");
        }
        for d in ["plain", "hooked"] {
            let mut v: Vec<_> = std::fs::read_dir(dir(&env, &["mirror", d]))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            eprintln!("mirror/{d}: {v:?}");
        }
    }
    assert!(
        out.status.success(),
        "verify after the torture: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: usize = expected.values().sum();
    eprintln!(
        "torture: {kills} kills in {:.0?} ({random_kills} at random moments, {} at crash points: {at_point:?}); {lines} lines of {} files checked exactly once; {}",
        started.elapsed(),
        kills - random_kills,
        expected.len(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    assert!(kills >= want_kills);
    assert!(
        at_point.len() >= 4,
        "few crash points were reached: {at_point:?}"
    );
}

fn check_once(got: &[u8], count: usize, what: &str) {
    let text = String::from_utf8_lossy(got);
    assert!(
        !text.contains("LEAK"),
        "{what}: a planted secret reached the mirror"
    );
    let (seen, bad) = count_seqs(got, count);
    assert!(
        seen.iter().all(|c| *c == 1) && bad.is_empty(),
        "{what}: not every line exactly once: {}; malformed: {:?}",
        diff_seqs(got, count),
        &bad[..bad.len().min(5)]
    );
}
