//! Boundaries that are local wall-clock times on a calendar: weekly (a
//! weekday at `at`), monthly (day 1 at `at`), yearly (1 January at `at`) and
//! fixed intervals counted in local time from `1970-01-01 at`.
//!
//! Each cadence first names its boundaries as naive local times (pure
//! calendar arithmetic), then [`next`] and [`start`] map them to instants
//! with the daily rule ([`super::resolve`]: the earlier instant of a
//! repeated time, the end of the gap for one that does not exist) and step
//! over any that a fold or a gap puts on the wrong side of the instant asked
//! about.

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};

use super::{local_naive, resolve};

/// A calendar cadence; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Weekly(Weekday),
    Monthly,
    Yearly,
    /// Every interval (at least one second) in local wall-clock time from
    /// `1970-01-01` at `at`: `every 6h` at 00:00 is 00:00, 06:00, 12:00 and
    /// 18:00 local; `every 2d` is every other local date at `at`.
    Interval(std::time::Duration),
}

/// Naive boundaries tried before giving up: a repeated local hour holds at
/// most 3,600 boundaries of a one-second interval.
const SEARCH: usize = 10_000;

const NANOS: i128 = 1_000_000_000;

/// How far back a fall-back transition is looked for: longer than any
/// real repeated stretch of local time.
const FOLD_BACK_HOURS: i64 = 3;

impl Cadence {
    /// The first date on or after `d` that holds a boundary.
    fn date_on_or_after(self, d: NaiveDate) -> Option<NaiveDate> {
        match self {
            Cadence::Weekly(w) => {
                let ahead = (i64::from(w.num_days_from_sunday())
                    - i64::from(d.weekday().num_days_from_sunday()))
                .rem_euclid(7);
                d.checked_add_days(Days::new(ahead.unsigned_abs()))
            }
            Cadence::Monthly if d.day() == 1 => Some(d),
            Cadence::Monthly => d.with_day(1)?.checked_add_months(Months::new(1)),
            Cadence::Yearly if d.ordinal() == 1 => Some(d),
            Cadence::Yearly => NaiveDate::from_ymd_opt(d.year().checked_add(1)?, 1, 1),
            Cadence::Interval(_) => None,
        }
    }

    /// The last date on or before `d` that holds a boundary.
    fn date_on_or_before(self, d: NaiveDate) -> Option<NaiveDate> {
        match self {
            Cadence::Weekly(w) => {
                let back = (i64::from(d.weekday().num_days_from_sunday())
                    - i64::from(w.num_days_from_sunday()))
                .rem_euclid(7);
                d.checked_sub_days(Days::new(back.unsigned_abs()))
            }
            Cadence::Monthly => d.with_day(1),
            Cadence::Yearly => NaiveDate::from_ymd_opt(d.year(), 1, 1),
            Cadence::Interval(_) => None,
        }
    }

    /// The first naive boundary strictly after `n`.
    pub(super) fn next_naive(self, at: NaiveTime, n: NaiveDateTime) -> Option<NaiveDateTime> {
        if let Cadence::Interval(iv) = self {
            let (anchor, step) = interval_grid(at, iv)?;
            let k = nanos_since(anchor, n)?.div_euclid(step) + 1;
            return add_nanos(anchor, k.checked_mul(step)?);
        }
        let first = self.date_on_or_after(n.date())?.and_time(at);
        if first > n {
            return Some(first);
        }
        Some(self.date_on_or_after(n.date().succ_opt()?)?.and_time(at))
    }

    /// The last naive boundary at or before `n`.
    pub(super) fn prev_naive(self, at: NaiveTime, n: NaiveDateTime) -> Option<NaiveDateTime> {
        if let Cadence::Interval(iv) = self {
            let (anchor, step) = interval_grid(at, iv)?;
            let k = nanos_since(anchor, n)?.div_euclid(step);
            return add_nanos(anchor, k.checked_mul(step)?);
        }
        let last = self.date_on_or_before(n.date())?.and_time(at);
        if last <= n {
            return Some(last);
        }
        Some(self.date_on_or_before(n.date().pred_opt()?)?.and_time(at))
    }

