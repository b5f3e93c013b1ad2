//! Peers' scenarios: the black-box scenarios of logrotate's own test suite
//! (logrotate/logrotate, `test/test-NNNN.sh`) that apply to logwarden,
//! ported to logwarden's terms. Where logwarden differs from logrotate by
//! design, logwarden's behaviour is what is checked, and the test says so:
//! archives are named by period (`<file>.<YYYY-MM-DD>[.N].gz`) instead of
//! being shifted (`.1`, `.2` …), a glob that matches nothing is never an
//! error (every source behaves as `missingok`), symlinks and hard-linked
//! files are always left alone (there is no `allowhardlink`), a taken
//! archive name makes the cut take the next `.N` instead of failing, a
//! corrupt state file is moved aside instead of stopping the run, and
//! copy-truncate drops holes instead of copying them sparsely.
//!
//! | scenario | logrotate test(s) | here |
//! |---|---|---|
//! | symlinked log, every strategy | 0023, 0024 | [`a_symlinked_log_is_not_followed_and_its_target_is_untouched`] |
//! | symlink pointing outside the dir | 0023 | covered by `security::a_symlink_pointing_outside_is_never_followed` |
//! | source dir reached through a symlink | 0111 | [`a_source_directory_reached_through_a_symlink_is_rotated`] |
//! | hard-linked log (both names in the glob) | 0090, 0091 | [`hard_linked_logs_are_skipped_and_both_names_stay_untouched`] |
//! | FIFO in the glob (check, rotate, daemon) | 0112 | covered by `security::a_fifo_matching_the_glob_does_not_hang_anything` |
//! | FIFO with an archive's name | 0112 | [`a_fifo_named_like_an_archive_is_neither_opened_nor_compressed`] |
//! | missing file (glob matches nothing), stale state entry | 0021, 0068 | [`a_glob_matching_nothing_is_not_an_error_and_stale_state_is_dropped`] |
//! | missing source directory | 0021 | [`a_missing_source_directory_is_a_clear_status_not_an_error_storm`] |
//! | rotation target taken by a regular `.gz` | 0030 | covered by `rotation::archive_names_take_the_next_number_in_a_period_and_never_overwrite` |
//! | rotation target taken by a plain file, a symlink, a directory | 0030 | [`archive_names_taken_by_other_kinds_of_entry_get_the_next_number`] |
//! | corrupt (torn) state file, daemon | 0046 | covered by `lifecycle::a_corrupt_state_file_is_moved_aside_not_fatal` |
//! | corrupt (torn) state file, one-shot rotate | 0046 | [`a_torn_state_file_is_moved_aside_and_the_rotation_still_happens`] |
//! | two concurrent `rotate` runs | 0087, 0092, 0093 | [`a_second_rotate_waits_for_the_first_and_cuts_only_what_is_new`] |
//! | daemon already running, second daemon | 0087 | covered by `lifecycle::a_second_instance_fails_fast_naming_the_first` |
//! | count retention boundary (`rotate N`) | 0002, 0085 | [`max_archives_keeps_exactly_n_at_the_boundary`] |
//! | age retention boundary (`maxage`) | 0085, 0086 | [`max_age_boundary_to_the_second`] (half-day steps: `retention::max_age_boundary_29_30_31_days_and_nothing_else_is_touched`) |
//! | sparse file, copy-truncate, hole inside / at the end | 0062, 0063 | [`copytruncate_of_a_sparse_file_archives_only_the_written_bytes`] |
//! | compressor failure (full disk) | 0057, 0112 | [`a_failed_compression_keeps_the_plain_archive_and_is_retried`] |
//! | crash mid-compression | — | covered by `lifecycle::a_crash_mid_compression_is_finished_at_restart` |
//! | same-period rerun (forced and scheduled) | 0001, 0113 | [`a_rerun_in_the_same_period_cuts_nothing_new_twice`] |
//!
//! Not ported: logrotate's config-parser tests, scripts (`prerotate`,
//! `postrotate`, `sharedscripts`), mail, `olddir`, `dateformat`, ACL and
//! SELinux tests, `su`/`create` owner tests (covered elsewhere in logwarden's
//! terms), and the numbered-shift tests (logwarden never renames an archive).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::process::Stdio;
use std::time::Duration;

