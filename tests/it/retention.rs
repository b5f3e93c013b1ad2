//! Retention boundaries, with the clock injected.

use crate::harness::*;

#[test]
fn max_age_boundary_29_30_31_days_and_nothing_else_is_touched() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T12:00:00Z");
    env.config("max_age = \"30d\"", "");
    for n in [
        "app.log.2026-10-23.gz", // period ended 28.5 days ago
        "app.log.2026-10-22.gz", // 29.5 days: kept
        "app.log.2026-10-21.gz", // 30.5 days: deleted
        "app.log.2026-10-20.gz", // 31.5 days: deleted
        "app.log.2025-01-01.gz.bak",
        "other.txt.2020-01-01.gz",
        "notes.2020-01-01",
    ] {
        std::fs::write(env.log(n), b"x").unwrap();
    }
    let out = env.run(&["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        env.names(),
        [
            "app.log.2025-01-01.gz.bak",
            "app.log.2026-10-22.gz",
            "app.log.2026-10-23.gz",
            "notes.2020-01-01",
            "other.txt.2020-01-01.gz"
        ]
    );
    let deleted = env.journal_actions("retention.delete");
    assert_eq!(deleted.len(), 2);
    assert!(deleted[0]["reason"].as_str().unwrap().contains("max_age"));
}

#[test]
fn max_archives_and_max_total_size_keep_the_newest() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T12:00:00Z");
    env.config("max_archives = 3\nmax_age = \"none\"", "");
    for n in [
        "app.log.2026-11-17.gz",
        "app.log.2026-11-18.gz",
        "app.log.2026-11-19.gz",
        "app.log.2026-11-20.gz",
        "app.log.2026-11-20.1.gz",
    ] {
        std::fs::write(env.log(n), b"x").unwrap();
    }
    assert!(env.run(&["rotate"]).status.success());
    assert_eq!(
        env.archives("app.log"),
        [
            "app.log.2026-11-19.gz",
            "app.log.2026-11-20.gz",
            "app.log.2026-11-20.1.gz"
        ]
    );

    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T12:00:00Z");
    env.config("max_total_size = \"100B\"", "");
    for (n, size) in [
        ("app.log.2026-11-18.gz", 30),
        ("app.log.2026-11-19.gz", 40),
        ("app.log.2026-11-20.gz", 50),
    ] {
        std::fs::write(env.log(n), vec![b'x'; size]).unwrap();
    }
    assert!(env.run(&["rotate"]).status.success());
    assert_eq!(
        env.archives("app.log"),
        ["app.log.2026-11-19.gz", "app.log.2026-11-20.gz"]
    );
}

#[test]
fn dry_run_changes_nothing_and_says_what_would_happen() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T12:00:00Z");
    env.config("max_age = \"30d\"", "");
    std::fs::write(env.log("app.log"), b"live\n").unwrap();
    std::fs::write(env.log("app.log.2026-01-01.gz"), b"old").unwrap();
    let before = env.names();
    let out = env.run(&["rotate", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("would cut") && text.contains("app.log.2026-11-21"),
        "{text}"
    );
    assert!(
        text.contains("would delete") && text.contains("app.log.2026-01-01.gz"),
        "{text}"
    );
    assert_eq!(env.names(), before);
    assert!(!env.state.join("journal.ndjson").exists() || env.journal().is_empty());
}
