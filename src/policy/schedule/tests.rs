use super::*;
use chrono::Datelike;
use std::time::Duration;

const UTC: Zone = Zone::Named(chrono_tz::UTC);
const NY: Zone = Zone::Named(chrono_tz::America::New_York);
const LONDON: Zone = Zone::Named(chrono_tz::Europe::London);
const SANTIAGO: Zone = Zone::Named(chrono_tz::America::Santiago);
const KOLKATA: Zone = Zone::Named(chrono_tz::Asia::Kolkata);
const APIA: Zone = Zone::Named(chrono_tz::Pacific::Apia);
const LORD_HOWE: Zone = Zone::Named(chrono_tz::Australia::Lord_Howe);

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
        .with_timezone(&Utc)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
}

fn daily(h: u32, m: u32) -> Schedule {
    Schedule::Daily { at: hm(h, m) }
}

fn every_at(secs: u64, at: NaiveTime) -> Schedule {
    Schedule::Calendar {
        cadence: Cadence::Interval(Duration::from_secs(secs)),
        at,
    }
}

fn weekly(day: Weekday, h: u32, m: u32) -> Schedule {
    Schedule::Calendar {
        cadence: Cadence::Weekly(day),
        at: hm(h, m),
    }
}

fn monthly(h: u32, m: u32) -> Schedule {
    Schedule::Calendar {
        cadence: Cadence::Monthly,
        at: hm(h, m),
    }
}

fn yearly(h: u32, m: u32) -> Schedule {
    Schedule::Calendar {
        cadence: Cadence::Yearly,
        at: hm(h, m),
    }
}

fn every(secs: u64) -> Schedule {
    Schedule::Calendar {
        cadence: Cadence::Interval(Duration::from_secs(secs)),
        at: NaiveTime::MIN,
    }
}

#[test]
fn due_table() {
    use Trigger::*;
    let yes = |trigger, label: &str| Due::Yes {
        trigger,
        label: label.to_string(),
    };
    let no = |next: &str| Due::No { next: utc(next) };
    // (schedule, zone, anchor, now, over_size, forced, answer)
    let cases = [
        // Daily at midnight UTC: not yet, then due with the day it ends.
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-01T23:59:59Z",
            false,
            false,
            no("2026-03-02T00:00:00Z"),
        ),
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-02T00:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-01"),
        ),
        // Caught up days later: still the missed period's label.
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-05T08:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-01"),
        ),
        // The schedule wins over size and force.
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-02T00:00:01Z",
            true,
            true,
            yes(Schedule, "2026-03-01"),
        ),
        // Forced or over size mid-period: the current period's label.
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-01T12:00:00Z",
            true,
            true,
            yes(Manual, "2026-03-01"),
        ),
        (
            daily(0, 0),
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-01T12:00:00Z",
            true,
            false,
            yes(MaxSize, "2026-03-01"),
        ),
        // New York across spring-forward (2026-03-08): midnight is 05:00Z
        // before, 04:00Z after.
        (
            daily(0, 0),
            NY,
            "2026-03-07T05:00:00Z",
            "2026-03-08T04:59:59Z",
            false,
            false,
            no("2026-03-08T05:00:00Z"),
        ),
        (
            daily(0, 0),
            NY,
            "2026-03-07T05:00:00Z",
            "2026-03-08T05:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-07"),
        ),
        (
            daily(0, 0),
            NY,
            "2026-03-08T05:00:00Z",
            "2026-03-09T03:59:59Z",
            false,
            false,
            no("2026-03-09T04:00:00Z"),
        ),
        (
            daily(0, 0),
            NY,
            "2026-03-08T05:00:00Z",
            "2026-03-09T04:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-08"),
        ),
        // 02:30 does not exist on 2026-03-08 in New York: the cut is at
        // the first instant after the gap (03:00 EDT = 07:00Z).
        (
            daily(2, 30),
            NY,
            "2026-03-07T12:00:00Z",
            "2026-03-08T06:59:59Z",
            false,
            false,
            no("2026-03-08T07:00:00Z"),
        ),
        (
            daily(2, 30),
            NY,
            "2026-03-07T12:00:00Z",
            "2026-03-08T07:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-07"),
        ),
        // A size cut in a half-hour zone labels the local day.
        (
            daily(0, 0),
            KOLKATA,
            "2026-03-01T18:30:00Z",
            "2026-03-01T19:00:00Z",
            true,
            false,
            yes(MaxSize, "2026-03-02"),
        ),
        // Hourly.
        (
            super::Schedule::Hourly,
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-01T11:00:00Z",
            false,
            false,
            yes(Schedule, "2026-03-01-10"),
        ),
        (
            super::Schedule::Hourly,
            UTC,
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:30:00Z",
            true,
            false,
            yes(MaxSize, "2026-03-01-10"),
        ),
    ];
    for (s, zone, anchor, now, over, forced, want) in cases {
        assert_eq!(
            s.due(zone, utc(anchor), utc(now), over, forced),
            want,
            "{s:?} {zone:?} anchor {anchor} now {now} over_size {over} forced {forced}"
        );
    }
}

