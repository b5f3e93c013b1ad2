//! Rotation schedules: this module owns the decision of *when* a source's
//! file is cut (rotated) and *which period label* the resulting archive gets.
//! It understands daily cuts at a local wall-clock time, hourly cuts at every
//! full local hour and fixed epoch-aligned intervals, and it is correct across
//! daylight-saving transitions (23 h and 25 h days, nonexistent and repeated
//! local times). It never reads the clock and never does I/O: every function
//! is handed the instant it reasons about, so callers (and tests) control time.

use chrono::{
    DateTime, Days, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};

/// How often a source is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Once a day at local time `at` in the zone.
    ///
    /// When `at` occurs twice on a day (DST fall-back) the earlier instant is
    /// used; when it does not exist (spring-forward gap) the cut happens at
    /// the first instant after the gap, so a 23 h or 25 h day still gets
    /// exactly one cut.
    Daily {
        /// Local wall-clock time of the daily cut.
        at: NaiveTime,
    },
    /// At every full local hour (local minute and second both zero).
    ///
    /// In a half-hour-offset zone such as Asia/Kolkata these fall on :30 UTC.
    /// A repeated local hour (DST fall-back) yields two distinct boundaries.
    Hourly,
    /// Every fixed interval, aligned to multiples of the interval since the
    /// Unix epoch (UTC). Interval >= 1 second; shorter intervals (which
    /// [`Schedule::parse`] never produces) are treated as 1 second.
    Every(std::time::Duration),
}

/// Why a live file is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Manual,
    MaxSize,
}

impl Trigger {
    /// As the rotate records and reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::MaxSize => "max_size",
        }
    }
}

/// [`Schedule::due`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Not now; the next scheduled cut.
    No { next: DateTime<Utc> },
    /// Cut now, under this label.
    Yes { trigger: Trigger, label: String },
}

/// The time zone a schedule is read in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// The host's local zone as `chrono::Local` sees it (honours `TZ`).
    Local,
    /// A named IANA zone from the bundled tz database.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parse `"local"` (case-insensitive) or an IANA zone name such as
    /// `"Europe/London"`, so configuration can pin a schedule to a zone
    /// independent of the host. Surrounding whitespace is ignored.
    ///
    /// Errors are user-facing lowercase messages naming what is accepted.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let name = s.trim();
        if name.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!(
                "unknown time zone {name:?}; use \"local\" or an IANA name such as \"Europe/London\""
            )
        })
    }
}

/// Longest run of nonexistent local time we step over when resolving a daily
/// cut, in minutes. Real gaps are at most a day (Pacific/Apia skipped
/// 2011-12-30 entirely), so two days is a generous bound.
const MAX_GAP_MINUTES: u32 = 2 * 24 * 60;

/// Local hours searched behind an instant for hourly boundaries: a UTC-offset
/// drop (fall-back) of up to this many hours cannot hide a boundary.
const HOURLY_BACK: i64 = 3;

/// Local hours searched ahead of an instant for hourly boundaries: a gap of
/// nonexistent local time up to this long is stepped over.
const HOURLY_FORWARD: i64 = 48;