use crate::harness::*;
use crate::mirror::mount_tmpfs;

const NOW: &str = "2026-11-21T10:00:00Z";
const DAY: &str = "2026-11-21";

/// `logwarden rotate` at `now` that may fail: (exit code, stdout, stderr).
fn rotate_at_any(env: &Env, now: &str) -> (Option<i32>, String, String) {
    let out = env
        .cmd(&["rotate"])
        .env("LOGWARDEN_FAKE_NOW", now)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Journal records that say something failed.
fn failures(env: &Env) -> Vec<serde_json::Value> {
    env.journal()
        .into_iter()
        .filter(|r| r["status"] == "failed")
        .collect()
}

fn mkfifo(p: &std::path::Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// (inode, size, mtime, content) of a file, to prove it was not touched.
fn fingerprint(p: &std::path::Path) -> (u64, u64, i64, Vec<u8>) {
    let m = std::fs::metadata(p).unwrap();
    (m.ino(), m.len(), m.mtime(), std::fs::read(p).unwrap())
}

/// logrotate 0023 (rename) and 0024 (copytruncate): a log that is a symlink
/// to another file of the same directory. logrotate refuses to rotate it
/// since 3.8.2; logwarden never follows a link either, under any strategy:
/// the link and its target (which the glob does not match) are left exactly
/// as they were, nothing is archived, and the skip is journaled.
#[test]
fn a_symlinked_log_is_not_followed_and_its_target_is_untouched() {
    for strategy in ["rename", "copytruncate", "auto"] {
        let env = Env::new();
        env.config(&format!("strategy = \"{strategy}\""), "");
        std::fs::write(env.log("app.real"), b"zero\n").unwrap();
        std::os::unix::fs::symlink("app.real", env.log("app.log")).unwrap();
        std::fs::write(env.log("other.log"), b"other\n").unwrap();
        let before = fingerprint(&env.log("app.real"));
        env.rotate_at(NOW);
        assert_eq!(fingerprint(&env.log("app.real")), before, "{strategy}");
        assert_eq!(
            std::fs::read_link(env.log("app.log")).unwrap(),
            std::path::Path::new("app.real"),
            "{strategy}"
        );
        assert!(env.archives("app.log").is_empty(), "{strategy}");
        assert!(env.archives("app.real").is_empty(), "{strategy}");
        // The regular file next to it is rotated as usual.
        assert_eq!(
            env.archives("other.log"),
            [format!("other.log.{DAY}.gz")],
            "{strategy}"
        );
        let skips = env.journal_actions("skip");
        assert!(
            skips.iter().any(|s| s["resource"]["path"]
                .as_str()
                .is_some_and(|r| r.ends_with("/app.log"))
                && s["new"].as_str().unwrap().contains("symbolic link")),
            "{strategy}: {skips:?}"
        );
        assert!(env.leftovers().is_empty());
    }
}

/// logrotate 0111: the log directory is reached through a symlinked
/// directory. The configured path is root's to choose and may pass through
/// links (only what is inside the directory may not): the file is rotated.
#[test]
fn a_source_directory_reached_through_a_symlink_is_rotated() {
    let env = Env::new();
    let link = env.tmp.path().join("logs-link");
    std::os::unix::fs::symlink(&env.logs, &link).unwrap();
    let text = format!(
        "state_dir = {:?}\n\n[defaults]\nmode = \"rotate\"\ntimezone = \"UTC\"\n\n[[source]]\nname = \"app\"\ndir = {link:?}\ninclude = [\"*.log\"]\n",
        env.state
    );
    std::fs::write(&env.config, text).unwrap();
    std::fs::write(env.log("app.log"), b"first\n").unwrap();
    env.rotate_at(NOW);
    assert_eq!(env.archives("app.log"), [format!("app.log.{DAY}.gz")]);
    assert_eq!(env.history("app.log"), b"first\n");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// logrotate 0090 (a file with two hard links is not rotated by default);
/// 0091 (`allowhardlink` rotates it) has no counterpart: logwarden always
/// skips hard-linked files, since renaming one name would leave the other
/// behind. Here both names are in the directory and both match the glob:
/// neither is rotated, truncated or archived, the file keeps both links and
/// its content, and each name's skip is journaled.
#[test]
fn hard_linked_logs_are_skipped_and_both_names_stay_untouched() {
    for strategy in ["rename", "copytruncate"] {
        let env = Env::new();
        env.config(&format!("strategy = \"{strategy}\""), "");
        std::fs::write(env.log("real.log"), b"zero\n").unwrap();
        std::fs::hard_link(env.log("real.log"), env.log("test.log")).unwrap();
        let before = fingerprint(&env.log("real.log"));
        env.rotate_at(NOW);
        assert_eq!(fingerprint(&env.log("real.log")), before, "{strategy}");
        assert_eq!(fingerprint(&env.log("test.log")), before, "{strategy}");
        assert_eq!(std::fs::metadata(env.log("test.log")).unwrap().nlink(), 2);
        assert_eq!(
            env.names(),
            ["real.log", "test.log"],
            "{strategy}: nothing archived"
        );
        let skips = env.journal_actions("skip");
        for n in ["real.log", "test.log"] {
            assert!(
                skips.iter().any(|s| s["resource"]["path"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!("/{n}")))
                    && s["new"].as_str().unwrap().contains("hard links")),
                "{strategy} {n}: {skips:?}"
            );
        }
        assert!(env.journal_actions("rotate").is_empty());
    }
}

/// logrotate 0112 renames a FIFO matched by the glob and then fails to
/// compress it. logwarden never opens a FIFO (a FIFO matched by the glob is
/// covered by `security::a_fifo_matching_the_glob_does_not_hang_anything`);
/// here the FIFO carries an archive's name, so it also lands among the
/// compression and retention candidates: it is neither opened (no hang),
/// compressed nor deleted, the run succeeds, and the real log next to it is
/// cut and compressed.
#[test]
fn a_fifo_named_like_an_archive_is_neither_opened_nor_compressed() {
    let env = Env::new();
    env.config("max_archives = 1", "");
    mkfifo(&env.log("app.log.2026-11-19"));
    mkfifo(&env.log("pipe.log"));
    std::fs::write(env.log("app.log"), b"ok\n").unwrap();
    let (code, out, err) = rotate_at_any(&env, NOW); // no hang: `output` returns
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        env.names(),
        [
            "app.log.2026-11-19".to_string(),
            format!("app.log.{DAY}.gz"),
            "pipe.log".to_string()
        ]
    );
    for f in ["app.log.2026-11-19", "pipe.log"] {
        assert!(std::fs::symlink_metadata(env.log(f))
            .unwrap()
            .file_type()
            .is_fifo());
    }
    // (Not `env.history`: reading the FIFO as an archive would block.)
    assert_eq!(
        read_maybe_gz(&env.log(&format!("app.log.{DAY}.gz"))),
        b"ok\n"
    );
    assert!(failures(&env).is_empty(), "{:?}", failures(&env));
    // And a second run (the housekeeping pass again) is just as quiet.
    let (code, out, err) = rotate_at_any(&env, NOW);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(failures(&env).is_empty(), "{:?}", failures(&env));
}

/// logrotate 0021: the glob matches no file (logrotate needs `missingok`
/// not to fail; logwarden's sources are globs and a glob that matches
/// nothing is never an error). `rotate` succeeds and says there was nothing
/// to cut, `check` says no file matches, nothing is journaled as failed.
/// logrotate 0068: state entries of files that are gone are dropped.
#[test]
fn a_glob_matching_nothing_is_not_an_error_and_stale_state_is_dropped() {
    let env = Env::new();
    env.config("", "");
    std::fs::write(env.log("differenttest.txt"), b"not matched\n").unwrap();
    for _ in 0..2 {
        let (code, out, err) = rotate_at_any(&env, NOW);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains("nothing to cut"), "{out}");
    }
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("files:     none match now"), "{text}");
    assert_eq!(
        std::fs::read(env.log("differenttest.txt")).unwrap(),
        b"not matched\n"
    );

    // A file that was seen, cut, and then went away.
    std::fs::write(env.log("app.log"), b"once\n").unwrap();
    env.rotate_at(NOW);
    let state = || std::fs::read_to_string(env.state.join("state.json")).unwrap();
    assert!(state().contains("\"app/app.log\""), "{}", state());
    assert!(!env.log("app.log").exists(), "renamed, not re-created");
    env.rotate_at("2026-11-21T11:00:00Z");
    assert!(!state().contains("app/app.log"), "{}", state());
    assert!(failures(&env).is_empty(), "{:?}", failures(&env));
    assert_eq!(env.archives("app.log"), [format!("app.log.{DAY}.gz")]);
}

