//! Retention: which archives to delete. The plan is a pure function of the
//! archives found, the policy and the time; the caller deletes.
//!
//! Archives are taken newest first (cut order). One is deleted when it is
//! older than `max_age` (age counts from the end of the period its label
//! names, so a daily archive labelled D is 30 days old at the end of D + 30),
//! when `max_archives` newer ones are kept, or when keeping it would take the
//! kept total past `max_total_size`. An archive still held open by a writer is
//! never deleted. Only names that parse as an archive of a configured file
//! reach this module, so nothing else can ever be deleted.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::policy::archive::Archive;
use crate::policy::schedule::{Schedule, Zone};

/// The retention limits of a source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_age: Option<Duration>,
    pub max_archives: Option<usize>,
    pub max_total_size: Option<u64>,
}

/// An archive as retention sees it.
#[derive(Debug, Clone)]
pub struct Item {
    pub archive: Archive,
    pub size: u64,
    /// End of the period the archive's label names.
    pub end: DateTime<Utc>,
    /// Held open for writing (a renamed file whose writer has not let go).
    pub in_use: bool,
}

/// One deletion and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub name: String,
    pub reason: String,
}

/// Decide what to delete among the archives of one live file.
pub fn plan(items: &[Item], limits: Limits, now: DateTime<Utc>) -> Vec<Deletion> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by(|a, b| b.archive.cut_order(&a.archive));
    let mut kept = 0usize;
    let mut kept_bytes = 0u64;
    let mut out = Vec::new();
    for it in sorted {
        let age = now
            .signed_duration_since(it.end)
            .to_std()
            .unwrap_or_default();
        let reason = if limits.max_age.is_some_and(|max| age > max) {
            Some(format!(
                "older than max_age ({})",
                humantime::format_duration(limits.max_age.unwrap_or_default())
            ))
        } else if limits.max_archives.is_some_and(|max| kept >= max) {
            Some(format!(
                "more than max_archives ({})",
                limits.max_archives.unwrap_or_default()
            ))
        } else if limits
            .max_total_size
            .is_some_and(|max| kept_bytes + it.size > max)
        {
            Some(format!(
                "over max_total_size ({} bytes)",
                limits.max_total_size.unwrap_or_default()
            ))
        } else {
            None
        };
        match reason {
            Some(reason) if !it.in_use => out.push(Deletion {
                name: it.archive.file_name(),
                reason,
            }),
            _ => {
                kept += 1;
                kept_bytes += it.size;
            }
        }
    }
    out
}

/// The period a label names, in `zone`: from the label's local day
/// (`YYYY-MM-DD`) or hour (`YYYY-MM-DD-HH`) to the start of the next one,
/// or, for a calendar schedule that labels by day (weekly, monthly, yearly,
/// `every Nd`), to its next cut after that day. A local time that does not
/// exist (DST gap) resolves to the first instant after it.
pub fn label_span(
    label: &str,
    schedule: &Schedule,
    zone: Zone,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (date, hour) = match label.len() {
        10 => (label, None),
        13 => (&label[..10], Some(label[11..].parse::<u32>().ok()?)),
        _ => return None,
    };
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let start = d.and_hms_opt(hour.unwrap_or(0), 0, 0)?;
    let end = start
        + if hour.is_some() {
            chrono::Duration::hours(1)
        } else {
            chrono::Duration::days(1)
        };
    let (start, mut end) = match zone {
        Zone::Local => (
            resolve(&chrono::Local, start)?,
            resolve(&chrono::Local, end)?,
        ),
        Zone::Named(tz) => (resolve(&tz, start)?, resolve(&tz, end)?),
    };
    if hour.is_none() && matches!(schedule, Schedule::Calendar { .. }) {
        end = end.max(schedule.next_cut(zone, end - chrono::Duration::nanoseconds(1)));
    }
    Some((start, end))
}

/// The end of the period a label names ([`label_span`]).
pub fn label_end(label: &str, schedule: &Schedule, zone: Zone) -> Option<DateTime<Utc>> {
    label_span(label, schedule, zone).map(|(_, end)| end)
}

