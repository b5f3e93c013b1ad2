//! Schedules end to end, with the clock injected (LOGWARDEN_FAKE_NOW) so a
//! midnight — including DST ones — happens two seconds after start.

use std::time::Duration;

use crate::harness::*;

fn cut_once_at_injected_time(
    tz: &str,
    timezone: &str,
    fake_now: &str,
    archive: &str,
    cut_ts_prefix: &str,
) {
    let env = Env::new().env("TZ", tz).env("LOGWARDEN_FAKE_NOW", fake_now);
    env.config(
        &format!("schedule = \"daily\"\nat = \"00:00\"\ntimezone = \"{timezone}\""),
        "",
    );
    let data = expected_lines(10);
    std::fs::write(env.log("app.log"), &data).unwrap();
    let mut d = env.daemon();
    assert!(
        wait_for(Duration::from_secs(15), || env.archives("app.log")
            == [archive.to_string()]),
        "want {archive}, have {:?}",
        env.archives("app.log")
    );
    // Two more seconds: no second cut (the file got a new line meanwhile).
    std::fs::write(env.log("app.log"), b"after midnight\n").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(d.stop().success());
    assert_eq!(env.archives("app.log"), [archive.to_string()]);
    assert_eq!(read_maybe_gz(&env.log(archive)), data);
    let cuts = env.journal_actions("rotate");
    assert_eq!(cuts.len(), 1, "{cuts:?}");
    assert!(
        cuts[0]["ts"].as_str().unwrap().starts_with(cut_ts_prefix),
        "{}",
        cuts[0]
    );
    assert!(cuts[0]["reason"]
        .as_str()
        .unwrap()
        .contains("trigger schedule"));
}

#[test]
fn daily_cut_at_an_injected_midnight() {
    cut_once_at_injected_time(
        "UTC",
        "UTC",
        "2026-11-20T23:59:58Z",
        "app.log.2026-11-20.gz",
        "2026-11-21T00:00:0",
    );
}

#[test]
fn daily_cut_on_a_spring_forward_day_in_local_time() {
    // New York, 2026-03-08: the day has 23 hours; local midnight is 05:00Z.
    cut_once_at_injected_time(
        "America/New_York",
        "local",
        "2026-03-08T04:59:58Z",
        "app.log.2026-03-07.gz",
        "2026-03-08T05:00:0",
    );
}

#[test]
fn daily_cut_on_a_fall_back_day_in_a_named_zone() {
    // New York, 2026-11-01 has 25 hours; midnight (EDT) is 04:00Z.
    cut_once_at_injected_time(
        "UTC",
        "America/New_York",
        "2026-11-01T03:59:58Z",
        "app.log.2026-10-31.gz",
        "2026-11-01T04:00:0",
    );
}

#[test]
fn a_nonexistent_midnight_cuts_at_the_first_instant_after_it() {
    // Santiago, 2026-09-06: clocks jump from 00:00 to 01:00; the cut is at 01:00 -03 = 04:00Z.
    cut_once_at_injected_time(
        "UTC",
        "America/Santiago",
        "2026-09-06T03:59:58Z",
        "app.log.2026-09-05.gz",
        "2026-09-06T04:00:0",
    );
}

#[test]
fn check_shows_the_next_cut_after_a_23_hour_day() {
    let env = Env::new()
        .env("TZ", "America/New_York")
        .env("LOGWARDEN_FAKE_NOW", "2026-03-08T05:00:01Z");
    env.config("schedule = \"daily\"\ntimezone = \"local\"", "");
    let out = env.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("next cut 2026-03-09 00:00:00 -04:00"),
        "{text}"
    );
}

#[test]
fn a_cut_missed_while_down_is_done_at_start() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-21T09:00:00Z");
    env.config("schedule = \"daily\"", "");
    std::fs::create_dir_all(&env.state).unwrap();
    // The daemon last saw the file two days ago.
    std::fs::write(
        env.state.join("state.json"),
        r#"{"version":1,"files":{"app/app.log":{"anchor":"2026-11-19T08:00:00Z"}}}"#,
    )
    .unwrap();
    std::fs::write(env.log("app.log"), b"written while we were down\n").unwrap();
    let mut d = env.daemon();
    // Wait for the compression too: a stop may leave the archive plain
    // (it is compressed at the next start), which this test is not about.
    assert!(
        wait_for(Duration::from_secs(10), || env.archives("app.log")
            == ["app.log.2026-11-19.gz"]),
        "{:?}",
        env.archives("app.log")
    );
    assert!(d.stop().success());
    // One catch-up cut, labelled with the first missed period.
    assert_eq!(env.archives("app.log"), ["app.log.2026-11-19.gz"]);
}

#[test]
fn every_schedule_cuts_repeatedly_with_numbered_names() {
    let env = Env::new();
    env.config("schedule = \"every 1s\"", "");
    let mut d = env.daemon();
    for i in 0..4 {
        std::fs::write(env.log("app.log"), format!("round {i}\n")).unwrap();
        let want = i + 1;
        assert!(
            wait_for(Duration::from_secs(10), || env.archives("app.log").len()
                >= want),
            "round {i}: {:?}",
            env.archives("app.log")
        );
    }
    assert!(d.stop().success());
    let got = String::from_utf8(env.history("app.log")).unwrap();
    assert_eq!(got, "round 0\nround 1\nround 2\nround 3\n");
    // Sub-daily schedules label by hour; later cuts in the hour are numbered.
    for a in env.archives("app.log") {
        let parsed = logwarden::policy::archive::parse_any(&a).unwrap();
        assert_eq!(parsed.label.len(), "YYYY-MM-DD-HH".len(), "{a}");
    }
}