/// logrotate 0021, for a whole directory: the source directory does not
/// exist. `rotate` and `check` succeed and say so; `status` names the
/// problem; a daemon rescanning every second journals no error for it (no
/// error storm), and picks the directory up once it appears.
#[test]
fn a_missing_source_directory_is_a_clear_status_not_an_error_storm() {
    let env = Env::new();
    env.config("", "");
    env.config_top("rescan_interval = \"1s\"");
    std::fs::remove_dir(&env.logs).unwrap();
    for _ in 0..2 {
        let (code, out, err) = rotate_at_any(&env, NOW);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains("nothing to cut"), "{out}");
    }
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("does not exist"), "{text}");
    let out = env.run(&["status", "--json"]);
    assert!(out.status.success());
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = st["sources"][0]["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("does not exist"), "{st}");
    let out = env.run(&["status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not exist"));
    assert!(failures(&env).is_empty(), "{:?}", failures(&env));

    let mut d = env.daemon();
    // Several rescans of the missing directory.
    std::thread::sleep(Duration::from_millis(3500));
    assert!(d.alive());
    let about_dir = |env: &Env| {
        failures(env)
            .into_iter()
            .filter(|r| r.to_string().contains("/logs"))
            .count()
    };
    assert!(about_dir(&env) <= 1, "{:?}", failures(&env));
    std::fs::create_dir(&env.logs).unwrap();
    set_mode(&env.logs, 0o755);
    std::fs::write(env.log("app.log"), b"late\n").unwrap();
    // Once the directory is there the source works: a rotate request cuts.
    assert!(wait_for(Duration::from_secs(10), || {
        d.signal(libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(300));
        !env.archives("app.log").is_empty()
    }));
    assert!(d.stop().success());
    assert!(about_dir(&env) <= 1, "{:?}", failures(&env));
    assert_eq!(env.history("app.log"), b"late\n");
}

