//! The cutter thread's timing, as pure state fed with what happened and the
//! time (monotonic `Instant`s, injected): when to discover new names, when
//! to run a cut pass, when to publish, and when to wake at the latest. The
//! thread does the I/O; this decides, and its tests run in microseconds.

use std::time::{Duration, Instant};

/// The longest the cutter sleeps without re-reading the wall clock.
pub const MAX_SLEEP: Duration = Duration::from_secs(30);
/// At most one discovery of new names per this long while names keep
/// changing (the first is at once).
pub const NAMES_COALESCE: Duration = Duration::from_millis(50);
/// How often the cutter publishes `status.json` and the metrics textfile
/// while something happens (lines read, jobs, cuts).
pub const PUBLISH_INTERVAL: Duration = Duration::from_secs(2);
/// How often it publishes when nothing happens: publishing stats every
/// mirrored file and rewrites `status.json` (a megabyte at 10,000 files),
/// so an idle daemon does it rarely (and uses no CPU in between).
pub const IDLE_PUBLISH_INTERVAL: Duration = Duration::from_secs(60);
/// While data flows into a source with `max_size`, a cut pass (which stats
/// every live file) runs at most this often.
pub const SIZE_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// A pass is planned this long after the next scheduled cut, so the wall
/// clock has surely reached it when the pass reads it.
const CUT_SLACK: Duration = Duration::from_millis(5);

/// What the cutter was told between two rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// Nothing: the wait timed out.
    Nothing,
    /// A cut pass is asked for (a signal, `rotate`, a reload, a lost state dir).
    Pass,
    /// A watched file grew; `sized`: some source has `max_size`.
    Data { sized: bool },
}

/// The cutter's timing state. See the module docs.
#[derive(Debug)]
pub struct Timing {
    pass_due: bool,
    next_cut: Option<Instant>,
    last_pass: Instant,
    /// When it last published.
    published: Option<Instant>,
    /// Whether anything happened since the last publish.
    activity: bool,
    discovered: Option<Instant>,
    names_pending: bool,
}

impl Timing {
    /// At start: a pass and a discovery at once, a publish at once.
    pub fn new(now: Instant) -> Timing {
        Timing {
            pass_due: true,
            next_cut: None,
            last_pass: now,
            published: None,
            activity: true,
            discovered: None,
            names_pending: false,
        }
    }

    /// New names appeared in a watched directory.
    pub fn names(&mut self) {
        self.names_pending = true;
    }

    /// Whether to discover inputs now: with every pass, and for new names at
    /// once unless one ran less than [`NAMES_COALESCE`] ago. A yes counts as
    /// done.
    pub fn discover(&mut self, now: Instant) -> bool {
        let names_now = self.names_pending
            && self
                .discovered
                .is_none_or(|t| now.saturating_duration_since(t) >= NAMES_COALESCE);
        if !(self.pass_due || names_now) {
            return false;
        }
        self.discovered = Some(now);
        self.names_pending = false;
        true
    }

    /// The pump read `lines` lines.
    pub fn pumped(&mut self, lines: u64) {
        self.activity |= lines > 0;
    }

    /// Whether to run a cut pass now.
    pub fn pass(&self, now: Instant) -> bool {
        self.pass_due || self.next_cut.is_some_and(|t| t <= now)
    }

    /// A pass ran at `now`; the next scheduled cut is `until_due` away
    /// (`None`: no file has one). `cut`: it cut something.
    pub fn passed(&mut self, now: Instant, until_due: Option<Duration>, cut: bool) {
        let sleep = until_due
            .map_or(MAX_SLEEP, |d| d + CUT_SLACK)
            .min(MAX_SLEEP);
        self.next_cut = Some(now + sleep);
        self.pass_due = false;
        self.last_pass = now;
        self.activity |= cut;
    }

    /// Whether to publish now: every [`PUBLISH_INTERVAL`] while something
    /// happens, every [`IDLE_PUBLISH_INTERVAL`] otherwise. A yes counts as
    /// done.
    pub fn publish(&mut self, now: Instant) -> bool {
        let due = self
            .published
            .is_none_or(|t| now.saturating_duration_since(t) >= self.publish_every());
        if due {
            self.published = Some(now);
            self.activity = false;
        }
        due
    }

    fn publish_every(&self) -> Duration {
        if self.activity {
            PUBLISH_INTERVAL
        } else {
            IDLE_PUBLISH_INTERVAL
        }
    }

    /// When to wake at the latest: the next planned pass, a coalesced
    /// discovery, the pipeline's own wake-up (`pipeline`), the next publish.
    pub fn wake(&self, now: Instant, pipeline: Option<Instant>) -> Instant {
        let mut wake = self.next_cut.unwrap_or(now + MAX_SLEEP);
        if let (true, Some(t)) = (self.names_pending, self.discovered) {
            wake = wake.min(t + NAMES_COALESCE);
        }
        if let Some(w) = pipeline {
            wake = wake.min(w);
        }
        // Activity after this point goes through the loop again, which
        // asks anew: the interval in force now is the one to wait for.
        if let Some(t) = self.published {
            wake = wake.min(t + self.publish_every());
        }
        wake
    }

