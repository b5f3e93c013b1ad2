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
    cut_once_on(
        tz,
        &format!("schedule = \"daily\"\nat = \"00:00\"\ntimezone = \"{timezone}\""),
        fake_now,
        archive,
        cut_ts_prefix,
    );
}

/// One cut two seconds after the start at `fake_now` under `policy`, into
/// `archive`, journaled at `cut_ts_prefix`; none in the two seconds after.
fn cut_once_on(tz: &str, policy: &str, fake_now: &str, archive: &str, cut_ts_prefix: &str) {
    let env = Env::new().env("TZ", tz).env("LOGWARDEN_FAKE_NOW", fake_now);
    env.config(policy, "");
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

#[test]
fn weekly_cut_on_a_fall_back_sunday_in_a_named_zone() {
    // New York, Sunday 2026-11-01: 01:30 happens twice; the cut is at the
    // first (05:30Z), labelled with the week's first day.
    cut_once_on(
        "UTC",
        "schedule = \"weekly\"\nweekday = 0\nat = \"01:30\"\ntimezone = \"America/New_York\"",
        "2026-11-01T05:29:58Z",
        "app.log.2026-10-25.gz",
        "2026-11-01T05:30:0",
    );
}

#[test]
fn weekly_cut_on_a_named_weekday_in_local_time() {
    // Monday 2026-12-07 06:00 in New York (EST) is 11:00Z.
    cut_once_on(
        "America/New_York",
        "schedule = \"weekly\"\nweekday = \"mon\"\nat = \"06:00\"\ntimezone = \"local\"",
        "2026-12-07T10:59:58Z",
        "app.log.2026-11-30.gz",
        "2026-12-07T11:00:0",
    );
}

#[test]
fn monthly_cut_after_a_month_with_a_spring_forward() {
    // 1 April 2026 00:00 in New York (EDT) is 04:00Z; March had 743 hours.
    cut_once_on(
        "UTC",
        "schedule = \"monthly\"\ntimezone = \"America/New_York\"",
        "2026-04-01T03:59:58Z",
        "app.log.2026-03-01.gz",
        "2026-04-01T04:00:0",
    );
}

#[test]
fn yearly_cut_at_new_year() {
    cut_once_on(
        "UTC",
        "schedule = \"yearly\"\ntimezone = \"Asia/Tokyo\"",
        "2026-12-31T14:59:58Z",
        "app.log.2026-01-01.gz",
        "2026-12-31T15:00:0",
    );
}

#[test]
fn every_7d_counts_local_days_at_at() {
    // Every seventh local day from 1970-01-01 (a Thursday), at 02:00 in
    // London (GMT in December): Thursday 2026-12-10 02:00Z.
    cut_once_on(
        "UTC",
        "schedule = \"every 7d\"\nat = \"02:00\"\ntimezone = \"Europe/London\"",
        "2026-12-10T01:59:58Z",
        "app.log.2026-12-03.gz",
        "2026-12-10T02:00:0",
    );
}

#[test]
fn a_cut_held_back_by_min_size_is_taken_once_the_file_reaches_it() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-20T23:59:58Z");
    env.config("schedule = \"daily\"\nmin_size = \"1KiB\"", "");
    let small = "a short day\n".repeat(10);
    std::fs::write(env.log("app.log"), &small).unwrap();
    let mut d = env.daemon();
    // Midnight passes: 120 bytes, under min_size, so no cut.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        env.archives("app.log").is_empty(),
        "{:?}",
        env.archives("app.log")
    );
    let more = "the file grows past min_size\n".repeat(40);
    append(&env.log("app.log"), &more);
    // The pending cut is taken at the next look, under the day it was due for.
    assert!(
        wait_for(Duration::from_secs(15), || env.archives("app.log")
            == ["app.log.2026-11-20.gz"]),
        "{:?}",
        env.archives("app.log")
    );
    assert!(d.stop().success());
    assert_eq!(
        read_maybe_gz(&env.log("app.log.2026-11-20.gz")),
        format!("{small}{more}").into_bytes()
    );
    let cuts = env.journal_actions("rotate");
    assert_eq!(cuts.len(), 1, "{cuts:?}");
    assert!(
        cuts[0]["reason"]
            .as_str()
            .unwrap()
            .contains("trigger schedule"),
        "{}",
        cuts[0]
    );
}

#[test]
fn schedule_none_cuts_on_size_only() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-11-20T23:59:58Z");
    env.config("schedule = \"none\"\nmax_size = \"1KiB\"", "");
    std::fs::write(env.log("app.log"), b"small\n").unwrap();
    let mut d = env.daemon();
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        env.archives("app.log").is_empty(),
        "midnight passed: no scheduled cut"
    );
    append(&env.log("app.log"), &"x".repeat(2000));
    assert!(
        wait_for(Duration::from_secs(45), || env.archives("app.log").len()
            == 1),
        "{:?}",
        env.archives("app.log")
    );
    assert!(d.stop().success());
    let cuts = env.journal_actions("rotate");
    assert_eq!(cuts.len(), 1, "{cuts:?}");
    assert!(
        cuts[0]["reason"]
            .as_str()
            .unwrap()
            .contains("trigger max_size"),
        "{}",
        cuts[0]
    );
    let out = env.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("none: max_size and manual cuts only; no scheduled cut"),
        "{text}"
    );
}

#[test]
fn check_describes_a_weekly_schedule() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-12-07T12:00:00Z");
    env.config(
        "schedule = \"weekly\"\nweekday = \"fri\"\nat = \"23:00\"",
        "",
    );
    let out = env.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("weekly on Fri at 23:00 (UTC)"), "{text}");
}