/// logrotate 0030: the archive name of today is taken; logrotate then
/// refuses to rotate. logwarden never overwrites either, but takes the next
/// `.N` of the period (a taken `.gz` alone is covered by
/// `rotation::archive_names_take_the_next_number_in_a_period_and_never_overwrite`).
/// Here the names are taken by other kinds of entry: a plain file someone
/// left (an archive by its name, so it is compressed, its bytes kept), a
/// symlink to a file outside next to a `.gz` of the same name (never
/// followed, never taken for a half-finished compression), and a directory.
/// None of them is opened, compressed, replaced or deleted; the run succeeds
/// without an error, and so does the next one.
#[test]
fn archive_names_taken_by_other_kinds_of_entry_get_the_next_number() {
    let env = Env::new();
    env.config("", "");
    let outside = env.tmp.path().join("outside.txt");
    std::fs::write(&outside, b"outside, not ours\n").unwrap();
    let outside_before = fingerprint(&outside);
    let name = |n: &str| env.log(&format!("app.log.{DAY}{n}"));
    std::fs::write(name(""), b"left here\n").unwrap();
    std::os::unix::fs::symlink(&outside, name(".1")).unwrap();
    std::fs::write(name(".1.gz"), b"someone's gz").unwrap();
    std::fs::create_dir(name(".2")).unwrap();
    std::fs::write(env.log("app.log"), b"cut 1\n").unwrap();
    let (code, out, err) = rotate_at_any(&env, NOW);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(read_maybe_gz(&name(".3.gz")), b"cut 1\n");
    assert_eq!(read_maybe_gz(&name(".gz")), b"left here\n");
    let untouched = |env: &Env| {
        assert_eq!(fingerprint(&outside), outside_before);
        assert_eq!(std::fs::read_link(name(".1")).unwrap(), outside);
        assert_eq!(std::fs::read(name(".1.gz")).unwrap(), b"someone's gz");
        assert!(name(".2").is_dir());
        assert!(failures(env).is_empty(), "{:?}", failures(env));
        assert!(env.journal_actions("retention.delete").is_empty());
    };
    untouched(&env);

    std::fs::write(env.log("app.log"), b"cut 2\n").unwrap();
    let (code, out, err) = rotate_at_any(&env, NOW);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(read_maybe_gz(&name(".4.gz")), b"cut 2\n");
    untouched(&env);
    assert_eq!(
        env.names(),
        [
            format!("app.log.{DAY}.1"),
            format!("app.log.{DAY}.1.gz"),
            format!("app.log.{DAY}.2"),
            format!("app.log.{DAY}.3.gz"),
            format!("app.log.{DAY}.4.gz"),
            format!("app.log.{DAY}.gz"),
        ]
    );
    assert!(env.leftovers().is_empty());
}

