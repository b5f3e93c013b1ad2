//! Faults of the host under a running daemon: the wall clock stepped 40 days
//! ahead and an hour back, the inotify queue overflowing, too few inotify
//! watches, the state dir removed, and EIO from the output filesystem. Each
//! test checks that nothing is lost, doubled or wrongly deleted, and that
//! what happened is journaled.

use std::time::Duration;

use crate::harness::*;
use crate::mirror::Umount;

fn schedule_cuts(env: &Env) -> Vec<serde_json::Value> {
    env.journal_actions("rotate")
        .into_iter()
        .filter(|r| {
            r["reason"]
                .as_str()
                .is_some_and(|s| s.contains("trigger schedule"))
        })
        .collect()
}

/// The wall clock of a running daemon is stepped 40 days ahead, then to
/// just past the next midnight, then one hour back and across that midnight
/// again. The 40-day step makes exactly one cut (labelled with the day its
/// content belongs to) and deletes no archive, although by the wall clock
/// every one is past the 30-day retention (retention ages by trusted time,
/// and journals the step); the midnight cuts once; the step back and the
/// second crossing of the same midnight make no second cut.
#[test]
fn a_clock_stepped_40_days_ahead_and_an_hour_back_cuts_once_and_deletes_nothing() {
    let env = Env::new();
    let step = env.tmp.path().join("clock-step");
    std::fs::write(&step, "0").unwrap();
    let env = env.env("LOGWARDEN_FAKE_STEP_FILE", step.to_str().unwrap());
    env.config("schedule = \"daily\"\nmax_age = \"30d\"", "");
    env.config_top("rescan_interval = \"1s\"");
    // Three earlier days' archives (made here: by the wall clock after the
    // step they are all 41 to 43 days old).
    let log = env.log("app.log");
    let old = [
        "app.log.2026-03-06.gz",
        "app.log.2026-03-07.gz",
        "app.log.2026-03-08.gz",
    ];
    for name in old {
        let day = &name["app.log.".len().."app.log.2026-03-06".len()];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, format!("day {day}\n").as_bytes()).unwrap();
        std::fs::write(env.log(name), gz.finish().unwrap()).unwrap();
    }
    append(&log, "day 2026-03-09\n");
    assert_eq!(env.archives("app.log"), old);

    let env = env.env("LOGWARDEN_FAKE_NOW", "2026-03-09T12:00:00Z");
    let mut d = env.daemon();
    std::thread::sleep(Duration::from_secs(2));
    assert!(schedule_cuts(&env).is_empty(), "no cut before the step");

    let cut_appears = |name: &str| {
        assert!(
            wait_for(Duration::from_secs(15), || env
                .archives("app.log")
                .contains(&name.to_string())),
            "no {name}: {:?}",
            env.archives("app.log")
        );
    };
    // 40 days ahead: one cut, of 2026-03-09.
    std::fs::write(&step, (40 * 86_400).to_string()).unwrap();
    cut_appears("app.log.2026-03-09.gz");
    assert!(
        wait_for(Duration::from_secs(15), || !env
            .journal_actions("clock.step")
            .is_empty()),
        "the step was not journaled"
    );
    append(&log, "day 2026-04-18\n");
    // To just past the next midnight (2026-04-19 00:00): one more cut.
    let past_midnight = 40 * 86_400 + 12 * 3600 + 5;
    std::fs::write(&step, past_midnight.to_string()).unwrap();
    cut_appears("app.log.2026-04-18.gz");
    append(&log, "day 2026-04-19\n");
    // An hour back, to before that midnight, then across it again: no
    // second cut of 2026-04-18.
    std::fs::write(&step, (past_midnight - 3600).to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    std::fs::write(&step, (past_midnight + 30).to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(d.stop().success());

    assert_eq!(schedule_cuts(&env).len(), 2, "{:?}", schedule_cuts(&env));
    assert!(
        env.journal_actions("retention.delete").is_empty(),
        "a clock step deleted archives: {:?}",
        env.journal_actions("retention.delete")
    );
    let mut want: Vec<String> = old.iter().map(|s| s.to_string()).collect();
    want.extend([
        "app.log.2026-03-09.gz".into(),
        "app.log.2026-04-18.gz".into(),
    ]);
    assert_eq!(env.archives("app.log"), want);
    assert_eq!(
        String::from_utf8(env.history("app.log")).unwrap(),
        "day 2026-03-06\nday 2026-03-07\nday 2026-03-08\nday 2026-03-09\nday 2026-04-18\nday 2026-04-19\n"
    );
    env.assert_verifies();
}

/// The inotify queue overflows while the daemon is frozen (SIGSTOP): more
/// than `max_queued_events` events in a watched directory, then a new log
/// whose creation the kernel drops. With the periodic rescan an hour away,
/// only the overflow's "rescan" can find it: it must be mirrored promptly.
#[test]
fn an_inotify_queue_overflow_rescans_and_finds_what_was_dropped() {
    let max_queued: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(16_384);
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("rescan_interval = \"1h\"");
    std::fs::write(env.log("app.log"), "first token=LEAK1\n").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"first token=[REDACTED]\n"));

    d.signal(libc::SIGSTOP);
    // The config directory is watched too; files there that are not
    // config files are events the daemon reads and ignores.
    let flood = env.tmp.path().join("flood");
    for _ in 0..(max_queued / 2 + 100) {
        std::fs::write(&flood, b"x").unwrap();
        std::fs::remove_file(&flood).unwrap();
    }
    std::fs::write(env.log("late.log"), "late token=LEAK2\n").unwrap();
    d.signal(libc::SIGCONT);

    let late = env.mirror_dir().join("late.log");
    assert!(
        wait_for(Duration::from_secs(20), || std::fs::read(&late)
            .is_ok_and(|m| m == b"late token=[REDACTED]\n")),
        "the file created during the overflow was not found"
    );
    assert!(d.alive());
    assert!(d.stop().success());
}

