//! Faults and hostile files: a read-only output filesystem, a source
//! directory removed and re-created, symlink swaps racing the cuts, ten
//! thousand files in one directory, a 1 GiB line without a newline. None may
//! crash the daemon, lose or leak a line, or touch a file outside the policy.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::mirror::mount_tmpfs;

fn remount(dir: &std::path::Path, opts: &str) -> bool {
    std::process::Command::new("mount")
        .args(["-o", opts])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// The output filesystem is read-only when the daemon starts (it cannot be
/// remounted so under open files): the source pauses with one journaled
/// error, the lines wait in the raw file, and all arrive once it is writable.
#[test]
fn a_read_only_output_pauses_the_mirror_and_loses_nothing() {
    let env = Env::new();
    let out = env.mirror_dir();
    std::fs::create_dir_all(&out).unwrap();
    let Some(_guard) = mount_tmpfs(&out, "16m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    assert!(remount(&out, "remount,ro"));
    env.mirror_config("schedule = \"daily\"", "");
    let count = 2000;
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.0005, None);
    let mut d = env.daemon();
    assert!(
        wait_for(Duration::from_secs(10), || !env
            .journal_actions("mirror.write")
            .is_empty()),
        "the read-only output was not journaled"
    );
    let err = env.journal_actions("mirror.write")[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("Read-only file system"), "{err}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(d.alive());
    assert!(remount(&out, "remount,rw"));
    writer.wait();
    assert!(
        wait_for(Duration::from_secs(15), || env.mirror_lines("app.log")
            >= count),
        "the pipeline did not resume"
    );
    assert!(d.stop().success());
    let (seen, bad) = count_seqs(&env.mirror_history("app.log"), count);
    assert!(seen.iter().all(|c| *c == 1) && bad.is_empty());
    assert_eq!(
        env.journal_actions("mirror.write").len(),
        1,
        "journaled once"
    );
    assert!(!env.journal_actions("mirror.resume").is_empty());
}

/// The source directory is removed (with its file) and re-created: the
/// daemon keeps running, says what happened, and mirrors the new files.
#[test]
fn a_source_directory_removed_and_recreated_is_picked_up_again() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("rescan_interval = \"1s\"");
    std::fs::write(env.log("app.log"), "before password=LEAK1\n").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"before password=[REDACTED]\n"));
    std::fs::remove_dir_all(&env.logs).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.alive());
    std::fs::create_dir(&env.logs).unwrap();
    set_mode(&env.logs, 0o755);
    std::fs::write(env.log("app.log"), "after password=LEAK2\n").unwrap();
    assert!(
        wait_for(Duration::from_secs(15), || {
            String::from_utf8_lossy(&env.mirror_history("app.log"))
                .contains("after password=[REDACTED]")
        }),
        "{}",
        String::from_utf8_lossy(&env.mirror_history("app.log"))
    );
    assert!(d.stop().success());
    let h = String::from_utf8(env.mirror_history("app.log")).unwrap();
    assert_eq!(h.matches("before").count(), 1, "{h}");
    assert_eq!(h.matches("after").count(), 1, "{h}");
    assert!(!h.contains("LEAK"));
}