/// logrotate 0046: the state file is torn (a truncated write) — logrotate
/// reports the bad line and exits non-zero. logwarden by design moves a
/// state file that does not parse aside, journals that, and goes on: the
/// forced cut still happens, a valid state file is written, and the next
/// run does not find anything to move aside again. (The daemon's start is
/// covered by `lifecycle::a_corrupt_state_file_is_moved_aside_not_fatal`.)
#[test]
fn a_torn_state_file_is_moved_aside_and_the_rotation_still_happens() {
    let env = Env::new();
    env.config("", "");
    std::fs::create_dir_all(&env.state).unwrap();
    let torn = b"{\n  \"version\": 1,\n  \"files\": {\n    \"app/app.log\": {\n      \"anchor\": \"2000-01-";
    std::fs::write(env.state.join("state.json"), torn).unwrap();
    std::fs::write(env.log("app.log"), b"zero\n").unwrap();
    env.rotate_at(NOW);
    assert_eq!(env.archives("app.log"), [format!("app.log.{DAY}.gz")]);
    assert_eq!(env.history("app.log"), b"zero\n");
    let aside: Vec<_> = std::fs::read_dir(&env.state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), torn, "kept as it was");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.state.join("state.json")).unwrap()).unwrap();
    assert!(
        state["files"]["app/app.log"]["last_cut"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-11-21T10:00:00")),
        "{state}"
    );
    let rec = env.journal_actions("state.recover");
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert!(rec[0]["error"].as_str().unwrap().contains("moved aside"));
    // The new state file is good: nothing more is moved aside.
    env.rotate_at("2026-11-21T11:00:00Z");
    assert_eq!(env.journal_actions("state.recover").len(), 1);
    env.assert_verifies();
}

/// logrotate 0087 (a second instance on a locked state file fails), 0092
/// (a foreign lock on the state file) and 0093 (`--wait-for-state-lock`:
/// the second waits, then rotates what is new). Two `logwarden rotate` at
/// once: the second finds the state lock held by the first, which is not
/// a daemon it could ask (SIGUSR1 would kill a one-shot run), so it waits
/// for it, then does its own pass. The first is stopped mid-cut by its
/// reopen hook until the second is known to be waiting, so the overlap is
/// certain. The first cut's bytes are archived once; the second cuts only
/// what was written meanwhile, as the period's `.1`.
#[test]
fn a_second_rotate_waits_for_the_first_and_cuts_only_what_is_new() {
    let env = Env::new();
    let started = env.tmp.path().join("hook-started");
    let go = env.tmp.path().join("go");
    let hook = format!(
        "touch {s}; i=0; while [ ! -e {g} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done",
        s = started.display(),
        g = go.display()
    );
    env.config(
        "strategy = \"rename\"",
        &format!("reopen = {{ command = [\"/bin/sh\", \"-c\", {hook:?}] }}"),
    );
    std::fs::write(env.log("app.log"), b"first\n").unwrap();
    let mut first = env
        .cmd(&["rotate"])
        .env("LOGWARDEN_FAKE_NOW", NOW)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first_pid = first.id().to_string();
    // The first holds the lock and has renamed app.log; its hook waits for `go`.
    let hooked = wait_for(Duration::from_secs(30), || started.exists());
    if !hooked {
        let _ = first.kill();
    }
    assert!(hooked, "the first rotate never reached its reopen hook");
    assert!(env.log(&format!("app.log.{DAY}")).exists());
    std::fs::write(env.log("app.log"), b"second\n").unwrap();

    let mut second = env
        .cmd(&["rotate"])
        .env("LOGWARDEN_FAKE_NOW", NOW)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its first line says what it does about the held lock.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = second.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send(line);
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut r, &mut rest);
        rest
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    // Let the first finish, whatever the second did.
    std::fs::File::create(&go).unwrap().flush().unwrap();
    let first_out = first.wait_with_output().unwrap();
    let second_out = second.wait_with_output().unwrap();
    let rest = reader.join().unwrap();
    assert!(
        line.contains("waiting") && line.contains(&first_pid),
        "the second rotate did not wait for the first: {line:?} {rest:?}; the first: {:?}",
        first_out.status
    );
    assert!(
        first_out.status.success(),
        "the first rotate did not finish: {:?} {}",
        first_out.status,
        String::from_utf8_lossy(&first_out.stderr)
    );
    assert!(
        second_out.status.success(),
        "{line}{rest}{}",
        String::from_utf8_lossy(&second_out.stderr)
    );
    assert_eq!(
        env.archives("app.log"),
        [format!("app.log.{DAY}.gz"), format!("app.log.{DAY}.1.gz")]
    );
    assert_eq!(env.history("app.log"), b"first\nsecond\n");
    assert_eq!(env.journal_actions("rotate").len(), 2);
    assert!(env.leftovers().is_empty());
    env.assert_verifies();
}

