//! The rotation engine: the two passes that both the daemon and the one-shot
//! `logwarden rotate` run over every source.
//!
//! * [`Cutter::pass`] decides which live files are due (schedule, `max_size`,
//!   or forced), chooses each one's strategy from /proc facts, cuts it, journals
//!   the cut and saves the schedule anchors.
//! * [`housekeep`] finishes interrupted work, compresses rotated files whose
//!   writers have let go, and applies retention.
//!
//! Decisions come from the pure modules (`schedule`, `rotate::choose`,
//! `retain::plan`, `discover::classify`); this module sequences them and is
//! the only place that journals what they did.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::archive::{self, Archive};
use crate::config::{Config, Source};
use crate::discover::{self, DirProblem};
use crate::holders::Holders;
use crate::journal::{self, Record, SharedJournal};
use crate::reopen::{Check, Verdict};
use crate::retain;
use crate::rotate::{self, CutSpec, Facts};
use crate::safe_dir::SafeDir;
use crate::state::{self, FileState, State};

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
    pub pipeline: Option<crate::mirror::Pipeline>,
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
            crate::mirror::reopen(None, &cfg, Arc::clone(&jr), now)
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
            self.pipeline =
                crate::mirror::reopen(self.pipeline.take(), &cfg, Arc::clone(&self.journal), now);
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
        self.pipeline = crate::mirror::reopen(None, &self.cfg, Arc::clone(&self.journal), now);
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

    fn source_pass(
        &mut self,
        src: &Source,
        now: DateTime<Utc>,
        force: &Force,
        report: &mut Report,
        live_keys: &mut HashSet<String>,
    ) {
        let dir = match discover::open(src) {
            Ok(d) => d,
            Err(DirProblem::Missing(p)) => {
                tracing::debug!("source {}: {p} does not exist yet", src.name);
                // Keep the anchors of a directory that is briefly gone.
                let prefix = format!("{}/", src.name);
                live_keys.extend(
                    self.state
                        .files
                        .keys()
                        .filter(|k| k.starts_with(&prefix))
                        .cloned(),
                );
                return;
            }
            Err(e) => {
                report.errors += 1;
                report.lines.push(format!("source {}: {e}", src.name));
                self.once(
                    format!("dir:{}", src.name),
                    Record::failed(now, "error", &e)
                        .source(&src.name)
                        .resource(&src.dir, None, None),
                );
                return;
            }
        };
        let found = match discover::scan(&dir, src) {
            Ok(f) => f,
            Err(e) => {
                report.errors += 1;
                self.once(
                    format!("scan:{}", src.name),
                    Record::failed(now, "error", format!("cannot list: {e}"))
                        .source(&src.name)
                        .resource(&src.dir, None, None),
                );
                return;
            }
        };
        if !self.dry_run {
            for (tmp, r) in rotate::recover(&dir, &found.names) {
                let rec = match r {
                    Ok(Some(a)) => Record::ok(now, "recover")
                        .old(&tmp)
                        .new_value(a.plain_name()),
                    Ok(None) => Record::ok(now, "recover")
                        .old(&tmp)
                        .new_value("discarded: the live file was never truncated"),
                    Err(e) => Record::failed(now, "recover", e).old(&tmp),
                };
                journal::append(
                    &self.journal,
                    rec.source(&src.name).resource(&dir.join(&tmp), None, None),
                );
            }
        }
        for (name, why) in &found.skipped {
            let path = dir.join(name);
            self.once(
                format!("skip:{}", path.display()),
                Record::ok(now, "skip")
                    .source(&src.name)
                    .resource(&path, None, None)
                    .new_value(format!("left alone: it {why}")),
            );
        }
        let p = &src.policy;
        let mut due = Vec::new();
        for (name, meta) in &found.live {
            let key = state::key(&src.name, name);
            live_keys.insert(key.clone());
            let entry = self.state.files.entry(key).or_insert(FileState {
                anchor: now,
                last_cut: None,
                last_strategy: None,
                last_reason: None,
            });
            let scheduled = p.schedule.next_cut(p.zone, entry.anchor);
            let by_schedule = scheduled <= now;
            let by_size = p.max_size.is_some_and(|m| meta.used() > m);
            let forced = force.covers(src);
            if !(by_schedule || by_size || forced) {
                report.next_due = Some(report.next_due.map_or(scheduled, |d| d.min(scheduled)));
                continue;
            }
            if meta.used() == 0 || holds_nothing(&dir, name) {
                // Nothing to cut; the period still ends.
                if by_schedule && !self.dry_run {
                    entry.anchor = now;
                }
                continue;
            }
            let (label, trigger) = if by_schedule {
                (p.schedule.label(p.zone, scheduled), "schedule")
            } else if forced {
                (p.schedule.label(p.zone, now), "manual")
            } else {
                (p.schedule.label(p.zone, now), "max_size")
            };
            due.push((name.clone(), *meta, label, trigger));
        }
        if due.is_empty() {
            return;
        }
        let inodes: HashSet<_> = due.iter().map(|(_, m, _, _)| (m.dev, m.ino)).collect();
        let holders = Holders::scan(&inodes);
        for (name, meta, label, trigger) in due {
            let path = dir.join(&name);
            let (facts, check) = cut_facts(src, &holders, &path, &meta);
            let choice = rotate::choose(p.strategy, &facts);
            if self.dry_run {
                let a = rotate::archive_name(&dir, &name, &label);
                report.lines.push(format!(
                    "would cut {} -> {} ({}: {}; trigger {trigger})",
                    path.display(),
                    a.plain_name(),
                    choice.strategy.as_str(),
                    choice.reason
                ));
                report.cuts += 1;
                continue;
            }
            // A hook the cut relies on but cannot use is a failure of its own.
            let refused = hook_refused(check.as_ref(), &facts, &choice);
            if let Some(why) = &refused {
                let r = Record::failed(now, "reopen", why).source(&src.name);
                journal::append(
                    &self.journal,
                    r.resource(&path, Some(meta.ino), Some(meta.size)),
                );
            }
            let spec = CutSpec {
                label: &label,
                choice,
                may_fall_back: p.strategy == crate::config::StrategyCfg::Auto,
                create: p.create,
                reopen: check.as_ref().filter(|_| refused.is_none()),
            };
            let key = state::key(&src.name, &name);
            // Mirror mode drains into the mirror before it cuts, and cuts the
            // mirror too; rotate mode archives the raw file.
            let done = if src.policy.mode == crate::config::Mode::Mirror {
                let Some(pl) = self.pipeline.as_mut().filter(|p| p.has(&src.name)) else {
                    continue;
                };
                pl.cut(src, &name, &meta, spec, now).map(|cut| {
                    let mirror_to = cut
                        .mirror
                        .as_ref()
                        .map(|m| m.display().to_string())
                        .unwrap_or_else(|| "(mirror empty, not cut)".into());
                    let raw_to = match &cut.raw {
                        Some(a) if cut.strategy == rotate::Strategy::Rename => format!(
                            "{} (drained into the mirror, then discarded unless raw_max_age keeps it)",
                            dir.join(&a.plain_name()).display()
                        ),
                        Some(a) => format!(
                            "{} (kept for raw_max_age)",
                            dir.join(&a.plain_name()).display()
                        ),
                        None => "truncated after it was drained into the mirror".to_string(),
                    };
                    Done {
                        line: format!(
                            "cut {} ({}: {}); mirror -> {mirror_to}",
                            path.display(),
                            cut.strategy.as_str(),
                            cut.reason
                        ),
                        to: raw_to,
                        strategy: cut.strategy,
                        reason: cut.reason,
                        bytes: cut.bytes,
                        reopen: cut.reopen,
                    }
                })
            } else {
                rotate::cut(&dir, &name, &meta, spec).map(|cut| Done {
                    line: format!(
                        "cut {} -> {} ({}: {})",
                        path.display(),
                        cut.archive.plain_name(),
                        cut.strategy.as_str(),
                        cut.reason
                    ),
                    to: dir.join(&cut.archive.plain_name()).display().to_string(),
                    strategy: cut.strategy,
                    reason: cut.reason,
                    bytes: cut.bytes,
                    reopen: cut.reopen,
                })
            };
            match done {
                Ok(mut cut) => {
                    self.hook_outcome(src, &path, &meta, &mut cut, refused.as_deref(), now);
                    report.cuts += 1;
                    report.lines.push(cut.line);
                    crate::metrics::global()
                        .rotations
                        .with_label_values(&[&src.name, cut.strategy.as_str()])
                        .inc();
                    journal::append(
                        &self.journal,
                        Record::ok(now, "rotate")
                            .source(&src.name)
                            .resource(&path, Some(meta.ino), Some(cut.bytes))
                            .old(path.display())
                            .new_value(cut.to)
                            .strategy(
                                cut.strategy.as_str(),
                                &format!("{}; trigger {trigger}", cut.reason),
                            ),
                    );
                    if let Some(entry) = self.state.files.get_mut(&key) {
                        entry.anchor = now;
                        entry.last_cut = Some(now);
                        entry.last_strategy = Some(cut.strategy.as_str().to_string());
                        entry.last_reason = Some(cut.reason);
                    }
                    let next = p.schedule.next_cut(p.zone, now);
                    report.next_due = Some(report.next_due.map_or(next, |d| d.min(next)));
                }
                Err(e) => {
                    report.errors += 1;
                    report
                        .lines
                        .push(format!("cannot cut {}: {e}", path.display()));
                    journal::append(
                        &self.journal,
                        Record::failed(now, "rotate", &e)
                            .source(&src.name)
                            .resource(&path, Some(meta.ino), Some(meta.size)),
                    );
                }
            }
        }
    }
}

