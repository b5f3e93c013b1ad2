//! The mirror pipeline end to end: real writers write sequence-numbered lines
//! carrying a planted secret; the daemon tails them into the mirror while
//! cutting every second, gets killed, reloaded, or runs out of disk. Every
//! sequence number must be in the mirror (archives included) exactly once,
//! and no secret anywhere in it.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A tiny deterministic generator (the seed is printed, so a failure replays).
struct Lcg(u64);

impl Lcg {
    fn seeded() -> Lcg {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("random seed {seed}");
        Lcg(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A mirror source cut every second, and a writer of `count` lines with
/// secrets (`mode`; with a SIGHUP reopen hook when `hook`).
fn mirror_with_writer(mode: &str, hook: bool, count: usize) -> (Env, Writer) {
    let env = Env::new();
    let pidfile = env.tmp.path().join("app.pid");
    let source = if hook {
        format!("reopen = {{ signal = \"HUP\", pidfile = {pidfile:?} }}")
    } else {
        String::new()
    };
    env.mirror_config("schedule = \"every 1s\"", &source);
    let writer = Writer::start_with_secrets(
        &env.log("app.log"),
        mode,
        count,
        0.001,
        hook.then_some(pidfile.as_path()),
    );
    (env, writer)
}

fn mirror_through_rotations(mode: &str, hook: bool, want_strategy: &str) {
    let count = 3000;
    let (env, writer) = mirror_with_writer(mode, hook, count);
    let mut d = env.daemon();
    writer.wait();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.stop().success());
    assert_exactly_once(&env.mirror_history("app.log"), count);
    let cuts: Vec<_> = env
        .journal_actions("rotate")
        .into_iter()
        .filter(|r| r["resource"]["path"].as_str().unwrap().contains("/logs/"))
        .collect();
    assert!(
        cuts.iter()
            .filter(|c| c["strategy"] == want_strategy)
            .count()
            >= 2,
        "expected several {want_strategy} cuts: {cuts:?}"
    );
    // The mirror was cut too, and compressed.
    let gz = std::fs::read_dir(env.mirror_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .ends_with(".gz")
        })
        .count();
    assert!(gz >= 2, "mirror archives were not compressed");
    // Raw files were discarded once drained; no secret stays on disk in logs/.
    let raw: Vec<u8> = env
        .archives("app.log")
        .iter()
        .flat_map(|n| read_maybe_gz(&env.logs.join(n)))
        .collect();
    assert!(
        raw.is_empty(),
        "raw archives were kept: {:?}",
        env.archives("app.log")
    );
}

#[test]
fn rename_with_reopen_hook_mirrors_every_line_once() {
    mirror_through_rotations("append", true, "rename");
}

#[test]
fn copytruncate_without_o_append_mirrors_every_line_once() {
    mirror_through_rotations("noappend", false, "copytruncate");
}

#[test]
fn copytruncate_of_a_locked_file_mirrors_every_line_once() {
    mirror_through_rotations("flock", false, "copytruncate");
}

/// `kill -9` at random moments (while lines flow and cuts happen every
/// second): each restart cuts the mirror back to the checkpoint and resumes.
#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    for (mode, hook) in [("append", true), ("noappend", false)] {
        let count = 5000;
        let (env, writer) = mirror_with_writer(mode, hook, count);
        let mut rng = Lcg::seeded();
        let mut kills = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(6) {
            let mut d = env.daemon();
            std::thread::sleep(Duration::from_millis(100 + rng.below(700)));
            d.kill9();
            kills += 1;
        }
        let mut d = env.daemon();
        writer.wait();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(d.stop().success());
        assert!(kills >= 5);
        assert_exactly_once(&env.mirror_history("app.log"), count);
    }
}

