//! Operating it: `status` (table and JSON, daemon running and stopped), the
//! Prometheus metrics (textfile and HTTP), and `cat` over a source's history.

use std::io::{Read, Write};
use std::time::Duration;

use crate::harness::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET: (status code, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((code, body))
}

fn status_json(env: &Env) -> serde_json::Value {
    let out = env.run(&["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `status` and the metrics while the daemon runs, through a cut, and after
/// it stopped; the counts are the real ones (lines written, secrets masked).
#[test]
fn status_and_metrics_report_the_real_counts_running_and_stopped() {
    let env = Env::new();
    // Cut mirrors compressed at once (no shipper here): ship_grace 0.
    env.mirror_config("schedule = \"daily\"\nship_grace = \"0s\"", "");
    let port = free_port();
    let prom = env.tmp.path().join("textfile").join("logwarden.prom");
    std::fs::create_dir(prom.parent().unwrap()).unwrap();
    env.config_tail(&format!(
        "[metrics]\ntextfile = {prom:?}\nlisten = \"{port}\""
    ));
    let mut d = env.daemon();
    let n = 300;
    let w = Writer::start_with_secrets(&env.log("app.log"), "append", n, 0.002, None);
    w.wait();
    assert!(wait_for(Duration::from_secs(20), || {
        count_seqs(&env.mirror_history("app.log"), n)
            .0
            .iter()
            .all(|c| *c == 1)
    }));
    // A cut (asked of the daemon), compressed.
    assert!(env.run(&["rotate"]).status.success());
    assert!(wait_for(Duration::from_secs(20), || {
        std::fs::read_dir(env.mirror_dir())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".gz"))
    }));
    // The cut renamed app.log away; one more line brings it back.
    std::fs::write(env.log("app.log"), "back password=LEAKback\n").unwrap();
    let n = n + 1;
    // status.json is published every 2 s.
    assert!(
        wait_for(Duration::from_secs(10), || {
            let s = status_json(&env);
            s["sources"][0]["redactions_today"]["password"] == n
                && s["sources"][0]["files"][0]["lag_bytes"] == 0
        }),
        "{:#}",
        status_json(&env)
    );
    let s = status_json(&env);
    assert_eq!(s["version"], 1);
    assert_eq!(s["daemon"]["running"], true, "{s:#}");
    assert_eq!(s["daemon"]["pid"], d.pid(), "{s:#}");
    let src = &s["sources"][0];
    assert_eq!(src["name"], "app");
    assert_eq!(src["mode"], "mirror");
    let f = &src["files"][0];
    assert_eq!(f["name"], "app.log");
    assert_eq!(
        f["size"].as_u64().unwrap(),
        std::fs::metadata(env.log("app.log")).unwrap().len()
    );
    assert!(f["last_cut"].is_string(), "{f:#}");
    assert!(f["strategy"].is_string(), "{f:#}");
    assert!(f["next_cut"].is_string());
    assert!(src["archives"]["count"].as_u64().unwrap() >= 1, "{src:#}");
    assert!(src["archives"]["oldest"]
        .as_str()
        .unwrap()
        .starts_with("app.log."));

    // The table: one row per file that fits 80 columns.
    let out = env.run(&["status"]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("daemon: running"), "{table}");
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("app.log "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.chars().count() <= 80, "{row}");
    assert!(
        table.contains(&format!("redactions today: password={n}")),
        "{table}"
    );

    // Metrics over HTTP and in the textfile, same numbers.
    let (code, body) = get(port, "/metrics").expect("metrics endpoint");
    assert_eq!(code, 200);
    for want in [
        format!("logwarden_lines_written_total{{source=\"app\"}} {n}"),
        format!("logwarden_redactions_total{{key=\"password\",source=\"app\"}} {n}"),
        "# TYPE logwarden_rotations_total counter".to_string(),
        "logwarden_mirror_lag_bytes{file=\"app.log\",source=\"app\"} 0".to_string(),
        "logwarden_watched_files 1".to_string(),
    ] {
        assert!(body.contains(&want), "{want} not in:\n{body}");
    }
    assert!(body.contains("logwarden_rotations_total{source=\"app\",strategy=\"rename\"}"));
    assert!(body.contains("logwarden_compressions_total{source=\"app\"}"));
    assert_eq!(get(port, "/healthz").unwrap(), (200, "ok\n".into()));
    assert_eq!(get(port, "/nope").unwrap().0, 404);
    assert!(wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(&prom)
            .is_ok_and(|t| t.contains(&format!("logwarden_lines_read_total{{source=\"app\"}} {n}")))
    }));
    assert!(!std::fs::read_to_string(&prom).unwrap().contains("LEAK"));

    // Stopped: still answers from disk, and says so.
    assert!(d.stop().success());
    let s = status_json(&env);
    assert_eq!(s["daemon"]["running"], false);
    assert_eq!(s["sources"][0]["redactions_today"]["password"], n);
    assert!(s["sources"][0]["archives"]["count"].as_u64().unwrap() >= 1);
    let table = String::from_utf8(env.run(&["status"]).stdout).unwrap();
    assert!(table.starts_with("daemon: not running"), "{table}");
}

