//! The daemon's lifecycle: readiness, signals, reloads, a second instance,
//! corrupt state, and crashes in the middle of work.

use std::time::Duration;

use crate::harness::*;

#[test]
fn sigterm_stops_gracefully_with_exit_0() {
    let env = Env::new();
    env.config("", "");
    let mut d = env.daemon();
    let status = d.stop();
    assert!(status.success(), "{status}");
    d.wait_note("STOPPING=1", Duration::from_secs(1));
    let actions: Vec<_> = env
        .journal()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions.first().map(String::as_str), Some("startup"));
    // The last words: shutdown, then the checkpoint that seals the chain.
    assert_eq!(
        actions[actions.len().saturating_sub(2)..],
        ["shutdown".to_string(), "checkpoint".to_string()]
    );
}

#[test]
fn a_second_instance_fails_fast_naming_the_first() {
    let env = Env::new();
    env.config("", "");
    let d = env.daemon();
    let out = env.run(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("another logwarden (pid {})", d.pid())),
        "{err}"
    );
}

#[test]
fn reload_refuses_a_bad_config_and_applies_a_good_one() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    let mut d = env.daemon();
    d.clear_notes();

    // A bad edit: refused, the daemon keeps running on the old config.
    let good = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        good.replace("schedule = \"daily\"", "schedule = \"sometimes\""),
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_note("RELOADING=1", Duration::from_secs(10));
    assert!(
        d.notes.iter().any(|n| n.contains("MONOTONIC_USEC=")),
        "{:?}",
        d.notes
    );
    assert!(wait_for(Duration::from_secs(10), || env
        .journal_actions("config.reload")
        .iter()
        .any(|r| r["status"] == "failed")));
    let failed = env.journal_actions("config.reload");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("logwarden.toml:6:12"),
        "{failed:?}"
    );
    assert!(d.alive());
    // The old config still works: a manual rotation still cuts.
    std::fs::write(env.log("app.log"), b"one\n").unwrap();
    d.signal(libc::SIGUSR1);
    assert!(wait_for(Duration::from_secs(10), || env
        .archives("app.log")
        .len()
        == 1));

    // A good edit, saved without a signal: picked up by the file watch.
    let other = env.tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    set_mode(&other, 0o755);
    std::fs::write(other.join("b.log"), b"two\n").unwrap();
    let text =
        format!("{good}\n[[source]]\nname = \"other\"\ndir = {other:?}\ninclude = [\"*.log\"]\n");
    std::fs::write(&env.config, text).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || env
            .journal_actions("config.reload")
            .iter()
            .any(|r| r["status"] == "ok")),
        "{:?}",
        env.journal()
    );
    let out = env.run(&["rotate", "--source", "other"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("asked the running daemon (pid {})", d.pid())));
    // It waited for the daemon's answer: the cut is done, and said.
    assert!(
        said.contains(&format!("rotate {} -> ", other.join("b.log").display())),
        "{said}"
    );
    assert!(
        std::fs::read_dir(&other)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("b.log.")),
        "rotate returned before the cut"
    );
    // --no-wait returns once asked; with nothing to cut the answer says so.
    let out = env.run(&["rotate", "--source", "other", "--no-wait"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("rotate /"));
    assert!(wait_for(Duration::from_secs(10), || env
        .journal_actions("rotate.request")
        .len()
        >= 2));
    let out = env.run(&["rotate", "--source", "other"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing to cut"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(wait_for(Duration::from_secs(10), || other
        .join(format!(
            "b.log.{}.gz",
            chrono::Utc::now().format("%Y-%m-%d")
        ))
        .exists()));
    assert_eq!(
        env.archives("app.log").len(),
        1,
        "--source other must not cut app"
    );
    // Reading the config on reload must not itself look like an edit.
    let reloads = env.journal_actions("config.reload").len();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        env.journal_actions("config.reload").len(),
        reloads,
        "reload loop"
    );
    assert!(d.stop().success());
}

#[test]
fn a_corrupt_state_file_is_moved_aside_not_fatal() {
    let env = Env::new();
    env.config("", "");
    std::fs::create_dir_all(&env.state).unwrap();
    std::fs::write(env.state.join("state.json"), b"{ this is not json").unwrap();
    let mut d = env.daemon();
    assert!(d.stop().success());
    let names: Vec<_> = std::fs::read_dir(&env.state)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("state.json.corrupt-")),
        "{names:?}"
    );
    let rec = &env.journal_actions("state.recover")[0];
    assert!(rec["error"].as_str().unwrap().contains("moved aside"));
}

#[test]
fn a_crash_mid_compression_is_finished_at_restart() {
    let env = Env::new();
    env.config("strategy = \"copytruncate\"\nschedule = \"daily\"", "");
    // Big enough that compression takes a while.
    let line =
        b"2026-11-21T10:00:00.000Z INFO order accepted id=123456 qty=100 px=101.25 venue=XNAS\n";
    let data: Vec<u8> = line.iter().copied().cycle().take(96 << 20).collect();
    std::fs::write(env.log("app.log"), &data).unwrap();
    let mut d = env.daemon();
    d.signal(libc::SIGUSR1);
    let caught = wait_for(Duration::from_secs(30), || {
        !env.leftovers().is_empty() && env.leftovers()[0].contains(".gz")
    });
    assert!(
        caught,
        "never saw the compression in progress: {:?}",
        std::fs::read_dir(&env.logs).unwrap().count()
    );
    d.kill9();
    assert!(
        !env.leftovers().is_empty(),
        "a half-written archive is left by the crash"
    );
    let mut d = env.daemon();
    assert!(
        wait_for(Duration::from_secs(60), || env.leftovers().is_empty()
            && env.archives("app.log").iter().all(|a| a.ends_with(".gz"))),
        "{:?}",
        std::fs::read_dir(&env.logs)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
    assert!(d.stop().success());
    assert_eq!(env.archives("app.log").len(), 1);
    assert!(
        env.history("app.log") == data,
        "archive content differs from what was written"
    );
    assert!(env.journal_actions("recover").iter().any(|r| r["new"]
        .as_str()
        .unwrap()
        .contains("unfinished compression")));
}

#[test]
fn watchdog_pings_when_systemd_asks_for_them() {
    // systemd passes WatchdogSec as WATCHDOG_USEC; pings come every half of it.
    let env = Env::new().env("WATCHDOG_USEC", "200000");
    env.config("", "");
    let mut d = env.daemon();
    d.wait_note("WATCHDOG=1", Duration::from_secs(5));
    assert!(d.stop().success());
}