#[test]
fn sighup_reloads_while_lines_flow_lose_nothing() {
    let env = Env::new();
    env.mirror_config("schedule = \"every 1s\"", "");
    let count = 3000;
    let writer = Writer::start_with_secrets(&env.log("app.log"), "noappend", count, 0.001, None);
    let mut d = env.daemon();
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(300));
        d.signal(libc::SIGHUP);
    }
    writer.wait();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.stop().success());
    assert_exactly_once(&env.mirror_history("app.log"), count);
    assert!(env.journal_actions("config.reload").len() >= 8);
}

/// A restart resumes where the checkpoint says: lines written while the
/// daemon was down are mirrored once, earlier ones not again.
#[test]
fn restart_resumes_at_the_checkpoint() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    Writer::start(&env.log("app.log"), "append", 100, 0.0, None).wait();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .len()
        == expected_lines(100).len()));
    assert!(d.stop().success());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(env.log("app.log"))
        .unwrap();
    for i in 100..200 {
        writeln!(f, "seq={i:08} {}", "x".repeat(40)).unwrap();
    }
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .len()
        >= expected_lines(200).len()));
    assert!(d.stop().success());
    assert_eq!(env.mirror_history("app.log"), expected_lines(200));
}

/// A partial last line is held until its newline comes, then mirrored once, whole.
#[test]
fn partial_line_is_held_until_its_newline() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    let mut f = std::fs::File::create(env.log("app.log")).unwrap();
    f.write_all(b"first\nhalf a ").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"first\n"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(env.mirror_history("app.log"), b"first\n");
    f.write_all(b"line\n").unwrap();
    assert!(env.mirror_becomes(b"first\nhalf a line\n"));
    assert!(d.stop().success());
}

/// Someone else truncates the file (size < offset): what follows is new and
/// mirrored; nothing is mirrored twice.
#[test]
fn external_truncation_and_replacement_are_detected() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"one\ntwo\nthree\n").unwrap();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .len()
        == 14));
    std::fs::OpenOptions::new()
        .write(true)
        .open(env.log("app.log"))
        .unwrap()
        .set_len(0)
        .unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(env.log("app.log"))
        .unwrap()
        .write_all(b"4\n")
        .unwrap();
    assert!(env.mirror_becomes(b"one\ntwo\nthree\n4\n"));
    // Atomic replacement: a new inode under the same name.
    let tmp = env.logs.join(".app.log.new");
    std::fs::write(&tmp, b"five\nsix\n").unwrap();
    std::fs::rename(&tmp, env.log("app.log")).unwrap();
    d.signal(libc::SIGUSR1); // nudge a rescan too
    assert!(wait_for(Duration::from_secs(10), || {
        let h = env.mirror_history("app.log");
        String::from_utf8_lossy(&h).contains("five\nsix\n")
    }));
    assert!(d.stop().success());
    let h = String::from_utf8(env.mirror_history("app.log")).unwrap();
    for l in ["one", "two", "three", "4", "five", "six"] {
        assert_eq!(h.lines().filter(|x| *x == l).count(), 1, "{l} in {h:?}");
    }
}

/// A hole left by a non-O_APPEND writer (it keeps writing at its old offset
/// after a truncate) is not shipped as NULs.
#[test]
fn nul_hole_after_truncate_is_not_mirrored() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"").unwrap();
    let mut d = env.daemon();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(env.log("app.log"))
        .unwrap();
    use std::os::unix::fs::FileExt;
    f.write_at(b"aaaa\n", 0).unwrap();
    assert!(env.mirror_becomes(b"aaaa\n"));
    f.set_len(0).unwrap();
    f.write_at(b"bbbb\n", 5).unwrap(); // a 5-byte hole, then a line
    assert!(env.mirror_becomes(b"aaaa\nbbbb\n"));
    assert!(d.stop().success());
}