/// `status` with no daemon ever run: the files and their lag from disk.
#[test]
fn status_without_a_daemon_reads_the_disk() {
    let env = Env::new();
    env.mirror_config("", "");
    std::fs::write(env.log("app.log"), "one\ntwo\n").unwrap();
    let s = status_json(&env);
    assert_eq!(s["daemon"]["running"], false);
    let f = &s["sources"][0]["files"][0];
    assert_eq!(f["size"], 8);
    assert_eq!(f["lag_bytes"], 8, "nothing read yet: {f:#}");
    assert!(f["last_cut"].is_null());
}

/// `cat` gives a source's history in order across archives (compressed or
/// not) and the live mirror, redacted; `--since`/`--until` pick periods.
#[test]
fn cat_replays_the_history_in_order_and_by_period() {
    let mut env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    let day = |d: i64| {
        chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z").unwrap()
            + chrono::Duration::days(d)
    };
    let mut all = String::new();
    for d in 0..3 {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.log("app.log"))
            .unwrap();
        for i in 0..5 {
            writeln!(f, "day {d} line {i} password=LEAK{d}{i}").unwrap();
            all.push_str(&format!("day {d} line {i} password=[REDACTED]\n"));
        }
        env.rotate_at(day(d).to_rfc3339());
    }
    // The last day stays live in the mirror: write it after the last cut.
    std::fs::write(env.log("app.log"), "live password=LEAKlive\n").unwrap();
    // A daemon an hour after the last cut (no cut due) mirrors the live line.
    env.envs.push((
        "LOGWARDEN_FAKE_NOW".into(),
        (day(2) + chrono::Duration::hours(1)).to_rfc3339(),
    ));
    let d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(env.mirror_dir().join("app.log")).is_ok_and(|t| t.contains("live"))
    }));
    drop(d);
    all.push_str("live password=[REDACTED]\n");
    let cat = |args: &[&str]| {
        let mut a = vec!["cat", "--source", "app"];
        a.extend_from_slice(args);
        let out = env.run(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let got = cat(&[]);
    assert_eq!(got, all);
    assert_eq!(got.as_bytes(), env.mirror_history("app.log"));
    assert!(!got.contains("LEAK"));
    // By period: an archive's period is its label's day.
    let mut archives: Vec<_> = std::fs::read_dir(env.mirror_dir())
        .unwrap()
        .filter_map(|e| {
            logwarden::policy::archive::parse_for(
                "app.log",
                e.unwrap().file_name().to_str().unwrap(),
            )
        })
        .collect();
    archives.sort_by(|a, b| a.cut_order(b));
    let labels: Vec<&str> = archives.iter().map(|a| a.label.as_str()).collect();
    assert!(labels.len() == 3 && labels[0] < labels[2], "{labels:?}");
    let content = |a: &logwarden::policy::archive::Archive| {
        String::from_utf8(read_maybe_gz(&env.mirror_dir().join(a.file_name()))).unwrap()
    };
    let cut = labels[2];
    let since: String = archives
        .iter()
        .filter(|a| a.label.as_str() >= cut)
        .map(content)
        .chain(["live password=[REDACTED]\n".to_string()])
        .collect();
    assert_eq!(cat(&["--since", cut]), since);
    let until: String = archives
        .iter()
        .filter(|a| a.label.as_str() < cut)
        .map(content)
        .collect();
    assert!(!until.is_empty());
    assert_eq!(cat(&["--until", cut]), until);
    // A source that does not exist is named, with the ones that do.
    let out = env.run(&["cat", "--source", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the sources are: app"));
}

/// A bad `[metrics]` value names its file, line and column.
#[test]
fn bad_metrics_settings_are_located() {
    let env = Env::new();
    env.mirror_config("", "");
    env.config_tail("[metrics]\nlisten = \"nowhere\"");
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("logwarden.toml:") && err.contains("metrics.listen"),
        "{err}"
    );
}

/// `check` and `rotate --dry-run` show what would happen — which file, which
/// strategy and why, what retention would delete — and change nothing.
#[test]
fn check_and_dry_run_show_cuts_and_retention_and_touch_nothing() {
    let env = Env::new();
    env.config("max_age = \"30d\"", "");
    std::fs::write(env.log("app.log"), "live\n").unwrap();
    std::fs::write(env.log("app.log.2020-01-01"), "old\n").unwrap();
    std::fs::write(env.log("app.log.2099-01-01"), "kept\n").unwrap();
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(&env.logs)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), e.metadata().unwrap().len())
            })
            .collect();
        v.sort();
        v
    };
    let before = listing();
    let out = env.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("app.log (5 B) -> rename: no process holds it open"),
        "{text}"
    );
    assert!(
        text.contains("would delete") && text.contains("app.log.2020-01-01"),
        "{text}"
    );
    assert!(!text.contains("app.log.2099-01-01 ("), "{text}");
    let out = env.run(&["rotate", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("would cut") && text.contains("rename"),
        "{text}"
    );
    assert!(
        text.contains("would delete") && text.contains("app.log.2020-01-01"),
        "{text}"
    );
    assert_eq!(listing(), before);
    assert!(!env.state.join("journal.ndjson").exists() || env.journal().is_empty());
    // Quiet when not on a terminal: no progress output for scripts.
    let err = String::from_utf8(env.run(&["rotate"]).stderr).unwrap();
    assert!(!err.contains("sweeping") && !err.contains('\r'), "{err}");
    let out = env.run(&["verify"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