/// logrotate 0002 (`rotate 2` with three old logs keeps two) and 0085 (no
/// `test.log.10` is ever created with `rotate 9`), as `max_archives`:
/// exactly N archives are all kept; the cut that makes N + 1 deletes the
/// oldest one only, journaled with its reason.
#[test]
fn max_archives_keeps_exactly_n_at_the_boundary() {
    let env = Env::new();
    env.config("max_archives = 3\nmax_age = \"none\"", "");
    for d in ["2026-11-18", "2026-11-19", "2026-11-20"] {
        std::fs::write(env.log(&format!("app.log.{d}.gz")), b"x").unwrap();
    }
    env.rotate_at(NOW); // nothing to cut: housekeeping only
    assert_eq!(
        env.archives("app.log"),
        [
            "app.log.2026-11-18.gz",
            "app.log.2026-11-19.gz",
            "app.log.2026-11-20.gz"
        ]
    );
    assert!(env.journal_actions("retention.delete").is_empty());
    std::fs::write(env.log("app.log"), b"new\n").unwrap();
    env.rotate_at(NOW);
    assert_eq!(
        env.archives("app.log"),
        [
            "app.log.2026-11-19.gz".to_string(),
            "app.log.2026-11-20.gz".to_string(),
            format!("app.log.{DAY}.gz")
        ]
    );
    let deleted = env.journal_actions("retention.delete");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(deleted[0]["resource"]["path"]
        .as_str()
        .unwrap()
        .ends_with("app.log.2026-11-18.gz"));
    assert!(deleted[0]["reason"]
        .as_str()
        .unwrap()
        .contains("max_archives (3)"));
}

/// logrotate 0085/0086 (`maxage`: logs older than N days go, by mtime, at
/// -23 h / -24 h / -25 h). logwarden ages an archive from the end of the
/// period its name labels (src/retain.rs) and deletes it only when it is
/// strictly older than `max_age`: with `max_age = 30d`, a daily archive
/// labelled D is kept until D + 1 day + 30 days and deleted after it. The
/// exact instant is unit-tested in retain.rs (a one-shot run's clock moves
/// on while it works); here one second either side, and a day past.
#[test]
fn max_age_boundary_to_the_second() {
    let env = Env::new();
    env.config("max_age = \"30d\"", "");
    for n in ["app.log.2026-10-20.gz", "app.log.2026-10-21.gz"] {
        std::fs::write(env.log(n), b"x").unwrap();
    }
    // 2026-10-21 ends at 2026-10-22T00:00Z: 30 days old at 2026-11-21T00:00Z.
    // One second before that, 2026-10-20 is a day (less a second) past it.
    env.rotate_at("2026-11-20T23:59:59Z");
    assert_eq!(env.archives("app.log"), ["app.log.2026-10-21.gz"]);
    // One second after it.
    env.rotate_at("2026-11-21T00:00:01Z");
    assert!(env.archives("app.log").is_empty());
    let deleted = env.journal_actions("retention.delete");
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(deleted[0]["resource"]["path"]
        .as_str()
        .unwrap()
        .ends_with("app.log.2026-10-20.gz"));
    assert!(deleted[1]["resource"]["path"]
        .as_str()
        .unwrap()
        .ends_with("app.log.2026-10-21.gz"));
    for d in &deleted {
        assert!(d["reason"].as_str().unwrap().contains("max_age"), "{d}");
    }
}