/// How much data [`holds_nothing`] reads at most.
const NUL_CHECK_LIMIT: u64 = 64 << 10;

/// Whether a live file holds only holes and NULs (what a copy-truncate
/// whose collapse left the last partial block leaves behind): empty for the
/// cut decision.
fn holds_nothing(dir: &SafeDir, name: &str) -> bool {
    dir.open_read(name)
        .and_then(|f| crate::sparse::only_nuls(&f, NUL_CHECK_LIMIT))
        .unwrap_or(false)
}

impl Cutter {
    /// What the reopen hook did at a cut, into its reason: journaled as a
    /// failed `reopen` record if it failed; a cut without a hook problem
    /// clears the source's last reopen error.
    fn hook_outcome(
        &self,
        src: &Source,
        path: &std::path::Path,
        meta: &crate::safe_dir::Meta,
        cut: &mut Done,
        refused: Option<&str>,
        now: DateTime<Utc>,
    ) {
        match cut.reopen.take() {
            Some(Ok(what)) => cut.reason = format!("{}; {what}", cut.reason),
            Some(Err(e)) => {
                cut.reason = format!("{}; {e}", cut.reason);
                journal::append(
                    &self.journal,
                    Record::failed(now, "reopen", &e)
                        .source(&src.name)
                        .resource(path, Some(meta.ino), Some(meta.size)),
                );
            }
            None => {}
        }
        if let (Some(why), rotate::Strategy::Rename) = (refused, cut.strategy) {
            cut.reason = format!("{}; not fired: {why}", cut.reason);
        }
        if !crate::reopen::is_hook_problem(&cut.reason) {
            crate::metrics::global().clear_error(&src.name, "reopen");
        }
    }
}

