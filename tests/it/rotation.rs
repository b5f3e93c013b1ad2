//! The rotation invariant, with real writers: a file's archives,
//! decompressed in cut order, followed by the live file, are exactly what its
//! writer wrote — whatever the strategy.

use std::time::Duration;

use crate::harness::*;

/// Run a writer against a daemon cutting every second; return the env and
/// the journal's rotate records once all is quiet.
fn run_with_writer(
    mode: &str,
    defaults: &str,
    source: &str,
    hook: bool,
) -> (Env, Vec<u8>, Vec<serde_json::Value>) {
    let env = Env::new();
    let pidfile = env.tmp.path().join("app.pid");
    let source = if hook {
        format!("{source}\nreopen = {{ signal = \"HUP\", pidfile = {pidfile:?} }}")
    } else {
        source.to_string()
    };
    env.config(&format!("schedule = \"every 1s\"\n{defaults}"), &source);
    let writer = Writer::start(
        &env.log("app.log"),
        mode,
        3000,
        0.001,
        hook.then_some(pidfile.as_path()),
    );
    let mut d = env.daemon();
    let expected = writer.expected();
    writer.wait();
    // Let the last cut's compression finish, then stop.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.stop().success());
    let cuts = env.journal_actions("rotate");
    (env, expected, cuts)
}

/// Every cut while the writer ran was a copy-truncate for `why`; once it
/// exited, nothing holds the file and `auto` renames.
fn assert_copytruncate_while_written(cuts: &[serde_json::Value], why: &str) {
    let ct = cuts
        .iter()
        .take_while(|c| c["strategy"] == "copytruncate")
        .count();
    assert!(
        ct >= 2,
        "expected several copy-truncates while the writer ran: {cuts:?}"
    );
    for c in &cuts[..ct] {
        assert!(c["reason"].as_str().unwrap().contains(why), "{c}");
        assert_eq!(c["status"], "ok");
    }
    for c in &cuts[ct..] {
        assert_eq!(c["strategy"], "rename", "{c}");
        assert!(
            c["reason"]
                .as_str()
                .unwrap()
                .contains("no process holds it open"),
            "{c}"
        );
    }
}

fn assert_history(env: &Env, expected: &[u8], strip_nuls: bool) {
    let mut got = env.history("app.log");
    if strip_nuls {
        got.retain(|b| *b != 0);
    }
    assert!(
        got == expected,
        "history differs from what was written: {}",
        diff_seqs(&got, expected.len() / 50)
    );
    assert!(env.leftovers().is_empty(), "{:?}", env.leftovers());
}

#[test]
fn copytruncate_with_an_o_append_writer_holding_the_file_loses_nothing() {
    let (env, expected, cuts) = run_with_writer("append", "", "", false);
    assert_copytruncate_while_written(&cuts, "held open for writing");
    assert_history(&env, &expected, false);
    assert!(
        env.archives("app.log").iter().all(|a| a.ends_with(".gz")),
        "{:?}",
        env.archives("app.log")
    );
}

#[test]
fn copytruncate_with_a_writer_without_o_append_ships_no_nul_hole() {
    let (env, expected, cuts) = run_with_writer("noappend", "", "", false);
    assert_copytruncate_while_written(&cuts, "held open for writing");
    // The archives must not contain the hole a non-O_APPEND writer leaves.
    for a in env.archives("app.log") {
        let bytes = read_maybe_gz(&env.logs.join(&a));
        if let Some(i) = bytes.iter().position(|b| *b == 0) {
            let j = bytes[i..]
                .iter()
                .position(|b| *b != 0)
                .map_or(bytes.len(), |k| i + k);
            let lo = i.saturating_sub(60);
            let hi = (j + 60).min(bytes.len());
            panic!(
                "{a} contains NUL bytes: {} NULs at {i}..{j} of {}; around: {:?}; journal: {:?}",
                j - i,
                bytes.len(),
                String::from_utf8_lossy(&bytes[lo..hi]),
                env.journal_actions("rotate")
            );
        }
    }
    // The live file may still have a hole after the last cut; nothing else.
    assert_history(&env, &expected, true);
}

#[test]
fn a_flock_holding_writer_gets_copytruncate_because_of_the_lock() {
    let (env, expected, cuts) = run_with_writer("flock", "", "", false);
    assert_copytruncate_while_written(&cuts, "locked (flock");
    assert_history(&env, &expected, false);
}

#[test]
fn rename_with_a_writer_that_reopens_on_sighup() {
    let (env, expected, cuts) = run_with_writer("append", "", "", true);
    assert!(cuts.len() >= 2, "{cuts:?}");
    for c in &cuts {
        assert_eq!(c["strategy"], "rename", "{c}");
    }
    assert_history(&env, &expected, false);
    let compressed = env.journal_actions("compress");
    assert!(!compressed.is_empty());
}