/// The output filesystem fills up: reading pauses (journaled once), nothing
/// is skipped, and the pipeline resumes by itself once there is room.
#[test]
fn full_disk_pauses_and_resumes_without_loss() {
    let env = Env::new();
    let out = env.mirror_dir();
    std::fs::create_dir_all(&out).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the full-disk test did not run"
        );
        return;
    }
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _guard = Umount(out.clone());
    env.mirror_config("schedule = \"daily\"\ncompress = \"none\"", "");
    let count = 8000; // ~470 KiB of mirror: does not fit in 256 KiB
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.0, None);
    let mut d = env.daemon();
    writer.wait();
    assert!(
        wait_for(Duration::from_secs(15), || !env
            .journal_actions("mirror.write")
            .is_empty()),
        "the full disk was not journaled"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        env.journal_actions("mirror.write").len(),
        1,
        "journaled once"
    );
    // The mirror holds only whole lines while blocked.
    let partial = env.mirror_history("app.log");
    assert!(partial.is_empty() || partial.ends_with(b"\n"));
    assert!(d.alive());
    let ok = std::process::Command::new("mount")
        .args(["-o", "remount,size=8m"])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert!(
        wait_for(Duration::from_secs(15), || env
            .mirror_history("app.log")
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            >= count),
        "the pipeline did not resume"
    );
    assert!(d.stop().success());
    assert_exactly_once(&env.mirror_history("app.log"), count);
    assert!(!env.journal_actions("mirror.resume").is_empty());
}

#[test]
fn redact_command_masks_stdin() {
    let env = Env::new();
    env.mirror_config("", "");
    let mut child = env
        .cmd(&["redact"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"user=bob password=hunter2 ok\nnothing here\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "user=bob password=[REDACTED] ok\nnothing here\n");
}

/// A 100 MiB line with no newline for a long time: cut at max_line_bytes with
/// a marker, its secret masked, the rest dropped (never a second line), and
/// the daemon's memory stays small.
#[test]
fn a_100_mib_line_is_cut_with_a_marker_in_bounded_memory() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"").unwrap();
    let mut d = env.daemon();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(env.log("app.log"))
        .unwrap();
    f.write_all(b"start password=LEAKFIRST ").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b" token=LEAKTAIL\nnext line\n").unwrap();
    assert!(wait_for(Duration::from_secs(30), || env
        .mirror_history("app.log")
        .ends_with(b"next line\n")));
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let hwm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(d.stop().success());
    let h = env.mirror_history("app.log");
    let text = String::from_utf8_lossy(&h);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one cut line and the next one");
    assert!(
        lines[0].starts_with("start password=[REDACTED]"),
        "{}",
        &lines[0][..60]
    );
    assert!(lines[0].ends_with("[logwarden: line cut at 65536 bytes]"));
    assert!(lines[0].len() < 64 * 1024 + 100);
    assert!(!text.contains("LEAK"));
    assert_eq!(lines[1], "next line");
    assert!(hwm_kib < 64 * 1024, "peak RSS {hwm_kib} KiB");
}

/// Mirrors are never more permissive than their source, and owned by
/// `output_owner` when it is set.
#[test]
fn mirror_mode_follows_the_source_and_owner_is_configurable() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: chown needs root");
        return;
    }
    let env = Env::new();
    env.mirror_config(
        "schedule = \"daily\"",
        "output_owner = { user = \"nobody\", group = \"nogroup\" }",
    );
    std::fs::write(env.log("app.log"), b"x\n").unwrap();
    set_mode(&env.log("app.log"), 0o600);
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"x\n"));
    assert!(d.stop().success());
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(env.mirror_dir().join("app.log")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o600);
    let nobody = std::process::Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .unwrap();
    let uid: u32 = String::from_utf8_lossy(&nobody.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(m.uid(), uid);
}

/// Mount a tmpfs at `dir` for the life of the guard, or say why not.
pub fn mount_tmpfs(dir: &std::path::Path, size: &str) -> Option<Umount> {
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Umount(dir.to_path_buf()))
}

pub struct Umount(std::path::PathBuf);

impl Umount {
    /// Unmount `dir` (lazily) when dropped.
    pub fn new(dir: &std::path::Path) -> Umount {
        Umount(dir.to_path_buf())
    }
}