// Expected values below were checked against the system tz database with
// `zdump -v -c 2026,2027 <zone>` and `date -u -d 'TZ="<zone>" <local>'`,
// not derived from this module.
#[test]
fn next_cut_table() {
    #[rustfmt::skip]
    let cases: &[(&str, Zone, Schedule, &str, &str)] = &[
        // --- UTC daily
        ("utc daily midnight", UTC, daily(0, 0), "2026-11-20T10:00:00Z", "2026-11-21T00:00:00Z"),
        ("utc daily strictly after a boundary", UTC, daily(0, 0), "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),
        ("utc daily 1ns before", UTC, daily(0, 0), "2026-11-20T23:59:59.999999999Z", "2026-11-21T00:00:00Z"),
        ("utc daily later same day", UTC, daily(13, 45), "2026-11-21T13:44:00Z", "2026-11-21T13:45:00Z"),
        ("utc daily past today's time", UTC, daily(13, 45), "2026-11-21T13:45:01Z", "2026-11-22T13:45:00Z"),
        // --- New York spring forward 2026-03-08 (02:00 EST -> 03:00 EDT at 07:00Z)
        ("ny spring midnight", NY, daily(0, 0), "2026-03-08T04:00:00Z", "2026-03-08T05:00:00Z"),
        ("ny spring 23h day", NY, daily(0, 0), "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
        ("ny spring 01:30 exists", NY, daily(1, 30), "2026-03-08T05:00:00Z", "2026-03-08T06:30:00Z"),
        ("ny spring 01:30 next day", NY, daily(1, 30), "2026-03-08T06:30:00Z", "2026-03-09T05:30:00Z"),
        ("ny spring 02:30 in gap -> 03:00 EDT", NY, daily(2, 30), "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z"),
        ("ny spring after gap cut", NY, daily(2, 30), "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"),
        // --- New York fall back 2026-11-01 (02:00 EDT -> 01:00 EST at 06:00Z)
        ("ny fall midnight", NY, daily(0, 0), "2026-10-31T12:00:00Z", "2026-11-01T04:00:00Z"),
        ("ny fall 25h day", NY, daily(0, 0), "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
        ("ny fall 01:30 ambiguous -> EDT", NY, daily(1, 30), "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"),
        ("ny fall 01:30 not cut twice", NY, daily(1, 30), "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        ("ny fall 01:30 from repeated hour", NY, daily(1, 30), "2026-11-01T06:15:00Z", "2026-11-02T06:30:00Z"),
        // --- London spring forward 2026-03-29 (01:00 GMT -> 02:00 BST at 01:00Z)
        ("london spring 01:30 in gap -> 02:00 BST", LONDON, daily(1, 30), "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"),
        ("london spring next day", LONDON, daily(1, 30), "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"),
        // --- London fall back 2026-10-25 (02:00 BST -> 01:00 GMT at 01:00Z)
        ("london fall 01:30 ambiguous -> BST", LONDON, daily(1, 30), "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"),
        ("london fall 01:30 next day", LONDON, daily(1, 30), "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
        // --- Santiago: midnight does not exist 2026-09-06 (00:00 -04 -> 01:00 -03 at 04:00Z)
        ("santiago nonexistent midnight -> 01:00", SANTIAGO, daily(0, 0), "2026-09-05T12:00:00Z", "2026-09-06T04:00:00Z"),
        ("santiago day after gap", SANTIAGO, daily(0, 0), "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"),
        // Santiago falls back 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04 at 03:00Z
        ("santiago 23:30 ambiguous -> -03", SANTIAGO, daily(23, 30), "2026-04-04T12:00:00Z", "2026-04-05T02:30:00Z"),
        ("santiago 23:30 once", SANTIAGO, daily(23, 30), "2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"),
        // --- Kolkata (+05:30, no DST)
        ("kolkata daily", KOLKATA, daily(0, 0), "2026-11-21T10:00:00Z", "2026-11-21T18:30:00Z"),
        ("kolkata hourly on :30 UTC", KOLKATA, Schedule::Hourly, "2026-11-21T10:00:00Z", "2026-11-21T10:30:00Z"),
        ("kolkata hourly from boundary", KOLKATA, Schedule::Hourly, "2026-11-21T10:30:00Z", "2026-11-21T11:30:00Z"),
        // --- Hourly across DST
        ("utc hourly", UTC, Schedule::Hourly, "2026-11-21T14:59:59Z", "2026-11-21T15:00:00Z"),
        ("ny hourly spring skips 02:00", NY, Schedule::Hourly, "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"),
        ("ny hourly fall first 01:00", NY, Schedule::Hourly, "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z"),
        ("ny hourly fall second 01:00", NY, Schedule::Hourly, "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"),
        ("ny hourly fall then 02:00 EST", NY, Schedule::Hourly, "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"),
        // Lord Howe springs forward 02:00 -> 02:30 (+10:30 -> +11) at 2026-10-03T15:30Z
        ("lord howe hourly half-hour gap", LORD_HOWE, Schedule::Hourly, "2026-10-03T14:30:00Z", "2026-10-03T16:00:00Z"),
        // --- Every: counted in local time from 1970-01-01 at `at`
        ("every 2s", UTC, every(2), "2026-11-21T10:00:01Z", "2026-11-21T10:00:02Z"),
        ("every 2s strictly after", UTC, every(2), "2026-11-21T10:00:02Z", "2026-11-21T10:00:04Z"),
        ("every 2s fractional", UTC, every(2), "2026-11-21T10:00:02.5Z", "2026-11-21T10:00:04Z"),
        ("every 7s epoch-aligned", UTC, every(7), "2026-11-21T10:00:00Z", "2026-11-21T10:00:03Z"),
        ("every 10m", UTC, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
        ("every 10m zone-independent", NY, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
        ("every 10m kolkata", KOLKATA, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
        ("every 1d at local midnight", NY, every(86_400), "2026-11-21T10:07:00Z", "2026-11-22T05:00:00Z"),
        ("every 10m before epoch", UTC, every(600), "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"),
        ("every 0s clamps to 1s", UTC, every(0), "2026-11-21T10:00:00.5Z", "2026-11-21T10:00:01Z"),
    ];
    for (name, zone, schedule, after, expected) in cases {
        let got = schedule.next_cut(*zone, utc(after));
        assert_eq!(got, utc(expected), "case {name:?}: next_cut after {after}");
    }
}

#[test]
fn period_start_table() {
    #[rustfmt::skip]
    let cases: &[(&str, Zone, Schedule, &str, &str)] = &[
        ("utc daily", UTC, daily(0, 0), "2026-11-21T15:00:00Z", "2026-11-21T00:00:00Z"),
        ("utc daily on boundary", UTC, daily(0, 0), "2026-11-21T00:00:00Z", "2026-11-21T00:00:00Z"),
        ("utc daily before today's time", UTC, daily(13, 45), "2026-11-21T13:44:59Z", "2026-11-20T13:45:00Z"),
        ("ny fall 01:30 repeated hour", NY, daily(1, 30), "2026-11-01T06:45:00Z", "2026-11-01T05:30:00Z"),
        ("london gap day", LONDON, daily(1, 30), "2026-03-29T12:00:00Z", "2026-03-29T01:00:00Z"),
        ("london before gap cut", LONDON, daily(1, 30), "2026-03-29T00:59:59Z", "2026-03-28T01:30:00Z"),
        ("santiago gap midnight", SANTIAGO, daily(0, 0), "2026-09-06T12:00:00Z", "2026-09-06T04:00:00Z"),
        ("santiago before gap", SANTIAGO, daily(0, 0), "2026-09-06T03:59:59Z", "2026-09-05T04:00:00Z"),
        ("ny hourly second 01:00", NY, Schedule::Hourly, "2026-11-01T06:59:00Z", "2026-11-01T06:00:00Z"),
        ("ny hourly first 01:00", NY, Schedule::Hourly, "2026-11-01T05:59:00Z", "2026-11-01T05:00:00Z"),
        ("ny hourly after spring gap", NY, Schedule::Hourly, "2026-03-08T07:30:00Z", "2026-03-08T07:00:00Z"),
        ("ny hourly before spring gap", NY, Schedule::Hourly, "2026-03-08T06:59:59Z", "2026-03-08T06:00:00Z"),
        ("kolkata hourly", KOLKATA, Schedule::Hourly, "2026-11-21T10:29:59Z", "2026-11-21T09:30:00Z"),
        ("every 10m", UTC, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:00:00Z"),
        ("every 10m on boundary", UTC, every(600), "2026-11-21T10:10:00Z", "2026-11-21T10:10:00Z"),
        ("every 10m before epoch", UTC, every(600), "1969-12-31T23:59:59Z", "1969-12-31T23:50:00Z"),
    ];
    for (name, zone, schedule, t, expected) in cases {
        let got = schedule.period_start(*zone, utc(t));
        assert_eq!(got, utc(expected), "case {name:?}: period_start of {t}");
    }
}

#[test]
fn label_table() {
    #[rustfmt::skip]
    let cases: &[(&str, Zone, Schedule, &str, &str)] = &[
        ("utc daily scheduled cut", UTC, daily(0, 0), "2026-11-21T00:00:00Z", "2026-11-20"),
        ("utc daily manual cut", UTC, daily(0, 0), "2026-11-21T15:00:00Z", "2026-11-21"),
        ("utc hourly scheduled cut", UTC, Schedule::Hourly, "2026-11-21T15:00:00Z", "2026-11-21-14"),
        ("utc hourly manual cut", UTC, Schedule::Hourly, "2026-11-21T15:20:00Z", "2026-11-21-15"),
        ("ny daily end of 23h day", NY, daily(0, 0), "2026-03-09T04:00:00Z", "2026-03-08"),
        ("ny daily end of 25h day", NY, daily(0, 0), "2026-11-02T05:00:00Z", "2026-11-01"),
        ("ny daily day before fall back", NY, daily(0, 0), "2026-11-01T04:00:00Z", "2026-10-31"),
        ("ny hourly first 01:00 hour", NY, Schedule::Hourly, "2026-11-01T06:00:00Z", "2026-11-01-01"),
        ("ny hourly repeated 01:00 hour", NY, Schedule::Hourly, "2026-11-01T07:00:00Z", "2026-11-01-01"),
        ("ny hourly hour before spring gap", NY, Schedule::Hourly, "2026-03-08T07:00:00Z", "2026-03-08-01"),
        ("ny hourly after spring gap", NY, Schedule::Hourly, "2026-03-08T08:00:00Z", "2026-03-08-03"),
        ("london daily gap day", LONDON, daily(1, 30), "2026-03-30T00:30:00Z", "2026-03-29"),
        ("london daily day before gap", LONDON, daily(1, 30), "2026-03-29T01:00:00Z", "2026-03-28"),
        ("santiago daily gap day", SANTIAGO, daily(0, 0), "2026-09-07T03:00:00Z", "2026-09-06"),
        ("santiago daily day before gap", SANTIAGO, daily(0, 0), "2026-09-06T04:00:00Z", "2026-09-05"),
        ("kolkata hourly", KOLKATA, Schedule::Hourly, "2026-11-21T10:30:00Z", "2026-11-21-15"),
        ("every 2s on the hour", UTC, every(2), "2026-11-21T10:00:00Z", "2026-11-21-09"),
        ("every 2s after the hour", UTC, every(2), "2026-11-21T10:00:02Z", "2026-11-21-10"),
        ("every 10m local hour", NY, every(600), "2026-11-21T15:10:00Z", "2026-11-21-10"),
        ("every 1d by day", UTC, every(86_400), "2026-11-21T00:00:00Z", "2026-11-20"),
        ("every 1d local period", NY, every(86_400), "2026-11-21T00:00:00Z", "2026-11-20"),
        ("every 2d by day", UTC, every(2 * 86_400), "2026-11-21T12:00:00Z", "2026-11-21"),
        ("every 23h by hour", UTC, every(23 * 3600), "2026-11-21T12:00:00Z", "2026-11-20-15"),
    ];
    for (name, zone, schedule, cut, expected) in cases {
        let got = schedule.label(*zone, utc(cut));
        assert_eq!(got, *expected, "case {name:?}: label of cut at {cut}");
    }
}

/// (name, zone, schedule, last cut, now, expected `is_due`)
type DueCase = (
    &'static str,
    Zone,
    Schedule,
    Option<&'static str>,
    &'static str,
    bool,
);

#[test]
fn is_due_table() {
    #[rustfmt::skip]
    let cases: &[DueCase] = &[
        ("never cut", UTC, daily(0, 0), None, "2026-11-25T00:00:00Z", false),
        ("within period", UTC, daily(0, 0), Some("2026-11-20T00:00:00Z"), "2026-11-20T23:59:59Z", false),
        ("exactly at boundary", UTC, daily(0, 0), Some("2026-11-20T00:00:00Z"), "2026-11-21T00:00:00Z", true),
        ("missed while down", UTC, daily(0, 0), Some("2026-11-20T00:00:00Z"), "2026-11-25T08:00:00Z", true),
        ("manual cut then boundary", UTC, daily(0, 0), Some("2026-11-21T15:00:00Z"), "2026-11-22T00:00:00Z", true),
        ("manual cut, no boundary yet", UTC, daily(0, 0), Some("2026-11-21T15:00:00Z"), "2026-11-21T23:00:00Z", false),
        ("clock went backwards", UTC, daily(0, 0), Some("2026-11-21T00:00:00Z"), "2026-11-20T00:00:00Z", false),
        ("now equals last cut", UTC, Schedule::Hourly, Some("2026-11-21T15:00:00Z"), "2026-11-21T15:00:00Z", false),
        ("ny repeated hour due", NY, Schedule::Hourly, Some("2026-11-01T05:00:00Z"), "2026-11-01T06:00:00Z", true),
        ("every 2s due", UTC, every(2), Some("2026-11-21T10:00:00Z"), "2026-11-21T10:00:02Z", true),
        ("every 2s not due", UTC, every(2), Some("2026-11-21T10:00:00Z"), "2026-11-21T10:00:01.9Z", false),
    ];
    for (name, zone, schedule, last, now, expected) in cases {
        let got = schedule.is_due(*zone, last.map(utc), utc(now));
        assert_eq!(got, *expected, "case {name:?}");
    }
}

#[test]
fn zone_parse_table() {
    assert_eq!(Zone::parse("local"), Ok(Zone::Local));
    assert_eq!(Zone::parse("LOCAL"), Ok(Zone::Local));
    assert_eq!(Zone::parse(" Local "), Ok(Zone::Local));
    assert_eq!(Zone::parse("Europe/London"), Ok(LONDON));
    assert_eq!(Zone::parse("UTC"), Ok(UTC));
    assert_eq!(Zone::parse("Asia/Kolkata"), Ok(KOLKATA));
    assert_eq!(
        Zone::parse("Mars/Base"),
        Err(
            "unknown time zone \"Mars/Base\"; use \"local\" or an IANA name such as \"Europe/London\""
                .to_string()
        )
    );
    for bad in ["", "Europe/Londn", "+05:30"] {
        let err = Zone::parse(bad).expect_err(bad);
        assert!(err.starts_with("unknown time zone"), "{bad:?}: {err}");
    }
}

#[test]
fn schedule_parse_table() {
    let at = hm(1, 30);
    #[rustfmt::skip]
    let ok: &[(&str, Schedule)] = &[
        ("daily", Schedule::Daily { at }),
        ("Daily", Schedule::Daily { at }),
        ("  daily  ", Schedule::Daily { at }),
        ("hourly", Schedule::Hourly),
        ("HOURLY", Schedule::Hourly),
        ("every 2s", every_at(2, at)),
        ("every 10m", every_at(600, at)),
        ("every 1h", every_at(3600, at)),
        ("every 1d", every_at(86_400, at)),
        ("Every  90M", every_at(5400, at)),
        ("weekly", Schedule::Calendar { cadence: Cadence::Weekly(Weekday::Sun), at }),
        ("Monthly", Schedule::Calendar { cadence: Cadence::Monthly, at }),
        ("yearly", Schedule::Calendar { cadence: Cadence::Yearly, at }),
        ("none", Schedule::Unscheduled),
    ];
    for (text, expected) in ok {
        assert_eq!(
            Schedule::parse(text, at, Weekday::Sun),
            Ok(*expected),
            "{text:?}"
        );
    }
    #[rustfmt::skip]
    let bad: &[(&str, &str)] = &[
        ("fortnightly", "unknown schedule"),
        ("", "unknown schedule"),
        ("every", "missing an interval"),
        ("every 0s", "must be at least 1 second"),
        ("every 0d", "must be at least 1 second"),
        ("every 10", "invalid interval"),
        ("every m", "invalid interval"),
        ("every 10x", "invalid interval"),
        ("every 10min", "invalid interval"),
        ("every -5m", "invalid interval"),
        ("every +5m", "invalid interval"),
        ("every 1.5h", "invalid interval"),
        ("every 10 m", "unknown schedule"),
        ("every 99999999999999999999s", "too large"),
        ("every 999999999999999999d", "too large"),
    ];
    for (text, fragment) in bad {
        let err = Schedule::parse(text, at, Weekday::Sun).expect_err(text);
        assert!(err.contains(fragment), "{text:?}: {err}");
        assert!(!err.starts_with(char::is_uppercase), "{text:?}: {err}");
    }
}

/// Iterate `next_cut` from `start` while cuts are before `end`.
fn cuts_between(
    schedule: Schedule,
    zone: Zone,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut cuts = Vec::new();
    let mut t = start;
    for _ in 0..100_000 {
        let next = schedule.next_cut(zone, t);
        assert!(next > t, "next_cut must be strictly increasing");
        if next >= end {
            break;
        }
        cuts.push(next);
        t = next;
    }
    cuts
}

#[test]
fn one_daily_cut_per_local_date_for_a_year() {
    let zones = [("new york", NY), ("london", LONDON), ("santiago", SANTIAGO)];
    let times = [hm(0, 0), hm(1, 30), hm(2, 30), hm(23, 30)];
    for (zone_name, zone) in zones {
        let Zone::Named(tz) = zone else {
            unreachable!()
        };
        for at in times {
            let schedule = Schedule::Daily { at };
            // Walk day by day: from just before local 2026-01-01 to local 2027-01-01.
            let start = utc("2025-12-31T12:00:00Z");
            let end = utc("2027-01-01T12:00:00Z");
            let cuts = cuts_between(schedule, zone, start, end);
            let mut date = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
            let mut count = 0;
            for cut in cuts {
                let local = cut.with_timezone(&tz).date_naive();
                if local.format("%Y").to_string() != "2026" {
                    continue;
                }
                assert_eq!(local, date, "{zone_name} at {at}: cut {cut} on wrong date");
                date = date.succ_opt().expect("date");
                count += 1;
            }
            assert_eq!(count, 365, "{zone_name} at {at}: cuts in 2026");
        }
    }
}

#[test]
fn hourly_boundaries_on_dst_days() {
    #[rustfmt::skip]
    let cases: &[(&str, Zone, &str, &str, usize)] = &[
        // [local midnight, next local midnight) on each transition day
        ("ny fall back", NY, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25),
        ("ny spring forward", NY, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23),
        ("london fall back", LONDON, "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 25),
        ("london spring forward", LONDON, "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 23),
        ("utc ordinary day", UTC, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", 24),
        ("kolkata ordinary day", KOLKATA, "2026-11-20T18:30:00Z", "2026-11-21T18:30:00Z", 24),
    ];
    for (name, zone, start, end, expected) in cases {
        // Start 1ns early so the midnight boundary itself is counted.
        let from = utc(start) - TimeDelta::nanoseconds(1);
        let cuts = cuts_between(Schedule::Hourly, *zone, from, utc(end));
        assert_eq!(cuts.len(), *expected, "{name}: {cuts:?}");
        assert_eq!(cuts.first(), Some(&utc(start)), "{name}");
    }
}

#[test]
fn apia_skipped_day_stays_monotonic() {
    // Pacific/Apia skipped 2011-12-30: 2011-12-29 23:59:59 -10 was followed
    // by 2011-12-31 00:00:00 +14 at 2011-12-30T10:00:00Z (zdump).
    let cuts = cuts_between(
        daily(12, 0),
        APIA,
        utc("2011-12-28T00:00:00Z"),
        utc("2012-01-01T00:00:00Z"),
    );
    let expected: Vec<DateTime<Utc>> = [
        "2011-12-28T22:00:00Z", // 12-28 12:00 -10
        "2011-12-29T22:00:00Z", // 12-29 12:00 -10
        "2011-12-30T10:00:00Z", // 12-30 12:00 never existed: end of the gap
        "2011-12-30T22:00:00Z", // 12-31 12:00 +14
        "2011-12-31T22:00:00Z", // 2012-01-01 12:00 +14
    ]
    .iter()
    .map(|s| utc(s))
    .collect();
    assert_eq!(cuts, expected);
}

#[test]
fn extreme_instants_do_not_panic() {
    let zones = [
        UTC,
        NY,
        KOLKATA,
        APIA,
        Zone::Named(chrono_tz::Etc::GMTMinus14),
        Zone::Local,
    ];
    let schedules = [
        daily(0, 0),
        daily(23, 59),
        Schedule::Hourly,
        every(1),
        every(7 * 86_400),
    ];
    let day = TimeDelta::days(1);
    let extremes = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + day,
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MAX_UTC - day,
        DateTime::<Utc>::UNIX_EPOCH,
    ];
    for zone in zones {
        for schedule in schedules {
            for t in extremes {
                let next = schedule.next_cut(zone, t);
                let start = schedule.period_start(zone, t);
                assert!(start <= t, "{zone:?} {schedule:?} {t}");
                assert!(
                    next > t || t == DateTime::<Utc>::MAX_UTC,
                    "{zone:?} {schedule:?} {t}"
                );
                let _ = schedule.label(zone, t);
                let _ = schedule.is_due(zone, Some(t), t);
                let _ = schedule.is_due(zone, Some(DateTime::<Utc>::MIN_UTC), t);
            }
        }
    }
    // Interval far beyond chrono's range: no panic, no overflow.
    let huge = Schedule::Calendar {
        cadence: Cadence::Interval(Duration::MAX),
        at: NaiveTime::MIN,
    };
    assert_eq!(
        huge.next_cut(UTC, utc("2026-01-01T00:00:00Z")),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        huge.period_start(UTC, utc("2026-01-01T00:00:00Z")),
        DateTime::<Utc>::UNIX_EPOCH
    );
    assert_eq!(huge.label(UTC, utc("2026-01-01T00:00:00Z")), "1970-01-01");
}

/// The structural guarantees every schedule must give, checked on a dense
/// sample of instants around DST transitions in several zones (including
/// whatever `Zone::Local` is on the test machine).
#[test]
fn invariants_hold_around_transitions() {
    let zones = [
        UTC,
        NY,
        LONDON,
        SANTIAGO,
        KOLKATA,
        LORD_HOWE,
        APIA,
        Zone::Local,
    ];
    let schedules = [
        daily(0, 0),
        daily(1, 30),
        daily(2, 30),
        daily(23, 30),
        Schedule::Hourly,
        every(2),
        every(600),
        every_at(86_400, hm(2, 30)),
        every_at(7 * 86_400, hm(1, 30)),
        every_at(6 * 3600, hm(0, 15)),
        weekly(Weekday::Sun, 2, 30),
        weekly(Weekday::Sat, 0, 0),
        monthly(1, 30),
        yearly(0, 0),
    ];
    let windows = [
        "2026-03-07T00:00:00Z",
        "2026-03-28T00:00:00Z",
        "2026-04-03T00:00:00Z",
        "2026-09-05T00:00:00Z",
        "2026-10-02T00:00:00Z",
        "2026-10-24T00:00:00Z",
        "2026-10-31T00:00:00Z",
        "2011-12-29T00:00:00Z",
        "2026-12-30T00:00:00Z",
        "2026-02-27T00:00:00Z",
    ];
    // 7 min 13 s steps over three days from each window start.
    let step = TimeDelta::seconds(7 * 60 + 13);
    for zone in zones {
        for schedule in schedules {
            for window in windows {
                let mut t = utc(window);
                for _ in 0..(3 * 24 * 3600 / step.num_seconds()) {
                    let next = schedule.next_cut(zone, t);
                    let start = schedule.period_start(zone, t);
                    let ctx = format!("{zone:?} {schedule:?} t={t}");
                    assert!(next > t, "{ctx}: next {next}");
                    assert!(start <= t, "{ctx}: start {start}");
                    assert_eq!(schedule.next_cut(zone, start), next, "{ctx}: start {start}");
                    assert_eq!(schedule.period_start(zone, next), next, "{ctx}");
                    // No boundary between start and t, nor between t and next.
                    let before_next = next - TimeDelta::nanoseconds(1);
                    assert_eq!(schedule.period_start(zone, before_next), start, "{ctx}");
                    assert!(!schedule.is_due(zone, Some(t), before_next), "{ctx}");
                    assert!(schedule.is_due(zone, Some(t), next), "{ctx}");
                    t += step;
                }
            }
        }
    }
}

/// Weekly, monthly and yearly boundaries, their labels (the period's first
/// day) and DST: New York springs forward on Sunday 2026-03-08 at 02:00 and
/// falls back on Sunday 2026-11-01 at 02:00.
#[test]
fn calendar_table() {
    #[rustfmt::skip]
    let cases: &[(&str, Schedule, Zone, &str, &str, &str)] = &[
        // (case, schedule, zone, after, next cut, label of that cut)
        ("weekly sunday", weekly(Weekday::Sun, 0, 0), UTC, "2026-12-02T10:00:00Z", "2026-12-06T00:00:00Z", "2026-11-29"),
        ("weekly on the boundary", weekly(Weekday::Sun, 0, 0), UTC, "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-06"),
        ("weekly monday 06:00 ny", weekly(Weekday::Mon, 6, 0), NY, "2026-12-07T10:59:59Z", "2026-12-07T11:00:00Z", "2026-11-30"),
        ("weekly in the spring gap", weekly(Weekday::Sun, 2, 30), NY, "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z", "2026-03-01"),
        ("weekly in the fold: the earlier", weekly(Weekday::Sun, 1, 30), NY, "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z", "2026-10-25"),
        ("weekly after the fold", weekly(Weekday::Sun, 1, 30), NY, "2026-11-01T05:30:00Z", "2026-11-08T06:30:00Z", "2026-11-01"),
        ("weekly saturday kolkata", weekly(Weekday::Sat, 0, 0), KOLKATA, "2026-12-01T00:00:00Z", "2026-12-04T18:30:00Z", "2026-11-28"),
        ("monthly", monthly(0, 0), UTC, "2026-12-07T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12-01"),
        ("monthly across the year", monthly(0, 0), UTC, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-01-01"),
        ("monthly ny at 00:30 across dst", monthly(0, 30), NY, "2026-03-15T00:00:00Z", "2026-04-01T04:30:00Z", "2026-03-01"),
        ("monthly february", monthly(0, 0), UTC, "2028-02-10T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02-01"),
        ("yearly", yearly(0, 0), UTC, "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-01-01"),
        ("yearly ny", yearly(0, 0), NY, "2026-12-31T23:00:00Z", "2027-01-01T05:00:00Z", "2026-01-01"),
        ("every 7d thursdays at 01:30 london", every_at(7 * 86_400, hm(1, 30)), LONDON, "2026-12-07T00:00:00Z", "2026-12-10T01:30:00Z", "2026-12-03"),
        ("every 6h at 00:15 ny", every_at(6 * 3600, hm(0, 15)), NY, "2026-12-07T12:00:00Z", "2026-12-07T17:15:00Z", "2026-12-07-06"),
        ("every 1h kolkata: local hours", every(3600), KOLKATA, "2026-12-07T10:00:00Z", "2026-12-07T10:30:00Z", "2026-12-07-15"),
    ];
    for (case, sched, zone, after, next, label) in cases {
        let got = sched.next_cut(*zone, utc(after));
        assert_eq!(got, utc(next), "{case}: next cut");
        assert_eq!(sched.label(*zone, got), *label, "{case}: label");
        assert_eq!(
            sched.period_start(*zone, got),
            got,
            "{case}: a boundary starts its period"
        );
    }
}

/// A weekly schedule cuts once a week for a year, always on its weekday at
/// its local time (or the end of a gap), in zones with DST.
#[test]
fn one_weekly_cut_per_week_for_a_year() {
    for zone in [NY, LONDON, SANTIAGO, LORD_HOWE] {
        let sched = weekly(Weekday::Sun, 2, 30);
        let mut t = utc("2026-01-01T00:00:00Z");
        for _ in 0..52 {
            let next = sched.next_cut(zone, t);
            let days = (next - t).num_hours();
            assert!(
                t == utc("2026-01-01T00:00:00Z") || (166..=170).contains(&days),
                "{zone:?} {t} -> {next}"
            );
            let Zone::Named(tz) = zone else {
                unreachable!()
            };
            let local = next.with_timezone(&tz);
            assert_eq!(local.weekday(), Weekday::Sun, "{zone:?} {next}");
            assert!(
                local.time() >= hm(2, 30) && local.time() <= hm(3, 31),
                "{zone:?} {local}"
            );
            t = next;
        }
    }
}

#[test]
fn size_only_has_no_scheduled_cut() {
    let s = Schedule::Unscheduled;
    let t = utc("2026-12-07T10:00:00Z");
    assert_eq!(s.next_cut(UTC, t), DateTime::<Utc>::MAX_UTC);
    assert_eq!(
        s.due(UTC, t, t + TimeDelta::days(400), false, false),
        Due::No {
            next: DateTime::<Utc>::MAX_UTC
        }
    );
    assert_eq!(
        s.due(UTC, t, utc("2026-12-08T10:00:00Z"), true, false),
        Due::Yes {
            trigger: Trigger::MaxSize,
            label: "2026-12-08".into()
        }
    );
}

#[test]
fn veto_table() {
    use Trigger::*;
    #[rustfmt::skip]
    let cases = [
        // (trigger, used, min_size, pending_when_empty, veto)
        (Schedule, 100, None, true, Veto::None),
        (Schedule, 0, None, true, Veto::Pending),
        (Schedule, 0, None, false, Veto::PeriodEnds),
        (Schedule, 99, Some(100), true, Veto::Pending),
        (Schedule, 99, Some(100), false, Veto::Pending),
        (Schedule, 100, Some(100), true, Veto::None),
        (MaxSize, 5000, Some(10_000), true, Veto::None),
        (Manual, 10, Some(100), false, Veto::None),
        (Manual, 0, None, false, Veto::Pending),
    ];
    for (trigger, used, min, pending, want) in cases {
        assert_eq!(
            veto(trigger, used, min, pending),
            want,
            "{trigger:?} {used} {min:?} {pending}"
        );
    }
}

#[test]
fn weekday_table() {
    for (text, want) in [
        ("0", Ok(Weekday::Sun)),
        ("1", Ok(Weekday::Mon)),
        ("6", Ok(Weekday::Sat)),
        ("7", Ok(Weekday::Sun)),
        ("sun", Ok(Weekday::Sun)),
        ("Friday", Ok(Weekday::Fri)),
        (" TUE ", Ok(Weekday::Tue)),
    ] {
        assert_eq!(parse_weekday(text), want, "{text:?}");
    }
    for bad in ["8", "-1", "someday", ""] {
        assert!(parse_weekday(bad).is_err(), "{bad:?}");
    }
}