/// While cuts happen every second, another process keeps swapping the log
/// for a symlink to a file outside the watched directory (the TOCTOU window
/// between a check and an act). The outside file is never renamed,
/// truncated, compressed, mirrored or otherwise touched.
#[test]
fn symlink_swaps_racing_the_cuts_never_touch_the_target() {
    let env = Env::new();
    env.mirror_config("schedule = \"every 1s\"", "");
    let outside = env.tmp.path().join("outside-secret.txt");
    std::fs::write(&outside, "OUTSIDE-CONTENT must stay here\n").unwrap();
    set_mode(&outside, 0o600);
    let before = std::fs::metadata(&outside).unwrap();
    let mut d = env.daemon();
    let log = env.log("app.log");
    let tmp_link = env.log(".swap");
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(6) {
        // A regular file with a line, then atomically a symlink in its place.
        let _ = std::fs::remove_file(&tmp_link);
        std::fs::write(&tmp_link, format!("line {n}\n")).unwrap();
        std::fs::rename(&tmp_link, &log).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let _ = std::fs::remove_file(&tmp_link);
        std::os::unix::fs::symlink(&outside, &tmp_link).unwrap();
        std::fs::rename(&tmp_link, &log).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        n += 1;
    }
    assert!(d.alive());
    assert!(d.stop().success());
    let after = std::fs::metadata(&outside).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "OUTSIDE-CONTENT must stay here\n"
    );
    assert_eq!((before.ino(), before.mode()), (after.ino(), after.mode()));
    assert_eq!(before.mtime(), after.mtime());
    let names: Vec<String> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|x| x.starts_with("outside-secret.txt.")),
        "the target was archived: {names:?}"
    );
    let mirrored = env.mirror_history("app.log");
    assert!(
        memchr::memmem::find(&mirrored, b"OUTSIDE-CONTENT").is_none(),
        "the symlink was followed into the mirror"
    );
    assert!(n > 100, "{n} swaps");
}

/// Ten thousand files in one directory: all are mirrored, each once.
#[test]
fn ten_thousand_files_in_one_directory_are_all_mirrored() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    let n = 10_000;
    for i in 0..n {
        std::fs::write(
            env.log(&format!("f{i:05}.log")),
            format!("file {i} token=LEAK{i}\n"),
        )
        .unwrap();
    }
    let started = Instant::now();
    let mut d = env.daemon();
    let out = env.mirror_dir();
    assert!(
        wait_for(Duration::from_secs(120), || std::fs::read_dir(&out)
            .map(|rd| rd.count() >= n)
            .unwrap_or(false)),
        "not every file got a mirror"
    );
    eprintln!(
        "10,000 files mirrored {:.1?} after start",
        started.elapsed()
    );
    // A write to one of them still arrives promptly.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(env.log("f04321.log"))
        .unwrap();
    writeln!(f, "late line").unwrap();
    assert!(wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(out.join("f04321.log")).is_ok_and(|t| t.contains("late line"))
    }));
    assert!(d.stop().success());
    for i in (0..n).step_by(997) {
        let t = std::fs::read_to_string(out.join(format!("f{i:05}.log"))).unwrap();
        assert_eq!(t, format!("file {i} token=[REDACTED]\n"));
    }
}

/// A 1 GiB line with no newline: held, then cut at max_line_bytes with its
/// marker after partial_timeout; memory stays bounded; the next line is
/// whole.
#[test]
fn a_one_gib_line_without_a_newline_is_cut_in_bounded_memory() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "partial_timeout = \"1s\"");
    {
        let mut f = std::fs::File::create(env.log("app.log")).unwrap();
        f.write_all(b"password=LEAKhead ").unwrap();
        let chunk = vec![b'a'; 8 << 20];
        for _ in 0..128 {
            f.write_all(&chunk).unwrap();
        }
    }
    let mut d = env.daemon();
    let pid = d.pid();
    let mut peak_kb = 0u64;
    let done = wait_for(Duration::from_secs(120), || {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for l in s.lines().filter(|l| l.starts_with("VmHWM:")) {
                peak_kb = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
        }
        std::fs::read(env.mirror_dir().join("app.log")).is_ok_and(|m| m.ends_with(b"\n"))
    });
    assert!(done, "the long line never reached the mirror");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(env.log("app.log"))
        .unwrap();
    writeln!(f, "\nnext line token=LEAKnext").unwrap();
    assert!(wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(env.mirror_dir().join("app.log"))
            .is_ok_and(|t| t.contains("next line token=[REDACTED]"))
    }));
    assert!(d.stop().success());
    let m = std::fs::read(env.mirror_dir().join("app.log")).unwrap();
    assert!(memchr::memmem::find(&m, b"LEAK").is_none());
    let first = m.split(|b| *b == b'\n').next().unwrap();
    assert!(first.len() <= (64 << 10) + 200, "{} bytes", first.len());
    assert!(first.starts_with(b"password=[REDACTED] aaa"));
    assert!(memchr::memmem::find(first, b"[logwarden: line cut at").is_some());
    assert!(
        peak_kb < 64 * 1024,
        "peak RSS {peak_kb} KiB for a 1 GiB line"
    );
}