/// Only one inotify watch may be had (a user namespace with
/// `max_inotify_watches = 1`) but the daemon wants three (two source
/// directories and the config directory): it says which directories
/// cannot be watched and what to raise, journals each once, and still
/// mirrors the unwatched directories through its rescans.
#[test]
fn too_few_inotify_watches_is_a_clear_error_and_falls_back_to_rescans() {
    let probe = std::process::Command::new("unshare")
        .args([
            "-U",
            "-r",
            "sh",
            "-c",
            "echo 1 > /proc/sys/user/max_inotify_watches",
        ])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: cannot lower max_inotify_watches in a user namespace here");
        return;
    }
    let env = Env::new();
    let other = env.tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    set_mode(&other, 0o755);
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("rescan_interval = \"1s\"");
    env.config_tail(&format!(
        "[[source]]\nname = \"other\"\ndir = {other:?}\ninclude = [\"*.log\"]\nmode = \"mirror\"\noutput_dir = {:?}\n",
        env.tmp.path().join("mirror-other")
    ));
    let mut d = env.daemon_via(&[
        "unshare",
        "-U",
        "-r",
        "sh",
        "-c",
        "echo 1 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
    ]);
    std::fs::write(env.log("app.log"), "a token=LEAK1\n").unwrap();
    std::fs::write(other.join("b.log"), "b token=LEAK2\n").unwrap();
    assert!(env.mirror_becomes(b"a token=[REDACTED]\n"));
    assert!(wait_for(Duration::from_secs(10), || std::fs::read(
        env.tmp.path().join("mirror-other/b.log")
    )
    .is_ok_and(|m| m == b"b token=[REDACTED]\n")));
    // Several rescans later, still one record per unwatched directory.
    std::thread::sleep(Duration::from_secs(3));
    assert!(d.stop().success());
    let watch = env.journal_actions("watch");
    assert_eq!(watch.len(), 2, "{watch:?}");
    for r in &watch {
        let msg = r["error"].as_str().unwrap();
        assert!(msg.contains("raise fs.inotify.max_user_watches"), "{msg}");
    }
    let err = d.take_stderr();
    assert!(err.contains("max_user_watches"), "{err}");
}