impl Drop for Umount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// tmpfs has no COLLAPSE_RANGE: copy-truncate punches the drained prefix
/// out instead (no window either) and still mirrors every line once.
#[test]
fn copytruncate_without_collapse_range_punches_and_mirrors_every_line_once() {
    let env = Env::new();
    let Some(_guard) = mount_tmpfs(&env.logs, "64m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    set_mode(&env.logs, 0o755);
    env.mirror_config("schedule = \"every 1s\"\nstrategy = \"copytruncate\"", "");
    let count = 3000;
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.001, None);
    let mut d = env.daemon();
    writer.wait();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.stop().success());
    assert_exactly_once(&env.mirror_history("app.log"), count);
    let punched = env
        .journal_actions("rotate")
        .into_iter()
        .filter(|r| {
            r["strategy"] == "copytruncate"
                && r["status"] == "ok"
                && r["reason"].as_str().unwrap().contains("punch-hole")
        })
        .count();
    assert!(punched >= 2, "{punched} punch-hole copy-truncates");
}

/// `raw_max_age` keeps the rotated raw files (compressed) besides the mirror.
#[test]
fn raw_max_age_keeps_compressed_raw_archives() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "raw_max_age = \"2d\"");
    let count = 500;
    Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.0, None).wait();
    let out = env.run(&["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_exactly_once(&env.mirror_history("app.log"), count);
    let raw = env.archives("app.log");
    assert_eq!(raw.len(), 1, "{raw:?}");
    assert!(raw[0].ends_with(".gz"), "{raw:?}");
    // The raw archive is the application's bytes, unredacted, as asked.
    let bytes = read_maybe_gz(&env.logs.join(&raw[0]));
    assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), count);
}

/// The mirror's archives follow the source's retention policy.
#[test]
fn mirror_archives_are_retained_by_the_source_policy() {
    let env = Env::new();
    // No shipper: cut mirrors are compressed at once.
    env.mirror_config(
        "schedule = \"daily\"\nmax_archives = 2\nship_grace = \"0s\"",
        "",
    );
    for i in 0..4 {
        std::fs::write(env.log("app.log"), format!("round {i}\n")).unwrap();
        let out = env.run(&["rotate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut kept: Vec<String> = std::fs::read_dir(env.mirror_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".gz"))
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let h = String::from_utf8(env.mirror_history("app.log")).unwrap();
    assert_eq!(h, "round 2\nround 3\n");
    assert_eq!(env.journal_actions("retention.delete").len(), 2);
}

/// `mask = "sha256"`: a salted digest, the same secret the same mask; the
/// salt is private to the state dir.
#[test]
fn sha256_mask_correlates_without_revealing() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace("[defaults]", "[redact]\nmask = \"sha256\"\n\n[defaults]"),
    )
    .unwrap();
    std::fs::write(
        env.log("app.log"),
        "a password=LEAKsame\nb {\"token\":\"LEAKsame\"}\nc password=LEAKother\n",
    )
    .unwrap();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        == 3));
    assert!(d.stop().success());
    let h = String::from_utf8(env.mirror_history("app.log")).unwrap();
    assert!(!h.contains("LEAK"), "{h}");
    let digests: Vec<&str> = h
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|w| w.starts_with("sha256:"))
        .collect();
    assert_eq!(digests.len(), 3, "{h}");
    assert_eq!(digests[0], digests[1]);
    assert_ne!(digests[0], digests[2]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.state.join("redact.salt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A source directory that does not exist at start is picked up once it
/// appears (at the next rescan), and its lines mirrored.
#[test]
fn a_source_directory_created_later_is_tailed() {
    let env = Env::new();
    std::fs::remove_dir(&env.logs).unwrap();
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("rescan_interval = \"1s\"");
    let mut d = env.daemon();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::create_dir(&env.logs).unwrap();
    set_mode(&env.logs, 0o755);
    std::fs::write(env.log("app.log"), b"late password=LEAKlate\n").unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || env.mirror_history("app.log")
            == b"late password=[REDACTED]\n"),
        "{:?}",
        String::from_utf8_lossy(&env.mirror_history("app.log"))
    );
    assert!(d.stop().success());
}