/// logrotate 0062 (a sparse file: 'zero', a 10 MiB hole, 'x') and 0063 (the
/// hole at the end) with copytruncate. logrotate keeps the archive sparse
/// with the same apparent size; logwarden by design archives only what
/// writers wrote: the archive holds no NUL and is as long as the non-hole
/// bytes (the hole is not materialised), and archive then live file equal
/// exactly the non-hole bytes.
#[test]
fn copytruncate_of_a_sparse_file_archives_only_the_written_bytes() {
    let env = Env::new();
    env.config("strategy = \"copytruncate\"\ncompress = \"none\"", "");
    // 0062: data, hole, data.
    {
        let mut f = std::fs::File::create(env.log("mid.log")).unwrap();
        f.write_all(b"first line\n").unwrap();
        f.set_len(10 << 20).unwrap();
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).unwrap();
        f.write_all(b"last line\n").unwrap();
    }
    // 0063: data, then a hole to the end.
    {
        let f = std::fs::File::create(env.log("tail.log")).unwrap();
        (&f).write_all(b"only line\n").unwrap();
        f.set_len(10 << 20).unwrap();
    }
    for n in ["mid.log", "tail.log"] {
        let m = std::fs::metadata(env.log(n)).unwrap();
        if m.blocks() * 512 >= 1 << 20 {
            eprintln!("SKIPPED: this file system does not make sparse files");
            return;
        }
    }
    env.rotate_at(NOW);
    for (n, want) in [
        ("mid.log", &b"first line\nlast line\n"[..]),
        ("tail.log", &b"only line\n"[..]),
    ] {
        let archives = env.archives(n);
        assert!(!archives.is_empty(), "{n}: {:?}", env.names());
        for a in &archives {
            let bytes = std::fs::read(env.log(a)).unwrap();
            assert!(!bytes.contains(&0), "{a} holds NULs");
            assert!(
                std::fs::metadata(env.log(a)).unwrap().len() < 64,
                "{a}: the hole was materialised"
            );
        }
        let live = std::fs::read(env.log(n)).unwrap();
        assert!(!live.contains(&0), "{n}: the live file kept the hole");
        let mut got = Vec::new();
        for a in &archives {
            got.extend(std::fs::read(env.log(a)).unwrap());
        }
        got.extend(live);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "{n}"
        );
    }
    assert!(env.leftovers().is_empty());
}

/// A tiny xorshift stream: bytes gzip cannot shrink. Without NULs: a NUL
/// run that opens a line is taken for a writer's hole and not archived
/// (src/sparse.rs), which is right for logs, not for random bytes.
fn incompressible(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 24) as u8).max(1)
        })
        .collect()
}

/// logrotate 0057 (the compressor reports an error) and 0112 (compression
/// fails). logwarden has no external compressor to fail; what it meets is a
/// full file system, so the gzip temp file cannot be written. The cut itself succeeded (a rename needs no space); the plain
/// archive is kept whole, no partial `.gz` or temp file is left, the failure
/// is journaled and the run exits 1; once there is room, the next run
/// compresses it, and the `.gz` holds exactly the cut bytes.
#[test]
fn a_failed_compression_keeps_the_plain_archive_and_is_retried() {
    let env = Env::new();
    let Some(_guard) = mount_tmpfs(&env.logs, "1m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    set_mode(&env.logs, 0o755);
    env.config("strategy = \"rename\"", "");
    let data = incompressible(640 << 10);
    std::fs::write(env.log("app.log"), &data).unwrap();
    let (code, out, err) = rotate_at_any(&env, NOW);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("cannot compress"), "{out}");
    let plain = env.log(&format!("app.log.{DAY}"));
    assert_eq!(env.archives("app.log"), [format!("app.log.{DAY}")]);
    assert!(
        std::fs::read(&plain).unwrap() == data,
        "the plain archive changed"
    );
    assert!(env.leftovers().is_empty(), "{:?}", env.leftovers());
    let failed = failures(&env);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["action"], "compress");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{failed:?}"
    );
    assert_eq!(env.journal_actions("rotate").len(), 1);

    // Room again: the next run (nothing new to cut) compresses it.
    let grown = std::process::Command::new("mount")
        .args(["-o", "remount,size=8m"])
        .arg(&env.logs)
        .status()
        .is_ok_and(|s| s.success());
    assert!(grown, "cannot grow the tmpfs");
    let (code, out, err) = rotate_at_any(&env, "2026-11-21T11:00:00Z");
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(env.archives("app.log"), [format!("app.log.{DAY}.gz")]);
    assert!(
        env.history("app.log") == data,
        "the .gz differs from the cut"
    );
    assert!(env.leftovers().is_empty());
    let gz: Vec<_> = env
        .journal_actions("compress")
        .into_iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(gz, ["failed", "ok"]);
    assert_eq!(env.journal_actions("rotate").len(), 1, "no second cut");
    env.assert_verifies();
}

