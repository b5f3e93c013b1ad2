//! The wall clock, with two seams for tests: `LOGWARDEN_FAKE_NOW` (RFC 3339)
//! sets what "now" is when the process starts; time then runs at the real
//! rate from there. This lets an end-to-end test start the real binary one
//! second before a (DST) midnight and watch the cut happen.
//! `LOGWARDEN_FAKE_STEP_FILE` names a file holding a signed number of
//! seconds, re-read on every call and added to the time: a test steps the
//! wall clock of a running daemon (40 days ahead, an hour back) by writing
//! to it, as a bad NTP server or an operator would, while boot time runs on.
//! Unset, it is the system clock, re-read on every call (never cached, so
//! steps are seen).

use chrono::{DateTime, Utc};

/// The environment variable that shifts the clock (testing only).
pub const FAKE_NOW_ENV: &str = "LOGWARDEN_FAKE_NOW";

/// The environment variable naming the live step file (testing only).
pub const FAKE_STEP_ENV: &str = "LOGWARDEN_FAKE_STEP_FILE";

static STEP_FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// A wall clock, possibly shifted by a constant and by a live step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset: chrono::Duration,
    /// Whether [`FAKE_STEP_ENV`] was set (its path is in `STEP_FILE`).
    stepped: bool,
}

impl Clock {
    /// The system clock, shifted if `LOGWARDEN_FAKE_NOW` is set.
    pub fn from_env() -> Result<Clock, String> {
        let stepped = match std::env::var_os(FAKE_STEP_ENV) {
            Some(p) => {
                let _ = STEP_FILE.set(p.into());
                true
            }
            None => false,
        };
        let offset = match std::env::var(FAKE_NOW_ENV) {
            Ok(s) => {
                let fake = DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| format!("{FAKE_NOW_ENV}={s:?} is not an RFC 3339 time: {e}"))?;
                fake.with_timezone(&Utc) - Utc::now()
            }
            Err(_) => chrono::Duration::zero(),
        };
        Ok(Clock { offset, stepped })
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + self.offset;
        if self.stepped {
            now + live_step()
        } else {
            now
        }
    }
}

/// The step the test wrote to the step file (zero if it is missing or not
/// a number of seconds).
fn live_step() -> chrono::Duration {
    STEP_FILE
        .get()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(chrono::Duration::try_seconds)
        .unwrap_or_default()
}

/// Seconds since boot, counting suspend (`CLOCK_BOOTTIME`): never steps.
pub fn boottime() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// How far the wall clock may run ahead of elapsed boot time before it is
/// treated as a step (NTP slews far less than this).
pub const STEP_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(600);
/// How long a forward step is distrusted before it is accepted as the new time.
pub const ACCEPT_STEP_AFTER: std::time::Duration = std::time::Duration::from_secs(86_400);

/// The time retention may age archives by. Pure: fed with wall and boot time.
///
/// A forward step of the wall clock (a bad NTP server, an operator typo)
/// must not let one sweep delete every archive at once. Across such a step
/// the trusted time keeps advancing with boot time only; the step is
/// accepted after [`ACCEPT_STEP_AFTER`] of boot time, so a real correction
/// still takes effect, a day late. A backward step is followed at once (it
/// only makes archives younger).
#[derive(Debug, Clone)]
pub struct TrustedTime {
    trusted: DateTime<Utc>,
    last_boot: std::time::Duration,
    /// Boot time at which the current forward step was first seen.
    step_seen: Option<std::time::Duration>,
}

/// What one observation concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The time to age archives by.
    pub now: DateTime<Utc>,
    /// Set on the first observation of a forward step: how far the wall clock jumped.
    pub new_step: Option<chrono::Duration>,
}

impl TrustedTime {
    pub fn new(wall: DateTime<Utc>, boot: std::time::Duration) -> TrustedTime {
        TrustedTime {
            trusted: wall,
            last_boot: boot,
            step_seen: None,
        }
    }

    pub fn observe(&mut self, wall: DateTime<Utc>, boot: std::time::Duration) -> Observed {
        let elapsed =
            chrono::Duration::from_std(boot.saturating_sub(self.last_boot)).unwrap_or_default();
        self.last_boot = boot;
        let expected = self.trusted + elapsed;
        let ahead = wall - expected;
        let tolerance = chrono::Duration::from_std(STEP_TOLERANCE).unwrap_or_default();
        if ahead <= tolerance {
            self.trusted = wall;
            self.step_seen = None;
            return Observed {
                now: wall,
                new_step: None,
            };
        }
        let new_step = match self.step_seen {
            None => {
                self.step_seen = Some(boot);
                Some(ahead)
            }
            Some(_) => None,
        };
        let accepted = self
            .step_seen
            .is_some_and(|seen| boot.saturating_sub(seen) >= ACCEPT_STEP_AFTER);
        if accepted {
            self.trusted = wall;
            self.step_seen = None;
        } else {
            self.trusted = expected;
        }
        Observed {
            now: self.trusted,
            new_step,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn follows_a_steady_clock_and_backward_steps() {
        let mut tt = TrustedTime::new(t("2026-11-21T00:00:00Z"), Duration::from_secs(100));
        let o = tt.observe(t("2026-11-21T01:00:00Z"), Duration::from_secs(3700));
        assert_eq!(
            o,
            Observed {
                now: t("2026-11-21T01:00:00Z"),
                new_step: None
            }
        );
        let o = tt.observe(t("2026-11-21T00:30:00Z"), Duration::from_secs(3710));
        assert_eq!(o.now, t("2026-11-21T00:30:00Z"));
    }

    #[test]
    fn a_forward_step_is_distrusted_for_a_day_of_boot_time() {
        let mut tt = TrustedTime::new(t("2026-11-21T00:00:00Z"), Duration::ZERO);
        // The clock jumps 40 days ahead one minute later.
        let o = tt.observe(t("2026-12-31T00:01:00Z"), Duration::from_secs(60));
        assert_eq!(o.now, t("2026-11-21T00:01:00Z"));
        assert!(o.new_step.is_some_and(|d| d.num_days() == 40));
        // Still distrusted (and reported once) an hour later.
        let o = tt.observe(t("2026-12-31T01:01:00Z"), Duration::from_secs(3660));
        assert_eq!(
            o,
            Observed {
                now: t("2026-11-21T01:01:00Z"),
                new_step: None
            }
        );
        // Accepted after a day.
        let o = tt.observe(t("2027-01-01T00:02:00Z"), Duration::from_secs(86_460));
        assert_eq!(o.now, t("2027-01-01T00:02:00Z"));
        // A suspend (boot time advances with the wall clock) is not a step.
        let o = tt.observe(
            t("2027-01-03T00:02:00Z"),
            Duration::from_secs(86_460 + 2 * 86_400),
        );
        assert_eq!(
            o,
            Observed {
                now: t("2027-01-03T00:02:00Z"),
                new_step: None
            }
        );
    }
}