impl Schedule {
    /// Parse a schedule from configuration: `"daily"`, `"hourly"` or
    /// `"every <n><unit>"` where `<n>` is a positive whole number and `<unit>`
    /// is one of `s`, `m`, `h`, `d` (e.g. `"every 10m"`). Matching is
    /// case-insensitive and tolerant of surrounding whitespace.
    ///
    /// `at` is the local time of day used only for `daily`.
    ///
    /// Errors are user-facing lowercase messages saying what is accepted;
    /// a zero interval is rejected.
    pub fn parse(s: &str, at: NaiveTime) -> Result<Schedule, String> {
        let text = s.trim();
        if text.eq_ignore_ascii_case("daily") {
            return Ok(Schedule::Daily { at });
        }
        if text.eq_ignore_ascii_case("hourly") {
            return Ok(Schedule::Hourly);
        }
        let mut words = text.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(first), Some(interval), None) if first.eq_ignore_ascii_case("every") => {
                parse_interval(interval).map(Schedule::Every)
            }
            (Some(first), None, None) if first.eq_ignore_ascii_case("every") => Err(format!(
                "schedule {text:?} is missing an interval; use \"every <n><unit>\" with unit s, m, h or d, e.g. \"every 10m\""
            )),
            _ => Err(format!(
                "unknown schedule {text:?}; use \"daily\", \"hourly\" or \"every <n><unit>\" with unit s, m, h or d, e.g. \"every 10m\""
            )),
        }
    }

    /// The first cut instant strictly after `after`.
    ///
    /// Repeated calls (`next_cut(next_cut(t))`, ...) visit every boundary in
    /// order without skipping one, which is how the daemon plans its timers.
    pub fn next_cut(&self, zone: Zone, after: DateTime<Utc>) -> DateTime<Utc> {
        match zone {
            Zone::Local => self.next_cut_in(&Local, after),
            Zone::Named(tz) => self.next_cut_in(&tz, after),
        }
    }

    /// The latest cut boundary `<= t`, i.e. the start of the period that
    /// contains `t`. Used to decide which period a write belongs to.
    pub fn period_start(&self, zone: Zone, t: DateTime<Utc>) -> DateTime<Utc> {
        match zone {
            Zone::Local => self.period_start_in(&Local, t),
            Zone::Named(tz) => self.period_start_in(&tz, t),
        }
    }

    /// The label of the period whose content a cut at instant `cut` closes:
    /// the local start of the period containing `cut - 1ns`, formatted
    /// `YYYY-MM-DD` for daily schedules and intervals of at least 24 h, and
    /// `YYYY-MM-DD-HH` for hourly schedules and shorter intervals.
    ///
    /// Using `cut - 1ns` means a scheduled cut is labelled with the period it
    /// ends, while a manual cut mid-period is labelled with the current one.
    /// Labels can repeat (a repeated local hour, several short intervals in
    /// one hour); the caller disambiguates archive names.
    pub fn label(&self, zone: Zone, cut: DateTime<Utc>) -> String {
        match zone {
            Zone::Local => self.label_in(&Local, cut),
            Zone::Named(tz) => self.label_in(&tz, cut),
        }
    }

    /// True when a cut boundary lies in `(last_cut, now]`, i.e. a cut is due,
    /// for example because it was missed while the daemon was down.
    ///
    /// `last_cut = None` means the file was never cut: that returns `false`,
    /// so a file seen for the first time is not cut at once.
    pub fn is_due(&self, zone: Zone, last_cut: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match last_cut {
            None => false,
            Some(last) => self.next_cut(zone, last) <= now,
        }
    }

    /// Whether a live file whose period began at `anchor` is cut at `now`,
    /// why, and under which label. The schedule comes first (labelled with
    /// the period the scheduled cut ends, however late it is taken: a cut
    /// missed while the daemon was down is caught up under its own date);
    /// then a forced cut (`manual`), then `over_size` (`max_size`), both
    /// labelled with the current period.
    pub fn due(
        &self,
        zone: Zone,
        anchor: DateTime<Utc>,
        now: DateTime<Utc>,
        over_size: bool,
        forced: bool,
    ) -> Due {
        let scheduled = self.next_cut(zone, anchor);
        let trigger = if scheduled <= now {
            Trigger::Schedule
        } else if forced {
            Trigger::Manual
        } else if over_size {
            Trigger::MaxSize
        } else {
            return Due::No { next: scheduled };
        };
        let at = if trigger == Trigger::Schedule {
            scheduled
        } else {
            now
        };
        Due::Yes {
            trigger,
            label: self.label(zone, at),
        }
    }

    fn next_cut_in<Tz: TimeZone>(&self, tz: &Tz, after: DateTime<Utc>) -> DateTime<Utc> {
        let found = match *self {
            Schedule::Daily { at } => daily_next(tz, at, after),
            Schedule::Hourly => hourly_next(tz, after),
            Schedule::Every(interval) => every_next(interval, after),
        };
        // Only reachable at the very ends of chrono's representable range.
        found.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn period_start_in<Tz: TimeZone>(&self, tz: &Tz, t: DateTime<Utc>) -> DateTime<Utc> {
        let found = match *self {
            Schedule::Daily { at } => daily_start(tz, at, t),
            Schedule::Hourly => hourly_start(tz, t),
            Schedule::Every(interval) => every_start(interval, t),
        };
        // Only reachable at the very ends of chrono's representable range.
        found.unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    fn label_in<Tz: TimeZone>(&self, tz: &Tz, cut: DateTime<Utc>) -> String {
        let inside = cut
            .checked_sub_signed(TimeDelta::nanoseconds(1))
            .unwrap_or(cut);
        let start = self.period_start_in(tz, inside);
        // Out-of-range local times only occur at the ends of chrono's range.
        let local = local_naive(tz, start).unwrap_or_else(|| start.naive_utc());
        if self.labels_by_day() {
            local.format("%Y-%m-%d").to_string()
        } else {
            local.format("%Y-%m-%d-%H").to_string()
        }
    }

    fn labels_by_day(&self) -> bool {
        match *self {
            Schedule::Daily { .. } => true,
            Schedule::Hourly => false,
            Schedule::Every(interval) => interval >= std::time::Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Parse `<n><unit>` with unit s/m/h/d into a non-zero duration.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let invalid = || {
        format!(
            "invalid interval {text:?}; use a whole number followed by s, m, h or d, e.g. \"every 10m\""
        )
    };
    let split = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map(|(i, _)| i)
        .ok_or_else(invalid)?;
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(invalid());
    }
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return Err(invalid()),
    };
    let too_large = || format!("interval {text:?} is too large");
    let count: u64 = digits.parse().map_err(|_| too_large())?;
    let secs = count.checked_mul(scale).ok_or_else(too_large)?;
    if secs == 0 {
        return Err(format!(
            "interval {text:?} must be at least 1 second; use e.g. \"every 10m\""
        ));
    }
    Ok(std::time::Duration::from_secs(secs))
}

// ---------------------------------------------------------------- daily

/// The cut instant for local `date` at local time `at`: the earlier instant
/// when the local time is ambiguous, the end of the gap when it does not
/// exist. `None` only outside chrono's representable range.
fn daily_cut<Tz: TimeZone>(tz: &Tz, date: NaiveDate, at: NaiveTime) -> Option<DateTime<Utc>> {
    let target = date.and_time(at);
    if let Some(instant) = earliest(tz, &target) {
        return Some(instant);
    }
    // Inside a spring-forward gap: step forward minute by minute in local
    // time until a time exists, then back off to the exact transition.
    let mut probe = target.with_second(0)?.with_nanosecond(0)?;
    for _ in 0..MAX_GAP_MINUTES {
        probe = probe.checked_add_signed(TimeDelta::minutes(1))?;
        if let Some(found) = earliest(tz, &probe) {
            return Some(back_to_transition(tz, &target, found));
        }
    }
    None
}

/// Given `found`, the first existing instant at whole-minute granularity after
/// a gap containing local `target`, walk back second by second to the first
/// instant whose local time is at or past `target` (the transition instant).
fn back_to_transition<Tz: TimeZone>(
    tz: &Tz,
    target: &NaiveDateTime,
    found: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut instant = found;
    for _ in 0..60 {
        let Some(prev) = instant.checked_sub_signed(TimeDelta::seconds(1)) else {
            break;
        };
        if local_naive(tz, prev).is_some_and(|local| local >= *target) {
            instant = prev;
        } else {
            break;
        }
    }
    instant
}

/// The local wall-clock time of `t` in `tz`; `None` when it falls outside
/// chrono's representable range (where `DateTime::naive_local` would panic).
fn local_naive<Tz: TimeZone>(tz: &Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let utc = t.naive_utc();
    utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
}

/// Earliest UTC instant of a local datetime, `None` if it does not exist.
fn earliest<Tz: TimeZone>(tz: &Tz, local: &NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(local) {
        LocalResult::Single(a) => Some(a.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => None,
    }
}

/// Daily cuts for the local dates around instant `t` (the date of `t` two
/// days either side), in date order. A cut resolved forward through a gap
/// may land on a later date, which is why the window is that wide.
fn daily_cuts_around<Tz: TimeZone>(
    tz: &Tz,
    at: NaiveTime,
    t: DateTime<Utc>,
) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    let first = local_naive(tz, t).and_then(|local| local.date().checked_sub_days(Days::new(2)));
    (0..5u64).filter_map(move |offset| {
        let day = first?.checked_add_days(Days::new(offset))?;
        daily_cut(tz, day, at)
    })
}

fn daily_next<Tz: TimeZone>(tz: &Tz, at: NaiveTime, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    daily_cuts_around(tz, at, after)
        .filter(|cut| *cut > after)
        .min()
}

fn daily_start<Tz: TimeZone>(tz: &Tz, at: NaiveTime, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    daily_cuts_around(tz, at, t).filter(|cut| *cut <= t).max()
}

// ---------------------------------------------------------------- hourly

/// Every instant whose local time is exactly the full hour `hour` (none in a
/// gap, two in a fold).
fn hour_instants<Tz: TimeZone>(tz: &Tz, hour: &NaiveDateTime) -> [Option<DateTime<Utc>>; 2] {
    match tz.from_local_datetime(hour) {
        LocalResult::Single(a) => [Some(a.with_timezone(&Utc)), None],
        LocalResult::Ambiguous(a, b) => [Some(a.with_timezone(&Utc)), Some(b.with_timezone(&Utc))],
        LocalResult::None => [None, None],
    }
}

/// The local full hour containing `t`, as a naive local datetime.
fn local_hour_floor<Tz: TimeZone>(tz: &Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let local = local_naive(tz, t)?;
    local.with_minute(0)?.with_second(0)?.with_nanosecond(0)
}

fn hourly_next<Tz: TimeZone>(tz: &Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let base = local_hour_floor(tz, after)?;
    let mut best: Option<DateTime<Utc>> = None;
    for k in -HOURLY_BACK..=HOURLY_FORWARD {
        if k > HOURLY_BACK && best.is_some() {
            break;
        }
        let Some(hour) = base.checked_add_signed(TimeDelta::hours(k)) else {
            continue;
        };
        for instant in hour_instants(tz, &hour).into_iter().flatten() {
            if instant > after && best.is_none_or(|b| instant < b) {
                best = Some(instant);
            }
        }
    }
    best
}

fn hourly_start<Tz: TimeZone>(tz: &Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let base = local_hour_floor(tz, t)?;
    let mut best: Option<DateTime<Utc>> = None;
    for k in (-HOURLY_FORWARD..=HOURLY_BACK).rev() {
        if k < -HOURLY_BACK && best.is_some() {
            break;
        }
        let Some(hour) = base.checked_add_signed(TimeDelta::hours(k)) else {
            continue;
        };
        for instant in hour_instants(tz, &hour).into_iter().flatten() {
            if instant <= t && best.is_none_or(|b| instant > b) {
                best = Some(instant);
            }
        }
    }
    best
}

// ---------------------------------------------------------------- every

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// The interval in nanoseconds, at least one second.
fn interval_nanos(interval: std::time::Duration) -> i128 {
    // Duration::as_nanos is at most ~1.8e28, well inside i128.
    i128::try_from(interval.as_nanos())
        .unwrap_or(i128::MAX)
        .max(NANOS_PER_SEC)
}

fn to_nanos(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * NANOS_PER_SEC + i128::from(t.timestamp_subsec_nanos())
}

fn from_nanos(nanos: i128) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).ok()?;
    DateTime::from_timestamp(secs, sub)
}