    /// Whether the period a boundary opens is named by its date
    /// (`YYYY-MM-DD`) rather than its hour.
    pub(super) fn labels_by_day(self) -> bool {
        match self {
            Cadence::Interval(iv) => iv >= std::time::Duration::from_secs(86_400),
            _ => true,
        }
    }
}

/// The interval grid: its origin (`1970-01-01 at`) and step in nanoseconds.
fn interval_grid(at: NaiveTime, iv: std::time::Duration) -> Option<(NaiveDateTime, i128)> {
    let anchor = NaiveDate::from_ymd_opt(1970, 1, 1)?.and_time(at);
    let step = i128::try_from(iv.as_nanos()).ok()?.max(NANOS);
    Some((anchor, step))
}

fn nanos_since(anchor: NaiveDateTime, n: NaiveDateTime) -> Option<i128> {
    let d = n.signed_duration_since(anchor);
    Some(i128::from(d.num_seconds()) * NANOS + i128::from(d.subsec_nanos()))
}

fn add_nanos(anchor: NaiveDateTime, nanos: i128) -> Option<NaiveDateTime> {
    let secs = i64::try_from(nanos.div_euclid(NANOS)).ok()?;
    let sub = i64::try_from(nanos.rem_euclid(NANOS)).ok()?;
    anchor
        .checked_add_signed(TimeDelta::try_seconds(secs)?)?
        .checked_add_signed(TimeDelta::nanoseconds(sub))
}

/// The first boundary instant strictly after `after`.
pub(super) fn next<Tz: TimeZone>(
    c: Cadence,
    tz: &Tz,
    at: NaiveTime,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut n = local_naive(tz, after)?;
    for _ in 0..SEARCH {
        let b = c.next_naive(at, n)?;
        let instant = resolve(tz, b)?;
        if instant > after {
            return Some(instant);
        }
        n = b;
    }
    None
}

/// The last boundary instant at or before `t`: the start of its period.
pub(super) fn start<Tz: TimeZone>(
    c: Cadence,
    tz: &Tz,
    at: NaiveTime,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    // In the second pass of a repeated hour, boundaries of the first pass
    // at later local times are still before `t`: start from `t`'s local
    // time under the larger offset of the last few hours.
    let mut n = local_naive(tz, t)?;
    let earlier = t.checked_sub_signed(TimeDelta::hours(FOLD_BACK_HOURS))?;
    if let Some(old) = t
        .naive_utc()
        .checked_add_offset(tz.offset_from_utc_datetime(&earlier.naive_utc()).fix())
    {
        n = n.max(old);
    }
    for _ in 0..SEARCH {
        let b = c.prev_naive(at, n)?;
        let instant = resolve(tz, b)?;
        if instant <= t {
            return Some(instant);
        }
        n = b.checked_sub_signed(TimeDelta::nanoseconds(1))?;
    }
    None
}

/// Parses a weekday as logrotate's `weekly [w]` counts them: `0`–`6` with
/// 0 = Sunday (7 is Sunday too), or a name (`sun`, `Sunday`, any case).
pub fn parse_weekday(s: &str) -> Result<Weekday, String> {
    use Weekday::*;
    let t = s.trim();
    if let Ok(n) = t.parse::<usize>() {
        return [Sun, Mon, Tue, Wed, Thu, Fri, Sat, Sun]
            .get(n)
            .copied()
            .ok_or_else(|| {
                format!("invalid weekday {t:?}; use 0-6 (0 = Sunday) or a name such as \"sun\"")
            });
    }
    t.parse::<Weekday>()
        .map_err(|_| format!("invalid weekday {t:?}; use \"sun\" ... \"sat\" or 0-6 (0 = Sunday)"))
}