    /// What the wait brought.
    pub fn told(&mut self, now: Instant, told: Told) {
        match told {
            Told::Nothing => {}
            Told::Pass => {
                self.activity = true;
                self.pass_due = true;
            }
            Told::Data { sized } => {
                self.activity = true;
                // A write can push a file past max_size.
                if sized && now.saturating_duration_since(self.last_pass) >= SIZE_CHECK_INTERVAL {
                    self.pass_due = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn starts_with_a_pass_a_discovery_and_a_publish() {
        let t0 = Instant::now();
        let mut t = Timing::new(t0);
        assert!(t.pass(t0));
        assert!(t.discover(t0));
        assert!(t.publish(t0));
        assert!(!t.publish(t0));
    }

    #[test]
    fn passes_follow_the_schedule_capped_at_max_sleep() {
        let t0 = Instant::now();
        // (time to the next scheduled cut, when the next pass is due)
        let cases = [
            (
                Some(Duration::from_secs(10)),
                Duration::from_secs(10) + CUT_SLACK,
            ),
            (Some(Duration::ZERO), CUT_SLACK),
            (Some(Duration::from_secs(3600)), MAX_SLEEP),
            (None, MAX_SLEEP),
        ];
        for (until, due) in cases {
            let mut t = Timing::new(t0);
            t.passed(t0, until, false);
            assert!(!t.pass(t0 + due - ms(1)), "{until:?}");
            assert!(t.pass(t0 + due), "{until:?}");
            assert_eq!(t.wake(t0, None).min(t0 + due), t0 + due, "{until:?}");
        }
    }

    #[test]
    fn new_names_are_discovered_at_once_then_coalesced() {
        let t0 = Instant::now();
        let mut t = Timing::new(t0);
        t.discover(t0);
        t.passed(t0, None, false);
        // Long after the last discovery: at once.
        let t1 = t0 + Duration::from_secs(1);
        t.names();
        assert!(t.discover(t1));
        assert!(!t.discover(t1), "nothing pending any more");
        // A burst: the next waits for the coalescing window, and the wake-up
        // says when.
        t.names();
        assert!(!t.discover(t1 + ms(10)));
        assert_eq!(t.wake(t1 + ms(10), None), t1 + NAMES_COALESCE);
        assert!(t.discover(t1 + NAMES_COALESCE));
    }

    #[test]
    fn data_asks_for_a_size_check_at_most_every_interval() {
        let t0 = Instant::now();
        // (a source has max_size, time since the last pass, pass due)
        let cases = [
            (false, Duration::from_secs(10), false),
            (true, ms(100), false),
            (true, SIZE_CHECK_INTERVAL - ms(1), false),
            (true, SIZE_CHECK_INTERVAL, true),
        ];
        for (sized, since, due) in cases {
            let mut t = Timing::new(t0);
            t.passed(t0, Some(Duration::from_secs(3600)), false);
            t.told(t0 + since, Told::Data { sized });
            assert_eq!(t.pass(t0 + since), due, "sized {sized} since {since:?}");
        }
        let mut t = Timing::new(t0);
        t.passed(t0, None, false);
        t.told(t0 + ms(1), Told::Pass);
        assert!(t.pass(t0 + ms(1)));
    }

    #[test]
    fn publishes_often_while_busy_and_rarely_when_idle() {
        let t0 = Instant::now();
        let mut t = Timing::new(t0);
        t.passed(t0, None, false);
        assert!(t.publish(t0));
        // Idle since: the next one is an idle interval later.
        assert!(!t.publish(t0 + PUBLISH_INTERVAL));
        assert_eq!(t.wake(t0, None), t0 + IDLE_PUBLISH_INTERVAL.min(MAX_SLEEP));
        assert!(t.publish(t0 + IDLE_PUBLISH_INTERVAL));
        // Lines read: the busy interval applies.
        let t1 = t0 + IDLE_PUBLISH_INTERVAL;
        t.pumped(3);
        assert!(!t.publish(t1 + PUBLISH_INTERVAL - ms(1)));
        assert!(t.publish(t1 + PUBLISH_INTERVAL));
        // A pass that cut something counts as activity; one that did not,
        // and an empty pump, do not.
        let t2 = t1 + PUBLISH_INTERVAL;
        t.pumped(0);
        t.passed(t2, None, false);
        assert!(!t.publish(t2 + PUBLISH_INTERVAL));
        t.passed(t2, None, true);
        assert!(t.publish(t2 + PUBLISH_INTERVAL));
    }

    #[test]
    fn the_pipeline_can_wake_it_earlier() {
        let t0 = Instant::now();
        let mut t = Timing::new(t0);
        t.passed(t0, None, false);
        t.publish(t0);
        assert_eq!(t.wake(t0, Some(t0 + ms(250))), t0 + ms(250));
        assert_eq!(
            t.wake(t0, Some(t0 + Duration::from_secs(90))),
            t0 + MAX_SLEEP
        );
    }
}
