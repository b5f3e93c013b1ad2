//! The rotation engine: the two passes that both the daemon and the one-shot
//! `logwarden rotate` run over every source.
//!
//! * [`Cutter::pass`] (`cut.rs` per source) decides which live files are due
//!   (`Schedule::due`: schedule, `max_size`, or forced), chooses each one's
//!   strategy from /proc facts, cuts it, journals the cut and saves the
//!   schedule anchors.
//! * [`housekeep`] (`house.rs`) finishes interrupted work, compresses rotated
//!   files whose writers have let go, and applies retention.
//!
//! Decisions come from the pure functions (`Schedule::due`, `rotate::choose`,
//! `rotate::renamed_finished`, `house::compress_candidates`, `retain::plan`,
//! `discover::classify`); this module sequences them and journals what they
//! did.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, Source};
use crate::journal::{self, Record, SharedJournal};
use crate::state::State;

mod cut;
mod house;
pub use cut::cut_facts;
pub use house::{housekeep, WriterWait};

/// Which files to cut regardless of their schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Force {
    None,
    All,
    Source(String),
}

impl Force {
    fn covers(&self, src: &Source) -> bool {
        match self {
            Force::None => false,
            Force::All => true,
            Force::Source(n) => *n == src.name,
        }
    }
}

/// What a pass did, for the caller (CLI output, next wake-up).
#[derive(Debug, Default)]
pub struct Report {
    pub cuts: usize,
    pub compressed: usize,
    pub deleted: usize,
    pub errors: usize,
    /// Human lines (used by `--dry-run` and the one-shot CLI).
    pub lines: Vec<String>,
    /// The earliest scheduled cut still ahead.
    pub next_due: Option<DateTime<Utc>>,
    /// Rotated files left uncompressed because a writer still holds them.
    pub waiting: usize,
}

impl Report {
    /// The next pass is wanted by `t` at the latest.
    pub fn wake_by(&mut self, t: DateTime<Utc>) {
        self.next_due = Some(self.next_due.map_or(t, |d| d.min(t)));
    }
}

/// Cuts due files; owns the schedule state.
pub struct Cutter {
    pub cfg: Arc<Config>,
    state: State,
    /// The state as last written, so unchanged state is not rewritten.
    saved: State,
    journal: SharedJournal,
    dry_run: bool,
    /// Problems already journaled, so a persistent one is reported once.
    reported: HashSet<String>,
    /// The mirror pipeline, when a source is in mirror mode (not in dry runs).
    pub pipeline: Option<crate::ingest::mirror::Pipeline>,
    /// Set while a pipeline rebuilt after a failed fsync could not be
    /// opened: when the last try was.
    rebuild_at: Option<std::time::Instant>,
}

impl Cutter {
    /// Live files being watched (every file the schedule tracks).
    pub fn watched(&self) -> usize {
        self.state.files.len()
    }

    /// Load the state (setting aside a corrupt file, with a journaled warning).
    pub fn new(cfg: Arc<Config>, jr: SharedJournal, dry_run: bool, now: DateTime<Utc>) -> Cutter {
        let (state, warning) = State::load(&cfg.state_dir);
        if let Some(w) = warning {
            journal::append(
                &jr,
                Record::failed(now, "state.recover", w).resource(&cfg.state_dir, None, None),
            );
        }
        let pipeline = if dry_run {
            None
        } else {
            crate::ingest::mirror::reopen(None, &cfg, Arc::clone(&jr), now)
        };
        Cutter {
            cfg,
            saved: state.clone(),
            state,
            journal: jr,
            dry_run,
            reported: HashSet::new(),
            pipeline,
            rebuild_at: None,
        }
    }

    /// Take a new config. The mirror pipeline is checkpointed and reopened
    /// from that checkpoint, so every position carries over.
    pub fn set_config(&mut self, cfg: Arc<Config>, now: DateTime<Utc>) {
        if !self.dry_run {
            self.pipeline = crate::ingest::mirror::reopen(
                self.pipeline.take(),
                &cfg,
                Arc::clone(&self.journal),
                now,
            );
        }
        self.cfg = cfg;
        self.reported.clear();
        self.rebuild_at = None;
    }

    /// If the mirror pipeline could not make its bytes durable, rebuild it
    /// from the last saved checkpoint (as a restart after a crash would),
    /// so no line is counted as shipped that may not be on disk.
    pub fn recover_failed_sync(&mut self, now: DateTime<Utc>) {
        if let Some(at) = self.rebuild_at {
            // The last rebuild failed (journaled by `reopen`): retry.
            if at.elapsed() >= std::time::Duration::from_secs(1) {
                self.rebuild(now);
            }
            return;
        }
        if !self.pipeline.as_ref().is_some_and(|p| p.sync_failed()) {
            return;
        }
        // Dropped without a save: its last checkpoint is the truth.
        self.pipeline = None;
        journal::append(
            &self.journal,
            Record::failed(
                now,
                "mirror.sync",
                "cannot make the mirrors durable (a mirror's fsync failed); reopened the pipeline from the last saved checkpoint: the lines since are read again",
            ),
        );
        self.rebuild(now);
    }