/// The state dir is removed while lines flow (an operator's `rm -rf`): the
/// daemon re-creates it, takes the lock again (a second instance is
/// refused), journals the loss in a new file that continues the chain, and
/// loses or doubles no line, through a restart too. `verify` then reports
/// the missing head of the journal rather than passing.
#[test]
fn a_state_dir_removed_while_running_is_recreated_and_nothing_is_lost() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("rescan_interval = \"1s\"");
    let count = 3000;
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.001, None);
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_lines("app.log")
        > 200));
    std::fs::remove_dir_all(&env.state).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || !env
            .journal_actions("state.lost")
            .is_empty()),
        "the loss was not journaled"
    );
    let second = env.run(&["run"]);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("holds the state lock"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    writer.wait();
    assert!(
        wait_for(Duration::from_secs(15), || env.mirror_lines("app.log")
            >= count),
        "the mirror did not catch up"
    );
    assert!(d.stop().success());
    assert!(env.state.join("tail.json").exists());
    // A restart resumes from the re-created checkpoint: nothing again.
    append(&env.log("app.log"), "after restart\n");
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || {
        String::from_utf8_lossy(&env.mirror_history("app.log")).contains("after restart")
    }));
    assert!(d.stop().success());
    let got = env.mirror_history("app.log");
    let (seen, bad) = count_seqs(&got, count);
    assert!(
        seen.iter().all(|c| *c == 1) && bad == ["after restart"],
        "{}",
        diff_seqs(&got, count)
    );
    assert!(memchr::memmem::find(&got, b"LEAK").is_none());
    let v = env.run(&["verify"]);
    assert!(!v.status.success());
    let out = String::from_utf8_lossy(&v.stdout).into_owned() + &String::from_utf8_lossy(&v.stderr);
    assert!(out.contains("the chain starts at _seq"), "{out}");
}

/// A loop-mounted ext4 output filesystem is shut down under the daemon
/// (EXT4_IOC_SHUTDOWN: every later I/O on it fails with EIO, as a dying
/// disk does, and what was not fsynced is gone). The daemon journals the
/// failure once and keeps running; once the filesystem is mounted again
/// and the daemon restarted, every line is in the mirror exactly once and
/// no secret anywhere. This found a checkpoint saved over mirror bytes
/// whose fsync had failed (the lines written just before the failure were
/// lost): a failed fsync now rebuilds the pipeline from the last saved
/// checkpoint.
#[test]
fn eio_from_the_output_filesystem_loses_nothing() {
    let env = Env::new();
    let out = env.mirror_dir();
    std::fs::create_dir_all(&out).unwrap();
    let img = env.tmp.path().join("out.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let mounted = std::process::Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&img)
        .status()
        .is_ok_and(|s| s.success())
        && mount_loop(&img, &out);
    if !mounted {
        eprintln!("SKIPPED: cannot loop-mount an ext4 image here (needs root)");
        return;
    }
    let guard = Umount::new(&out);
    set_mode(&out, 0o755);
    env.mirror_config("schedule = \"daily\"", "");
    let count = 3000;
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", count, 0.001, None);
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_lines("app.log")
        > 200));
    shutdown_ext4(&out);
    assert!(
        wait_for(Duration::from_secs(10), || !env
            .journal_actions("mirror.write")
            .is_empty()),
        "EIO was not journaled"
    );
    writer.wait();
    std::thread::sleep(Duration::from_secs(1));
    assert!(d.alive());
    d.stop();
    assert_eq!(
        env.journal_actions("mirror.write").len(),
        1,
        "journaled once"
    );
    let err = env.journal_actions("mirror.write")[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("Input/output error"), "{err}");

    // The disk comes back (here: the same image, mounted again).
    drop(guard);
    assert!(wait_for(Duration::from_secs(10), || mount_loop(&img, &out)));
    let _guard = Umount::new(&out);
    let mut d = env.daemon();
    assert!(
        wait_for(Duration::from_secs(20), || env.mirror_lines("app.log")
            >= count),
        "the mirror did not catch up after the disk came back: {}\n{}",
        diff_seqs(&env.mirror_history("app.log"), count),
        d.take_stderr()
    );
    assert!(d.stop().success());
    let got = env.mirror_history("app.log");
    let (seen, bad) = count_seqs(&got, count);
    assert!(
        seen.iter().all(|c| *c == 1) && bad.is_empty(),
        "{}",
        diff_seqs(&got, count)
    );
    assert!(memchr::memmem::find(&got, b"LEAK").is_none());
}

fn mount_loop(img: &std::path::Path, dir: &std::path::Path) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "ext4", "-o", "loop"])
        .arg(img)
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_NOLOGFLUSH: the filesystem
/// stops at once, as if its disk died; only what was synced survives.
fn shutdown_ext4(dir: &std::path::Path) {
    use std::os::fd::AsRawFd;
    const EXT4_IOC_SHUTDOWN: libc::c_ulong = 0x8004_587D;
    let f = std::fs::File::open(dir).unwrap();
    let flags: u32 = 2;
    // SAFETY: the ioctl reads one u32 through the pointer, which is valid.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), EXT4_IOC_SHUTDOWN, &flags) };
    assert_eq!(
        rc,
        0,
        "EXT4_IOC_SHUTDOWN: {}",
        std::io::Error::last_os_error()
    );
}