/// logrotate 0001 (a rerun in the same period does nothing) and 0113 (not
/// rotated again within the period). `logwarden rotate` always forces a cut,
/// so rerun with nothing new it cuts nothing ("nothing to cut") and changes
/// no archive; with new lines it cuts them as the period's next `.N` (the
/// design's naming), never re-archiving the first cut's bytes. The daemon,
/// which cuts by schedule, started again in the same period cuts nothing;
/// started after the period ended, it catches the missed cut up once.
#[test]
fn a_rerun_in_the_same_period_cuts_nothing_new_twice() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"zero\n").unwrap();
    env.rotate_at(NOW);
    let first = env.names();
    assert_eq!(first, [format!("app.log.{DAY}.gz")]);
    let out = env.rotate_at("2026-11-21T10:30:00Z");
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to cut"));
    assert_eq!(env.names(), first);
    assert_eq!(env.journal_actions("rotate").len(), 1);

    std::fs::write(env.log("app.log"), b"one\n").unwrap();
    env.rotate_at("2026-11-21T11:00:00Z");
    assert_eq!(
        env.archives("app.log"),
        [format!("app.log.{DAY}.gz"), format!("app.log.{DAY}.1.gz")]
    );
    assert_eq!(env.history("app.log"), b"zero\none\n");

    // The daemon, later the same day, with new lines waiting: not due.
    std::fs::write(env.log("app.log"), b"two\n").unwrap();
    let published = env.state.join("status.json");
    let daemon_at = |now: &str| {
        let _ = std::fs::remove_file(&published);
        let mut d = at(&env, now).daemon();
        // status.json is published right after the cutter's first pass.
        assert!(wait_for(Duration::from_secs(10), || std::fs::read(
            &published
        )
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["watched_files"] == 1)));
        assert!(d.stop().success());
    };
    daemon_at("2026-11-21T15:00:00Z");
    assert_eq!(
        env.journal_actions("rotate").len(),
        2,
        "cut again in-period"
    );
    assert_eq!(std::fs::read(env.log("app.log")).unwrap(), b"two\n");

    // After the period: one scheduled (catch-up) cut, labelled by the period.
    daemon_at("2026-11-22T00:00:05Z");
    let cuts = env.journal_actions("rotate");
    assert_eq!(cuts.len(), 3, "{cuts:?}");
    assert!(
        cuts[2]["reason"]
            .as_str()
            .unwrap()
            .contains("trigger schedule"),
        "{}",
        cuts[2]
    );
    let archives = env.archives("app.log");
    assert_eq!(archives.len(), 3, "{archives:?}");
    assert!(
        archives[2].starts_with(&format!("app.log.{DAY}.2")),
        "{archives:?}"
    );
    assert_eq!(env.history("app.log"), b"zero\none\ntwo\n");
}

/// The same environment with the clock of its processes at `now` (for the
/// daemon, which `rotate_at` does not cover).
fn at(env: &Env, now: &str) -> Env {
    Env {
        tmp: tempfile::tempdir().unwrap(),
        logs: env.logs.clone(),
        state: env.state.clone(),
        config: env.config.clone(),
        envs: env.envs.clone(),
    }
    .env("LOGWARDEN_FAKE_NOW", now)
}