    fn rebuild(&mut self, now: DateTime<Utc>) {
        self.pipeline =
            crate::ingest::mirror::reopen(None, &self.cfg, Arc::clone(&self.journal), now);
        self.rebuild_at = (self.cfg.has_mirror_sources() && self.pipeline.is_none())
            .then(std::time::Instant::now);
    }

    /// The state dir was removed and re-created under us: save the state and
    /// the tail checkpoint again, whatever they were last saved as.
    pub fn state_lost(&mut self) {
        self.saved = State::default();
        if let Some(p) = self.pipeline.as_mut() {
            p.state_lost();
        }
    }

    /// Journal a persistent problem once (until it goes away or config reloads).
    fn once(&mut self, key: String, r: Record) {
        if self.reported.insert(key) {
            journal::append(&self.journal, r);
        }
    }

    /// One pass over all sources at `now`.
    pub fn pass(&mut self, now: DateTime<Utc>, force: &Force) -> Report {
        let mut report = Report::default();
        let mut live_keys = HashSet::new();
        let cfg = Arc::clone(&self.cfg);
        for src in &cfg.sources {
            self.source_pass(src, now, force, &mut report, &mut live_keys);
        }
        self.state.files.retain(|k, _| live_keys.contains(k));
        if self.state != self.saved && !self.dry_run {
            match self.state.save(&cfg.state_dir) {
                Ok(()) => self.saved = self.state.clone(),
                Err(e) => {
                    report.errors += 1;
                    self.once(
                        "state.save".into(),
                        Record::failed(now, "state.save", e).resource(&cfg.state_dir, None, None),
                    );
                }
            }
        }
        report
    }
}

/// What one round of the cutter does (see [`Cutter::round`]).
#[derive(Debug)]
pub struct Round<'a> {
    /// Look for new and replaced files first.
    pub discover: bool,
    /// Pump rounds before the pass (`None`: until nothing is left, and
    /// again after the pass).
    pub pump: Option<usize>,
    /// Run the cut pass, forcing these.
    pub pass: Option<&'a Force>,
    /// Finish renamed inputs now, not at most once per retry interval.
    pub finish_now: bool,
}

/// What a round did.
#[derive(Debug, Default)]
pub struct RoundDone {
    /// Lines pumped into the mirrors.
    pub lines: u64,
    /// The pass's report, if one ran.
    pub report: Option<Report>,
}

impl Cutter {
    /// The sequence both the daemon's cutter thread and the one-shot
    /// `logwarden rotate` run: discover → pump (a file is drained before any
    /// cut decision) → pass → pump (unbounded rounds only) → finish renamed
    /// inputs whose writers let go. `now` is read at each step.
    pub fn round(&mut self, now: impl Fn() -> DateTime<Utc>, r: Round<'_>) -> RoundDone {
        let mut done = RoundDone::default();
        if let Some(p) = self.pipeline.as_mut() {
            if r.discover {
                p.discover(now());
            }
            pump(p, now(), r.pump, &mut done);
        }
        done.report = r.pass.map(|force| self.pass(now(), force));
        if let Some(p) = self.pipeline.as_mut() {
            if r.pump.is_none() {
                pump(p, now(), None, &mut done);
            }
            if r.finish_now {
                p.finish_drained_now(now());
            } else {
                p.finish_drained(now());
            }
        }
        done
    }
}

/// Pump up to `rounds` times (`None`: until nothing is left).
fn pump(
    p: &mut crate::ingest::mirror::Pipeline,
    now: DateTime<Utc>,
    rounds: Option<usize>,
    done: &mut RoundDone,
) {
    let mut n = 0;
    loop {
        let pumped = p.pump(now);
        done.lines += pumped.lines;
        n += 1;
        if !pumped.more || rounds.is_some_and(|r| n >= r) {
            break;
        }
    }
}

/// One full cycle now, as `logwarden rotate` runs it without a daemon: the
/// cut pass (with `force`), then housekeeping. Returns both reports.
pub fn one_shot(
    cfg: &Config,
    jr: &SharedJournal,
    now: DateTime<Utc>,
    force: &Force,
    dry_run: bool,
) -> (Report, Report) {
    let mut cutter = Cutter::new(Arc::new(cfg.clone()), Arc::clone(jr), dry_run, now);
    // Everything written so far goes into the mirror, the cut, what came
    // meanwhile; renamed files whose writers already let go are finished
    // now, the rest keep draining when the daemon next runs.
    let done = cutter.round(
        || now,
        Round {
            discover: true,
            pump: None,
            pass: Some(force),
            finish_now: true,
        },
    );
    if let Some(p) = cutter.pipeline.as_mut() {
        p.shutdown(now);
    }
    let cuts = done.report.unwrap_or_default();
    // A one-shot run cannot wait for writer_grace; it polls briefly for a
    // writer to let go of a renamed file and leaves the rest to the daemon.
    let wait = if dry_run {
        WriterWait::Grace
    } else {
        WriterWait::Poll(Duration::from_secs(5))
    };
    let house = housekeep(cfg, jr, now, now, wait, dry_run, &AtomicBool::new(false));
    if !dry_run {
        journal::checkpoint_shared(jr, now, "rotate");
    }
    (cuts, house)
}

/// The state directory's journal path (for messages).
pub fn journal_path(cfg: &Config) -> PathBuf {
    cfg.state_dir.join(crate::journal::FILE_NAME)
}
