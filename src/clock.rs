//! The wall clock, with one seam for tests: `LOGWARDEN_FAKE_NOW` (RFC 3339)
//! sets what "now" is when the process starts; time then runs at the real
//! rate from there. This lets an end-to-end test start the real binary one
//! second before a (DST) midnight and watch the cut happen. Unset, it is the
//! system clock, re-read on every call (never cached, so steps are seen).

use chrono::{DateTime, Utc};

/// The environment variable that shifts the clock (testing only).
pub const FAKE_NOW_ENV: &str = "LOGWARDEN_FAKE_NOW";

/// A wall clock, possibly shifted by a constant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset: chrono::Duration,
}

impl Clock {
    /// The system clock, shifted if `LOGWARDEN_FAKE_NOW` is set.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var(FAKE_NOW_ENV) {
            Ok(s) => {
                let fake = DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| format!("{FAKE_NOW_ENV}={s:?} is not an RFC 3339 time: {e}"))?;
                Ok(Clock {
                    offset: fake.with_timezone(&Utc) - Utc::now(),
                })
            }
            Err(_) => Ok(Clock::default()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}