/// A finished cut, either mode, as the pass reports and journals it.
struct Done {
    line: String,
    to: String,
    strategy: rotate::Strategy,
    reason: String,
    bytes: u64,
    reopen: Option<Result<String, String>>,
}

/// The facts a file's strategy is chosen on, with its reopen hook checked
/// against its writers (not for `strategy = "copytruncate"`, which never
/// fires one).
pub fn cut_facts(
    src: &Source,
    holders: &Holders,
    path: &std::path::Path,
    meta: &crate::safe_dir::Meta,
) -> (Facts, Option<Check>) {
    let writers = holders.writers_of(meta.dev, meta.ino).to_vec();
    let check = src
        .reopen
        .as_ref()
        .filter(|_| src.policy.strategy != crate::config::StrategyCfg::CopyTruncate)
        .map(|h| Check::gather(h, path, &writers));
    let facts = Facts {
        locks: holders.locks_on(meta.dev, meta.ino).to_vec(),
        hook: check.as_ref().map(|c| c.verdict.clone()),
        writers,
    };
    (facts, check)
}

/// Why a cut relied on its reopen hook but cannot use it: the hook would
/// have been fired after a rename (or `auto` would have renamed on its
/// word), and its check failed. `None` when the hook is usable or not needed.
fn hook_refused(check: Option<&Check>, facts: &Facts, choice: &rotate::Choice) -> Option<String> {
    let Verdict::Unusable(why) = &check?.verdict else {
        return None;
    };
    let relied = match choice.strategy {
        rotate::Strategy::Rename => {
            !facts.writers.is_empty()
                || matches!(check?.facts, crate::reopen::Facts::Command { .. })
        }
        rotate::Strategy::CopyTruncate => choice.reason.contains(why.as_str()),
    };
    relied.then(|| why.clone())
}

