//! Rotation schedules: this module owns the decision of *when* a source's
//! file is cut (rotated) and *which period label* the resulting archive gets.
//! It understands daily, weekly, monthly and yearly cuts at a local
//! wall-clock time, hourly cuts at every full local hour, fixed intervals in
//! local time ([`calendar`]) and no schedule at all (size or manual cuts
//! only), and it is correct across daylight-saving transitions (23 h and
//! 25 h days, nonexistent and repeated local times). It never reads the clock and never does I/O: every function
//! is handed the instant it reasons about, so callers (and tests) control time.

use chrono::{
    DateTime, Days, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc, Weekday,
};

mod calendar;

pub use calendar::{parse_weekday, Cadence};

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
    /// On a calendar at local time `at`: weekly, monthly, yearly, or every
    /// fixed interval counted in local time from `1970-01-01 at` (so
    /// `every 6h` at 00:00 cuts at 00, 06, 12 and 18 local; see
    /// [`Cadence`]). A time that occurs twice or not at all is resolved as
    /// for [`Schedule::Daily`].
    Calendar { cadence: Cadence, at: NaiveTime },
    /// No schedule: only `max_size` and manual cuts (logrotate's `size`).
    Unscheduled,
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

/// What becomes of a due cut, given what the file holds ([`veto`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Veto {
    /// Cut it.
    None,
    /// Not now; the cut stays due and is taken at the first check that
    /// passes (logrotate's `minsize` and `notifempty`), under the label of
    /// the period it was due for.
    Pending,
    /// Not at all: the period ends without a cut.
    PeriodEnds,
}

/// Whether a due cut of a file holding `used` bytes (0 for one that holds
/// only holes or NULs) goes ahead. A scheduled cut waits for `min_size`;
/// an empty file is never cut: its scheduled cut stays pending when
/// `pending_when_empty` (rotate mode, as logrotate), and otherwise the
/// period just ends (mirror mode: a mirror's periods follow the clock).
pub fn veto(trigger: Trigger, used: u64, min_size: Option<u64>, pending_when_empty: bool) -> Veto {
    let scheduled = trigger == Trigger::Schedule;
    if used == 0 {
        return if scheduled && !pending_when_empty {
            Veto::PeriodEnds
        } else {
            Veto::Pending
        };
    }
    if scheduled && min_size.is_some_and(|m| used < m) {
        return Veto::Pending;
    }
    Veto::None
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
    pub fn parse(s: &str, at: NaiveTime, weekday: Weekday) -> Result<Schedule, String> {
        let text = s.trim();
        let calendar = |cadence| Ok(Schedule::Calendar { cadence, at });
        match text.to_ascii_lowercase().as_str() {
            "daily" => return Ok(Schedule::Daily { at }),
            "hourly" => return Ok(Schedule::Hourly),
            "weekly" => return calendar(Cadence::Weekly(weekday)),
            "monthly" => return calendar(Cadence::Monthly),
            "yearly" => return calendar(Cadence::Yearly),
            "none" => return Ok(Schedule::Unscheduled),
            _ => {}
        }
        let mut words = text.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(first), Some(interval), None) if first.eq_ignore_ascii_case("every") => {
                calendar(Cadence::Interval(parse_interval(interval)?))
            }
            (Some(first), None, None) if first.eq_ignore_ascii_case("every") => Err(format!(
                "schedule {text:?} is missing an interval; use \"every <n><unit>\" with unit s, m, h or d, e.g. \"every 10m\""
            )),
            _ => Err(format!(
                "unknown schedule {text:?}; use \"hourly\", \"daily\", \"weekly\", \"monthly\", \"yearly\", \"none\" or \"every <n><unit>\" with unit s, m, h or d, e.g. \"every 10m\""
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
            Schedule::Calendar { cadence, at } => calendar::next(cadence, tz, at, after),
            Schedule::Unscheduled => None,
        };
        // Only reachable at the very ends of chrono's representable range.
        found.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn period_start_in<Tz: TimeZone>(&self, tz: &Tz, t: DateTime<Utc>) -> DateTime<Utc> {
        let found = match *self {
            Schedule::Daily { at } => daily_start(tz, at, t),
            Schedule::Hourly => hourly_start(tz, t),
            Schedule::Calendar { cadence, at } => calendar::start(cadence, tz, at, t),
            // No periods: a cut closes what was written up to it.
            Schedule::Unscheduled => Some(t),
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
            Schedule::Calendar { cadence, .. } => cadence.labels_by_day(),
            Schedule::Unscheduled => true,
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
    resolve(tz, date.and_time(at))
}

/// The instant of local time `target` by the daily rule: the earlier of a
/// repeated time, the end of the gap for one that does not exist.
fn resolve<Tz: TimeZone>(tz: &Tz, target: NaiveDateTime) -> Option<DateTime<Utc>> {
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

#[cfg(test)]
mod tests;