fn every_start(interval: std::time::Duration, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let step = interval_nanos(interval);
    let index = to_nanos(t).div_euclid(step);
    from_nanos(index.checked_mul(step)?)
}

fn every_next(interval: std::time::Duration, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let step = interval_nanos(interval);
    let index = to_nanos(after).div_euclid(step);
    from_nanos(index.checked_add(1)?.checked_mul(step)?)
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn every(secs: u64) -> Schedule {
        Schedule::Every(Duration::from_secs(secs))
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
            // --- Every: aligned to the Unix epoch, independent of zone
            ("every 2s", UTC, every(2), "2026-11-21T10:00:01Z", "2026-11-21T10:00:02Z"),
            ("every 2s strictly after", UTC, every(2), "2026-11-21T10:00:02Z", "2026-11-21T10:00:04Z"),
            ("every 2s fractional", UTC, every(2), "2026-11-21T10:00:02.5Z", "2026-11-21T10:00:04Z"),
            ("every 7s epoch-aligned", UTC, every(7), "2026-11-21T10:00:00Z", "2026-11-21T10:00:03Z"),
            ("every 10m", UTC, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
            ("every 10m zone-independent", NY, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
            ("every 10m kolkata", KOLKATA, every(600), "2026-11-21T10:07:00Z", "2026-11-21T10:10:00Z"),
            ("every 1d at utc midnight", NY, every(86_400), "2026-11-21T10:07:00Z", "2026-11-22T00:00:00Z"),
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
            ("every 1d local start of utc period", NY, every(86_400), "2026-11-21T00:00:00Z", "2026-11-19"),
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
            ("every 2s", every(2)),
            ("every 10m", every(600)),
            ("every 1h", every(3600)),
            ("every 1d", every(86_400)),
            ("Every  90M", every(5400)),
        ];
        for (text, expected) in ok {
            assert_eq!(Schedule::parse(text, at), Ok(*expected), "{text:?}");
        }
        #[rustfmt::skip]
        let bad: &[(&str, &str)] = &[
            ("weekly", "unknown schedule"),
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
            let err = Schedule::parse(text, at).expect_err(text);
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
        let huge = Schedule::Every(Duration::MAX);
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
            every(86_400),
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
}