/// How the housekeeping pass treats rotated files a writer still holds.
#[derive(Debug, Clone, Copy)]
pub enum WriterWait {
    /// Daemon: leave them for a later pass until `writer_grace` has passed.
    Grace,
    /// One-shot CLI: poll for up to this long, then leave them.
    Poll(Duration),
}

/// Finish interrupted work, compress what is ready, apply retention.
/// `retention_now` is the time archives are aged by (see `clock::TrustedTime`).
pub fn housekeep(
    cfg: &Config,
    jr: &SharedJournal,
    now: DateTime<Utc>,
    retention_now: DateTime<Utc>,
    wait: WriterWait,
    dry_run: bool,
    stop: &AtomicBool,
) -> Report {
    let mut report = Report::default();
    let h = House {
        jr,
        now,
        retention_now,
        wait,
        dry_run,
        stop,
    };
    // Inodes the tail checkpoint still needs are left alone (read once a pass).
    let mut pinned: Option<HashSet<(u64, u64)>> = None;
    for src in &cfg.sources {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(dir) = discover::open(src) else {
            continue;
        };
        if !dry_run {
            let where_ = match src.policy.mode {
                crate::config::Mode::Rotate => src.dir.clone(),
                crate::config::Mode::Mirror => crate::mirror::output_dir(cfg, src),
            };
            crate::metrics::global()
                .archive_bytes
                .with_label_values(&[&src.name])
                .set(archive::inventory(&where_, |b| src.matches(b)).bytes as i64);
        }
        match src.policy.mode {
            crate::config::Mode::Rotate => house_source(
                src,
                &dir,
                &src.policy,
                &HashSet::new(),
                None,
                &h,
                &mut report,
            ),
            crate::config::Mode::Mirror => {
                let pinned = pinned.get_or_insert_with(|| crate::mirror::pinned(&cfg.state_dir));
                if let Ok(out) = SafeDir::open(&crate::mirror::output_dir(cfg, src)) {
                    let ship = ship_grace(&src.policy, now);
                    house_source(src, &out, &src.policy, pinned, Some(ship), &h, &mut report);
                }
                // Raw files are discarded once drained, unless raw_max_age keeps them.
                if let Some(age) = src.raw_max_age {
                    let mut raw = src.policy.clone();
                    raw.max_age = Some(age);
                    raw.max_archives = None;
                    raw.max_total_size = None;
                    house_source(src, &dir, &raw, pinned, None, &h, &mut report);
                }
            }
        }
    }
    if !stop.load(Ordering::Relaxed) {
        // The journal's own archives: compressed, and aged out oldest first.
        // The journal is shipped beside the mirrors: its closed files wait
        // as long as the longest ship grace of a mirror source.
        let ship = cfg
            .sources
            .iter()
            .filter(|s| s.policy.mode == crate::config::Mode::Mirror)
            .map(|s| ship_grace(&s.policy, now))
            .max()
            .unwrap_or_default();
        let done = crate::journal::retain::housekeep(
            &cfg.state_dir,
            cfg.journal_max_age,
            ship,
            retention_now.min(now),
            dry_run,
            &mut |r| journal::append(jr, r),
            &mut |seq, hash| match jr.lock() {
                Ok(mut g) => g.set_base(seq, hash),
                Err(p) => p.into_inner().set_base(seq, hash),
            },
        );
        report.compressed += done.compressed as usize;
        report.deleted += done.deleted as usize;
        report.lines.extend(done.lines);
    }
    report
}