/// A last line whose newline never comes is mirrored after `partial_timeout`
/// with a marker, once; what the writer appends later is a line of its own.
#[test]
fn a_partial_line_is_flushed_with_a_marker_after_the_timeout() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "partial_timeout = \"1s\"");
    let mut f = std::fs::File::create(env.log("app.log")).unwrap();
    f.write_all(b"whole\nno newline token=LEAKpartial").unwrap();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .starts_with(b"whole\n")));
    let started = Instant::now();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .len()
        > 6));
    assert!(started.elapsed() >= Duration::from_millis(500));
    f.write_all(b" rest\n").unwrap();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_history("app.log")
        .ends_with(b" rest\n")));
    assert!(d.stop().success());
    assert_eq!(
        String::from_utf8(env.mirror_history("app.log")).unwrap(),
        "whole\nno newline token=[REDACTED] [logwarden: no newline]\n rest\n"
    );
}

/// Hostile lines: invalid UTF-8, JSON that does not parse, JSON nested
/// 100,000 deep, escaped keys, a NUL inside a line. No crash, no secret,
/// every other byte as written.
#[test]
fn hostile_lines_are_mirrored_without_a_leak_or_a_crash() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    // Long enough that the 100,000-deep line is redacted whole, not cut.
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace(
            "[defaults]",
            "[redact]\nmax_line_bytes = \"2MiB\"\n\n[defaults]",
        ),
    )
    .unwrap();
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(b"\xff\xfe caf\xe9 password=LEAK1 \xc3\x28 end\n");
    input.extend_from_slice(b"{\"user\":\"ann\",\"password\":\"LEAK2\",\"n\":[1,2\n");
    let deep = 100_000;
    input.extend_from_slice(&b"{\"a\":".repeat(deep));
    input.extend_from_slice(b"{\"token\":\"LEAK3\"}");
    input.extend_from_slice(&b"}".repeat(deep));
    input.push(b'\n');
    input.extend_from_slice(b"{\"pass\\u0077ord\":12345678,\"ok\":true}\n");
    input.extend_from_slice(b"a\0b secret=LEAK4\n");
    std::fs::write(env.log("app.log"), &input).unwrap();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(20), || env
        .mirror_history("app.log")
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        == 5));
    assert!(d.alive());
    assert!(d.stop().success());
    let h = env.mirror_history("app.log");
    let lines: Vec<&[u8]> = h.split(|b| *b == b'\n').collect();
    assert!(
        memchr::memmem::find(&h, b"LEAK").is_none(),
        "a secret leaked"
    );
    assert_eq!(
        lines[0],
        b"\xff\xfe caf\xe9 password=[REDACTED] \xc3\x28 end".as_slice()
    );
    assert!(lines[1].starts_with(b"{\"user\":\"ann\",\"password\":"));
    assert!(lines[1].ends_with(b",\"n\":[1,2"));
    assert_eq!(
        lines[2].len(),
        6 * deep + "{\"token\":\"[REDACTED]\"}".len()
    );
    assert_eq!(
        lines[3],
        b"{\"pass\\u0077ord\":\"[REDACTED]\",\"ok\":true}".as_slice()
    );
    assert_eq!(lines[4], b"a\0b secret=[REDACTED]".as_slice());
}

/// Truncated by someone else and regrown past the old offset before the
/// daemon looked: the fingerprint tells, and the new content is mirrored.
#[test]
fn truncation_hidden_by_regrowth_is_caught_by_the_fingerprint() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"old 1\nold 2\n").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"old 1\nold 2\n"));
    // Frozen, so it cannot read between the truncate and the regrowth.
    d.signal(libc::SIGSTOP);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(env.log("app.log"))
        .unwrap();
    f.set_len(0).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_at(b"new content, longer than before\n", 0).unwrap();
    d.signal(libc::SIGCONT);
    assert!(env.mirror_becomes(b"old 1\nold 2\nnew content, longer than before\n"));
    assert!(d.stop().success());
}