/// A config that sets every key, and for each key a wrong value (wrong
/// type, out of range, unknown name, bad glob or regex). The wrong value
/// of each key in turn: `check` exits 1 naming the file, the key's line and
/// a column, and never panics; a running daemon sent each broken config
/// (SIGHUP) refuses every one and keeps mirroring with the config it had.
#[test]
fn every_key_wrong_in_turn_is_refused_with_its_position() {
    let env = Env::new();
    let t = env.tmp.path();
    let mirror = env.mirror_dir();
    let good = [
        format!("state_dir = {:?}", env.state),
        format!("include = [{:?}]", t.join("conf.d/*.toml")),
        "log_level = \"info\"".into(),
        "rescan_interval = \"60s\"".into(),
        "journal_max_size = \"64MiB\"".into(),
        "journal_max_age = \"90d\"".into(),
        "forward_secure = false".into(),
        "[defaults]".into(),
        "schedule = \"daily\"".into(),
        "at = \"00:00\"".into(),
        "timezone = \"UTC\"".into(),
        "max_size = \"1GiB\"".into(),
        "strategy = \"auto\"".into(),
        "compress = \"gzip\"".into(),
        "delay_compress = false".into(),
        "max_age = \"30d\"".into(),
        "max_archives = 10".into(),
        "max_total_size = \"10GiB\"".into(),
        "create = false".into(),
        "writer_grace = \"60s\"".into(),
        "mode = \"mirror\"".into(),
        "[redact]".into(),
        "keys = [\"password\", \"token\"]".into(),
        "patterns = [\"eyJ[A-Za-z0-9_-]{8,}\"]".into(),
        "mask = \"[REDACTED]\"".into(),
        "max_line_bytes = \"64KiB\"".into(),
        "[metrics]".into(),
        format!("textfile = {:?}", t.join("metrics.prom")),
        "[[source]]".into(),
        "name = \"app\"".into(),
        format!("dir = {:?}", env.logs),
        "include = [\"*.log\"]".into(),
        "exclude = [\"*.debug.log\"]".into(),
        format!("output_dir = {mirror:?}"),
        "raw_max_age = \"2d\"".into(),
        "partial_timeout = \"10s\"".into(),
        "output_owner = { user = \"root\", group = \"root\" }".into(),
        format!(
            "reopen = {{ signal = \"HUP\", pidfile = {:?} }}",
            t.join("app.pid")
        ),
    ];
    // (key, a wrong value): the key's line is replaced by `key = value`.
    let wrong: &[(&str, &str)] = &[
        ("state_dir", "5"),
        ("include", "\"not a list\""),
        ("log_level", "\"loud\""),
        ("rescan_interval", "\"soon\""),
        ("journal_max_size", "\"big\""),
        ("journal_max_age", "\"-1d\""),
        ("forward_secure", "\"yes\""),
        ("schedule", "\"fortnightly\""),
        ("at", "\"25:00\""),
        ("timezone", "\"Mars/Olympus_Mons\""),
        ("max_size", "\"1 parsec\""),
        ("strategy", "\"shred\""),
        ("compress", "\"rar\""),
        ("delay_compress", "\"no\""),
        ("max_age", "\"forever\""),
        ("max_archives", "-3"),
        ("max_total_size", "\"lots\""),
        ("create", "1"),
        ("writer_grace", "\"later\""),
        ("mode", "\"copy\""),
        ("keys", "[1, 2]"),
        ("patterns", "[\"(unclosed\"]"),
        ("mask", "5"),
        ("max_line_bytes", "\"huge\""),
        ("textfile", "3"),
        ("name", "\"\""),
        ("dir", "7"),
        ("exclude", "[\"[unclosed\"]"),
        ("output_dir", "9"),
        ("raw_max_age", "\"old\""),
        ("partial_timeout", "\"eventually\""),
        (
            "output_owner",
            "{ user = \"no-such-user-lw\", group = \"root\" }",
        ),
        ("reopen", "{ signal = \"NOPE\", pidfile = \"/run/x.pid\" }"),
    ];
    let render = |lines: &[String]| lines.join("\n") + "\n";
    std::fs::write(&env.config, render(&good)).unwrap();
    let ok = env.run(&["check"]);
    assert!(
        ok.status.success(),
        "the all-keys config must be valid: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::write(env.log("app.log"), "before password=LEAK1\n").unwrap();
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read(mirror.join("app.log")).is_ok_and(|m| m == b"before password=[REDACTED]\n")
    }));
    let config = env.config.display().to_string();
    for (n, (key, value)) in wrong.iter().enumerate() {
        // Each key is unique in `good` except `include` (top level and
        // source): the first is the top-level one.
        let i = good
            .iter()
            .position(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no line for {key}"));
        let mut bad = good.to_vec();
        bad[i] = format!("{key} = {value}");
        std::fs::write(&env.config, render(&bad)).unwrap();
        let out = env.run(&["check"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{key} = {value}: {err}");
        assert!(!err.contains("panicked"), "{key} = {value}: {err}");
        let at = format!("{config}:{}:", i + 1);
        assert!(
            err.lines().any(|l| l.starts_with(&at)
                && l[at.len()..]
                    .split(':')
                    .next()
                    .is_some_and(|c| c.parse::<u32>().is_ok())),
            "{key} = {value}: want {at}COL: ..., got: {err}"
        );
        d.signal(libc::SIGHUP);
        assert!(
            wait_for(Duration::from_secs(10), || env
                .journal_actions("config.reload")
                .iter()
                .filter(|r| r["status"] == "failed")
                .count()
                > n),
            "{key} = {value}: the reload was not refused"
        );
    }
    assert!(env
        .journal_actions("config.reload")
        .iter()
        .all(|r| r["status"] == "failed"));
    // The running config is still the good one.
    append(&env.log("app.log"), "after token=LEAK2\n");
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read(mirror.join("app.log"))
            .is_ok_and(|m| m == b"before password=[REDACTED]\nafter token=[REDACTED]\n")
    }));
    assert!(d.alive());
    assert!(d.stop().success());
}

/// A directory named like a log (`logs/dir.log/`), with a file inside, is
/// left alone: not cut, not mirrored, not descended into; the files beside
/// it are handled as usual.
#[test]
fn a_directory_named_like_a_log_is_left_alone() {
    let env = Env::new();
    env.mirror_config("schedule = \"every 1s\"", "");
    let dir = env.log("dir.log");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("inner.log"), "inner password=LEAK\n").unwrap();
    std::fs::write(env.log("app.log"), "app password=LEAK\n").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"app password=[REDACTED]\n"));
    std::thread::sleep(Duration::from_secs(3));
    assert!(d.alive());
    assert!(d.stop().success());
    assert!(dir.is_dir());
    assert_eq!(
        std::fs::read_to_string(dir.join("inner.log")).unwrap(),
        "inner password=LEAK\n"
    );
    let names: Vec<String> = std::fs::read_dir(&env.logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("dir.log.")),
        "the directory was cut: {names:?}"
    );
    assert!(!env.mirror_dir().join("dir.log").exists());
    assert!(!env.mirror_dir().join("inner.log").exists());
}