/// How long a cut mirror stays uncompressed for the shipper: `ship_grace`,
/// or one period of the source's schedule (the one that contains `now`).
pub fn ship_grace(p: &crate::config::Policy, now: DateTime<Utc>) -> Duration {
    p.ship_grace.unwrap_or_else(|| {
        let start = p.schedule.period_start(p.zone, now);
        (p.schedule.next_cut(p.zone, now) - start)
            .to_std()
            .unwrap_or_default()
    })
}

/// What every housekeeping step of one pass shares.
struct House<'a> {
    jr: &'a SharedJournal,
    now: DateTime<Utc>,
    retention_now: DateTime<Utc>,
    wait: WriterWait,
    dry_run: bool,
    stop: &'a AtomicBool,
}

/// The archives of a source's live files in `names`, grouped by live file.
fn archives_by_base(src: &Source, names: &[String]) -> BTreeMap<String, Vec<Archive>> {
    let mut by_base: BTreeMap<String, Vec<Archive>> = BTreeMap::new();
    for n in names {
        if let Some(a) = archive::parse_any(n) {
            if src.matches(&a.base) {
                by_base.entry(a.base.clone()).or_default().push(a);
            }
        }
    }
    for v in by_base.values_mut() {
        v.sort_by(|a, b| a.cut_order(b));
    }
    by_base
}