fn resolve<Z: TimeZone>(z: &Z, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    for minutes in 0..=180 {
        let t = local + chrono::Duration::minutes(minutes);
        if let Some(dt) = z.from_local_datetime(&t).earliest() {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::archive::parse_any;
    use crate::policy::schedule::Cadence;

    fn item(name: &str, size: u64) -> Item {
        let archive = parse_any(name).unwrap();
        let daily = Schedule::Daily {
            at: chrono::NaiveTime::MIN,
        };
        let end = label_end(&archive.label, &daily, Zone::Named(chrono_tz::UTC)).unwrap();
        Item {
            archive,
            size,
            end,
            in_use: false,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const DAY: u64 = 86400;

    #[test]
    fn age_boundaries_29_30_31_days() {
        // now = 2026-11-21 12:00; ages from the end of each label's day.
        let now = at("2026-11-21T12:00:00Z");
        let items = [
            item("a.log.2026-10-23.gz", 1), // ends 10-24: 28.5 days
            item("a.log.2026-10-22.gz", 1), // ends 10-23: 29.5 days
            item("a.log.2026-10-21.gz", 1), // ends 10-22: 30.5 days
            item("a.log.2026-10-20.gz", 1), // ends 10-21: 31.5 days
        ];
        let limits = Limits {
            max_age: Some(Duration::from_secs(30 * DAY)),
            ..Limits::default()
        };
        let del: Vec<_> = plan(&items, limits, now)
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(del, ["a.log.2026-10-21.gz", "a.log.2026-10-20.gz"]);
        // Exactly 30 days after the end is not older than 30 days.
        let del = plan(&items, limits, at("2026-11-22T00:00:00Z"));
        assert_eq!(del.len(), 2, "{del:?}");
    }

    #[test]
    fn counts_keep_the_newest_in_cut_order() {
        let items = [
            item("a.log.2026-11-20.gz", 1),
            item("a.log.2026-11-20.1.gz", 1),
            item("a.log.2026-11-20.10.gz", 1),
            item("a.log.2026-11-19.gz", 1),
            item("a.log.2026-11-20.2.gz", 1),
        ];
        let limits = Limits {
            max_archives: Some(2),
            ..Limits::default()
        };
        let del: Vec<_> = plan(&items, limits, at("2026-11-21T00:00:00Z"))
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(
            del,
            [
                "a.log.2026-11-20.1.gz",
                "a.log.2026-11-20.gz",
                "a.log.2026-11-19.gz"
            ]
        );
    }

    #[test]
    fn total_size_keeps_the_newest_that_fit() {
        let items = [
            item("a.log.2026-11-20.gz", 60),
            item("a.log.2026-11-19.gz", 30),
            item("a.log.2026-11-18.gz", 20),
        ];
        let limits = Limits {
            max_total_size: Some(100),
            ..Limits::default()
        };
        let del: Vec<_> = plan(&items, limits, at("2026-11-21T00:00:00Z"))
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(del, ["a.log.2026-11-18.gz"]);
    }

    #[test]
    fn in_use_archives_are_never_deleted() {
        let mut old = item("a.log.2025-01-01", 1);
        old.in_use = true;
        let limits = Limits {
            max_age: Some(Duration::from_secs(DAY)),
            max_archives: Some(1),
            max_total_size: Some(0),
        };
        assert!(plan(&[old], limits, at("2026-11-21T00:00:00Z")).is_empty());
    }

    #[test]
    fn label_ends_follow_the_zone_and_the_schedule() {
        let daily = Schedule::Daily {
            at: chrono::NaiveTime::MIN,
        };
        let cal = |cadence| Schedule::Calendar {
            cadence,
            at: chrono::NaiveTime::MIN,
        };
        let ny = Zone::Named(chrono_tz::America::New_York);
        let utc = Zone::Named(chrono_tz::UTC);
        // Santiago: midnight 2026-09-06 does not exist; the day ends at 01:00 local.
        let scl = Zone::Named(chrono_tz::America::Santiago);
        #[rustfmt::skip]
        let cases = [
            ("2026-11-20", daily, ny, Some("2026-11-21T05:00:00Z")),
            ("2026-11-20-07", daily, utc, Some("2026-11-20T08:00:00Z")),
            ("2026-09-05", daily, scl, Some("2026-09-06T04:00:00Z")),
            ("garbage", daily, ny, None),
            // A week, a month, a year: the period ends at the next cut.
            ("2026-11-29", cal(Cadence::Weekly(chrono::Weekday::Sun)), utc, Some("2026-12-06T00:00:00Z")),
            ("2026-03-01", cal(Cadence::Monthly), ny, Some("2026-04-01T04:00:00Z")),
            ("2026-01-01", cal(Cadence::Yearly), utc, Some("2027-01-01T00:00:00Z")),
            ("2026-12-03", cal(Cadence::Interval(Duration::from_secs(7 * 86_400))), utc, Some("2026-12-10T00:00:00Z")),
            // Size-only archives are labelled by their day.
            ("2026-12-03", Schedule::Unscheduled, utc, Some("2026-12-04T00:00:00Z")),
        ];
        for (label, schedule, zone, want) in cases {
            assert_eq!(
                label_end(label, &schedule, zone),
                want.map(at),
                "{label} {schedule:?}"
            );
        }
    }
}