#[test]
fn explicit_copytruncate_and_rename_without_writers() {
    for strategy in ["copytruncate", "rename"] {
        let env = Env::new();
        env.config(
            &format!("strategy = \"{strategy}\"\nschedule = \"daily\""),
            "",
        );
        let data = expected_lines(1000);
        std::fs::write(env.log("app.log"), &data).unwrap();
        let out = env.run(&["rotate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(env.history("app.log"), data, "{strategy}");
        let archives = env.archives("app.log");
        assert_eq!(archives.len(), 1, "{archives:?}");
        assert!(archives[0].ends_with(".gz"));
        let cut = &env.journal_actions("rotate")[0];
        assert_eq!(cut["strategy"], strategy);
        let gz = &env.journal_actions("compress")[0];
        assert_eq!(gz["status"], "ok");
    }
}

#[test]
fn archive_names_take_the_next_number_in_a_period_and_never_overwrite() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T10:00:00Z");
    env.config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log.2026-11-21.gz"), b"not ours to overwrite").unwrap();
    for i in 0..3 {
        std::fs::write(env.log("app.log"), format!("cut {i}\n")).unwrap();
        assert!(env.run(&["rotate"]).status.success());
    }
    assert_eq!(
        env.archives("app.log"),
        [
            "app.log.2026-11-21.gz",
            "app.log.2026-11-21.1.gz",
            "app.log.2026-11-21.2.gz",
            "app.log.2026-11-21.3.gz"
        ]
    );
    assert_eq!(
        std::fs::read(env.log("app.log.2026-11-21.gz")).unwrap(),
        b"not ours to overwrite"
    );
    assert_eq!(
        read_maybe_gz(&env.log("app.log.2026-11-21.3.gz")),
        b"cut 2\n"
    );
}

#[test]
fn delay_compress_keeps_the_newest_archive_plain() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T10:00:00Z");
    env.config("delay_compress = true", "");
    for i in 0..2 {
        std::fs::write(env.log("app.log"), format!("cut {i}\n")).unwrap();
        assert!(env.run(&["rotate"]).status.success());
    }
    assert_eq!(
        env.archives("app.log"),
        ["app.log.2026-11-21.gz", "app.log.2026-11-21.1"]
    );
}

#[test]
fn create_recreates_the_file_with_its_mode() {
    let env = Env::new();
    env.config("create = true\nstrategy = \"rename\"", "");
    std::fs::write(env.log("app.log"), b"x\n").unwrap();
    set_mode(&env.log("app.log"), 0o640);
    assert!(env.run(&["rotate"]).status.success());
    let meta = std::fs::metadata(env.log("app.log")).unwrap();
    assert_eq!(meta.len(), 0);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o640
    );
    // The archive is never more permissive than its source.
    let gz = env.logs.join(&env.archives("app.log")[0]);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(gz).unwrap().permissions())
            & 0o777;
    assert_eq!(mode & !0o640, 0, "archive mode {mode:o}");
}

#[test]
fn max_size_triggers_a_cut_between_scheduled_ones() {
    let env = Env::new();
    env.config("schedule = \"daily\"\nmax_size = \"10KiB\"", "");
    std::fs::write(env.log("app.log"), b"small\n").unwrap();
    let mut d = env.daemon();
    std::fs::write(env.log("app.log"), expected_lines(400)).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || env
            .archives("app.log")
            .iter()
            .any(|a| a.ends_with(".gz"))),
        "no size-triggered cut"
    );
    assert!(d.stop().success());
    let cut = &env.journal_actions("rotate")[0];
    assert!(
        cut["reason"].as_str().unwrap().contains("trigger max_size"),
        "{cut}"
    );
}

/// `chattr +a` on the directory makes every rename in it fail with EPERM
/// (root only; skipped otherwise): auto falls back to copy-truncate.
#[test]
fn rename_failing_with_eperm_falls_back_to_copytruncate() {
    let env = Env::new();
    env.config("", "");
    let data = expected_lines(100);
    std::fs::write(env.log("app.log"), &data).unwrap();
    let ok = std::process::Command::new("chattr")
        .arg("+a")
        .arg(&env.logs)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: chattr +a needs root and a filesystem that supports it");
        return;
    }
    let out = env.run(&["rotate"]);
    let _ = std::process::Command::new("chattr")
        .arg("-a")
        .arg(&env.logs)
        .status();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cut = &env.journal_actions("rotate")[0];
    assert_eq!(cut["strategy"], "copytruncate", "{cut}");
    assert!(
        cut["reason"].as_str().unwrap().contains("rename failed"),
        "{cut}"
    );
    // Nothing can be removed from an append-only directory, so the archive
    // stays uncompressed there; its content is what was written.
    let mut got = Vec::new();
    for a in env
        .archives("app.log")
        .iter()
        .filter(|a| !a.ends_with(".gz"))
    {
        got.extend(std::fs::read(env.logs.join(a)).unwrap());
    }
    got.extend(std::fs::read(env.log("app.log")).unwrap());
    assert_eq!(got, data);
}

#[test]
fn a_renamed_file_is_compressed_only_after_its_writer_lets_go() {
    let env = Env::new();
    // Explicit rename, no reopen hook: the writer keeps writing into the renamed file.
    env.config(
        "strategy = \"rename\"\nschedule = \"daily\"\nwriter_grace = \"1h\"",
        "",
    );
    let writer = Writer::start(&env.log("app.log"), "append", 150, 0.02, None);
    let mut d = env.daemon();
    std::thread::sleep(Duration::from_millis(300));
    d.signal(libc::SIGUSR1);
    assert!(wait_for(Duration::from_secs(10), || !env
        .archives("app.log")
        .is_empty()));
    // While the writer holds it, the archive stays plain (its late lines must land).
    std::thread::sleep(Duration::from_millis(1500));
    let archives = env.archives("app.log");
    assert!(
        archives.len() == 1 && !archives[0].ends_with(".gz"),
        "{archives:?}"
    );
    let expected = writer.expected();
    writer.wait();
    assert!(
        wait_for(Duration::from_secs(10), || env
            .archives("app.log")
            .iter()
            .all(|a| a.ends_with(".gz"))),
        "{:?}",
        env.archives("app.log")
    );
    assert!(d.stop().success());
    let got = env.history("app.log");
    assert!(got == expected, "{}", diff_seqs(&got, 150));
}