/// `ship`: the ship grace when `dir` holds a source's mirrors.
fn house_source(
    src: &Source,
    dir: &SafeDir,
    p: &crate::config::Policy,
    pinned: &HashSet<(u64, u64)>,
    ship: Option<Duration>,
    h: &House<'_>,
    report: &mut Report,
) {
    let House {
        jr,
        now,
        retention_now,
        wait,
        dry_run,
        stop,
    } = *h;
    if dir.append_only() {
        // Nothing can be renamed or removed here: compressing would leave the
        // original behind, and retention could delete nothing.
        report.lines.push(format!(
            "{} is append-only (chattr +a): archives stay uncompressed and retention cannot delete",
            dir.path().display()
        ));
        return;
    }
    let list = |report: &mut Report| match dir.list() {
        Ok(mut n) => {
            n.sort();
            Some(n)
        }
        Err(e) => {
            report.errors += 1;
            tracing::warn!("cannot list {}: {e}", dir.path().display());
            None
        }
    };
    let Some(names) = list(report) else { return };
    if !dry_run {
        for r in crate::compress::recover(dir, &names) {
            let rec = match r {
                Ok(crate::compress::Recovered::RemovedTemp(n)) => Record::ok(now, "recover")
                    .resource(dir.path(), None, None)
                    .old(&n)
                    .new_value("removed an unfinished compression; it is redone"),
                Ok(crate::compress::Recovered::RemovedOriginal(n, f)) => {
                    // The compression's own record, which the crash prevented.
                    let mut r = Record::ok(now, "compress")
                        .resource(&dir.join(&n), Some(f.ino), Some(f.size))
                        .old(dir.join(&n).display())
                        .new_value(dir.join(&f.gz_name).display())
                        .hashes(Some(f.content_sha256), Some(f.file_sha256));
                    r.reason =
                        Some("finished at start: the crash came after the .gz was complete".into());
                    r
                }
                Err(e) => Record::failed(now, "recover", e).resource(dir.path(), None, None),
            };
            journal::append(jr, rec.source(&src.name));
        }
    }

    // Compression.
    if p.compress {
        let names = if dry_run {
            names.clone()
        } else {
            list(report).unwrap_or_default()
        };
        let mut candidates: Vec<Archive> = Vec::new();
        for archives in archives_by_base(src, &names).values() {
            let plain: Vec<&Archive> = archives.iter().filter(|a| !a.gz).collect();
            let skip_newest = usize::from(p.delay_compress);
            let take = plain.len().saturating_sub(skip_newest);
            candidates.extend(plain.into_iter().take(take).cloned());
        }
        let mut metas = HashMap::new();
        for a in &candidates {
            if let Ok(m) = dir.stat(&a.plain_name()) {
                // Only regular files, as for retention below: a symlink, FIFO
                // or directory that merely carries an archive's name is not
                // ours to open, and trying failed on every pass.
                if m.kind() != crate::safe_dir::Kind::Regular || pinned.contains(&(m.dev, m.ino)) {
                    continue;
                }
                // A cut mirror stays readable for the shipper (ship_grace).
                if let Some(grace) = ship.filter(|g| rotate::since(m.ctime) < *g) {
                    report.waiting += 1;
                    report.lines.push(format!(
                        "{} waits for the shipper (ship_grace {}); compressing it later",
                        dir.join(&a.plain_name()).display(),
                        humantime::format_duration(grace)
                    ));
                    continue;
                }
                metas.insert(a.plain_name(), m);
            }
        }
        let deadline = match wait {
            WriterWait::Poll(d) => Some(std::time::Instant::now() + d),
            WriterWait::Grace => None,
        };
        let mut holders = scan_holders(&metas);
        for a in candidates {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let plain = a.plain_name();
            let Some(meta) = metas.get(&plain).copied() else {
                continue;
            };
            let path = dir.join(&plain);
            let mut held = !holders.writers_of(meta.dev, meta.ino).is_empty();
            if let (true, Some(deadline)) = (held, deadline) {
                while held && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                    holders = scan_holders(&metas);
                    held = !holders.writers_of(meta.dev, meta.ino).is_empty();
                }
            }
            // The one writer_grace rule (a one-shot run cannot wait for it).
            let finish = match wait {
                WriterWait::Grace => {
                    rotate::renamed_finished(held, rotate::idle_for(&meta), p.writer_grace)
                }
                WriterWait::Poll(_) => (!held).then_some(rotate::Finish::Closed),
            };
            let Some(finish) = finish else {
                report.waiting += 1;
                report.lines.push(format!(
                    "{} is still held open by a writer; compressing it later",
                    path.display()
                ));
                continue;
            };
            let mut note = None;
            if finish == rotate::Finish::Idle {
                note = Some(format!(
                    "not written to for writer_grace ({}) though still held open by {}; anything written to it from now on is lost — {}",
                    humantime::format_duration(p.writer_grace),
                    crate::reopen::describe(holders.writers_of(meta.dev, meta.ino)),
                    if src.reopen.is_some() {
                        "the reopen hook did not make it reopen: check the hook's signal and pidfile, or set strategy = \"copytruncate\""
                    } else {
                        "configure reopen, or strategy = \"copytruncate\""
                    }
                ));
            }
            if dry_run {
                report.lines.push(format!(
                    "would compress {} -> {}",
                    path.display(),
                    a.gz_name()
                ));
                report.compressed += 1;
                continue;
            }
            let started = std::time::Instant::now();
            let mut journal_first = |c: &crate::compress::Compressed| {
                let mut r = Record::ok(now, "compress")
                    .source(&src.name)
                    .resource(&path, Some(meta.ino), Some(c.in_bytes))
                    .old(path.display())
                    .new_value(dir.join(&c.gz_name).display())
                    .hashes(Some(c.content_sha256.clone()), Some(c.file_sha256.clone()));
                if let Some(n) = note.take() {
                    r.reason = Some(n);
                }
                journal::append(jr, r);
            };
            match crate::compress::compress(dir, &a, &mut journal_first) {
                Ok(c) => {
                    report.compressed += 1;
                    let m = crate::metrics::global();
                    m.compressions.with_label_values(&[&src.name]).inc();
                    m.compress_seconds
                        .with_label_values(&[&src.name])
                        .inc_by(started.elapsed().as_secs_f64());
                    report
                        .lines
                        .push(format!("compressed {} -> {}", path.display(), c.gz_name));
                }
                Err(e) => {
                    report.errors += 1;
                    report
                        .lines
                        .push(format!("cannot compress {}: {e}", path.display()));
                    journal::append(
                        jr,
                        Record::failed(now, "compress", e)
                            .source(&src.name)
                            .resource(&path, Some(meta.ino), Some(meta.size)),
                    );
                }
            }
        }
    }

    // Retention.
    let limits = retain::Limits {
        max_age: p.max_age,
        max_archives: p.max_archives,
        max_total_size: p.max_total_size,
    };
    let names = if dry_run {
        names
    } else {
        list(report).unwrap_or_default()
    };
    for archives in archives_by_base(src, &names).values() {
        let mut metas = HashMap::new();
        let mut items = Vec::new();
        for a in archives {
            let name = a.file_name();
            let Ok(meta) = dir.stat(&name) else { continue };
            if meta.kind() != crate::safe_dir::Kind::Regular
                || pinned.contains(&(meta.dev, meta.ino))
            {
                continue;
            }
            let Some(end) = retain::label_end(&a.label, p.zone) else {
                continue;
            };
            metas.insert(name, meta);
            items.push(retain::Item {
                archive: a.clone(),
                size: meta.size,
                end,
                in_use: false,
            });
        }
        let holders = scan_holders(&metas);
        for it in &mut items {
            if let Some(m) = metas.get(&it.archive.file_name()) {
                it.in_use = !it.archive.gz && !holders.writers_of(m.dev, m.ino).is_empty();
            }
        }
        for d in retain::plan(&items, limits, retention_now.min(now)) {
            let path = dir.join(&d.name);
            let meta = metas.get(&d.name);
            if dry_run {
                report
                    .lines
                    .push(format!("would delete {} ({})", path.display(), d.reason));
                report.deleted += 1;
                continue;
            }
            // The deleted file's final hash, so `verify` can tell this
            // deletion (journaled) from one nobody journaled.
            let final_sha = dir
                .open_read(&d.name)
                .ok()
                .and_then(|f| crate::digest::sha256(&f).ok())
                .map(|(hex, _)| hex);
            crate::crash::point("retain.hashed");
            // Journaled before the unlink (write-ahead): a crash in between
            // leaves a file the journal calls deleted, which the next pass
            // deletes; the other order would leave a deletion nobody journaled.
            let mut r = Record::ok(now, "retention.delete")
                .source(&src.name)
                .resource(&path, meta.map(|m| m.ino), meta.map(|m| m.size))
                .hashes(None, final_sha);
            r.reason = Some(d.reason.clone());
            journal::append(jr, r);
            crate::crash::point("retain.journaled");
            match dir.unlink(&d.name) {
                Ok(()) => {
                    crate::crash::point("retain.unlinked");
                    report.deleted += 1;
                    crate::metrics::global()
                        .retention_deletions
                        .with_label_values(&[&src.name])
                        .inc();
                    report
                        .lines
                        .push(format!("deleted {} ({})", path.display(), d.reason));
                }
                Err(e) => {
                    report.errors += 1;
                    journal::append(
                        jr,
                        Record::failed(
                            now,
                            "retention.delete",
                            format!("{e}; the deletion journaled just before did not happen and is retried"),
                        )
                        .source(&src.name)
                        .resource(&path, None, None),
                    );
                }
            }
        }
    }
    if !dry_run {
        let _ = dir.sync();
    }
}

fn scan_holders(metas: &HashMap<String, crate::safe_dir::Meta>) -> Holders {
    let set: HashSet<_> = metas.values().map(|m| (m.dev, m.ino)).collect();
    Holders::scan(&set)
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
    if let Some(p) = cutter.pipeline.as_mut() {
        p.discover(now);
        while p.pump(now).more {}
    }
    let cuts = cutter.pass(now, force);
    if let Some(p) = cutter.pipeline.as_mut() {
        // Renamed files whose writers already let go are finished now; the
        // rest keep draining when the daemon next runs.
        while p.pump(now).more {}
        p.finish_drained_now(now);
        p.shutdown(now);
    }
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

/// Paths of a source's live files right now (for `check`).
pub fn live_files(src: &Source) -> Result<discover::Found, String> {
    let dir = discover::open(src).map_err(|e| e.to_string())?;
    discover::scan(&dir, src).map_err(|e| format!("cannot list {}: {e}", src.dir.display()))
}

/// The state directory's journal path (for messages).
pub fn journal_path(cfg: &Config) -> PathBuf {
    cfg.state_dir.join(crate::journal::FILE_NAME)
}
