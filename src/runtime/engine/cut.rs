//! The cut pass over one source: open and list it (recovering interrupted
//! copies), decide which live files are due ([`Schedule::due`]), choose each
//! one's strategy from /proc facts (`rotate::choose`), cut it (rotate mode
//! here; mirror mode through the pipeline, which drains first), and journal
//! the cut.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::config::Source;
use crate::ingest::discover::{self, DirProblem, Found};
use crate::journal::{self, Record};
use crate::policy::schedule::{veto, Due, Trigger, Veto};
use crate::rotation::reopen::{Check, Verdict};
use crate::rotation::rotate::{self, CutSpec, Facts};
use crate::state::{self, FileState};
use crate::sys::holders::Holders;
use crate::sys::safe_dir::{Meta, SafeDir};

use super::{Cutter, Force, Report};

/// A live file the pass cuts, and why.
struct DueFile {
    name: String,
    meta: Meta,
    label: String,
    trigger: Trigger,
}

impl Cutter {
    pub(super) fn source_pass(
        &mut self,
        src: &Source,
        now: DateTime<Utc>,
        force: &Force,
        report: &mut Report,
        live_keys: &mut HashSet<String>,
    ) {
        let Some((dir, found)) = self.open_source(src, now, report, live_keys) else {
            return;
        };
        let due = self.due_files(src, &dir, &found, now, force, report, live_keys);
        if due.is_empty() {
            return;
        }
        let inodes: HashSet<_> = due.iter().map(|d| (d.meta.dev, d.meta.ino)).collect();
        let holders = Holders::scan(&inodes);
        for d in due {
            self.cut_one(src, &dir, &holders, d, now, report);
        }
    }

    /// The source's directory and what it holds; interrupted copies
    /// recovered and skipped files noted, each journaled. `None` (reported
    /// once) when it cannot be opened or listed; a directory that does not
    /// exist yet keeps its files' anchors.
    fn open_source(
        &mut self,
        src: &Source,
        now: DateTime<Utc>,
        report: &mut Report,
        live_keys: &mut HashSet<String>,
    ) -> Option<(SafeDir, Found)> {
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
                return None;
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
                return None;
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
                return None;
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
        Some((dir, found))
    }

    /// The live files due now. Every live file's anchor is kept (a new one
    /// starts its period now); an empty one that is due by schedule only
    /// starts its next period.
    #[allow(clippy::too_many_arguments)]
    fn due_files(
        &mut self,
        src: &Source,
        dir: &SafeDir,
        found: &Found,
        now: DateTime<Utc>,
        force: &Force,
        report: &mut Report,
        live_keys: &mut HashSet<String>,
    ) -> Vec<DueFile> {
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
            let over_size = p.max_size.is_some_and(|m| meta.used() > m);
            let (label, trigger) =
                match p
                    .schedule
                    .due(p.zone, entry.anchor, now, over_size, force.covers(src))
                {
                    Due::No { next } => {
                        report.wake_by(next);
                        continue;
                    }
                    Due::Yes { trigger, label } => (label, trigger),
                };
            let used = match meta.used() {
                n if n > 0 && holds_nothing(dir, name) => 0,
                n => n,
            };
            let rotate_mode = p.mode == crate::config::Mode::Rotate;
            match veto(trigger, used, p.min_size, rotate_mode) {
                Veto::None => {}
                Veto::Pending => {
                    // Looked at again soon: the cut is taken once it passes.
                    if trigger == Trigger::Schedule {
                        report.wake_by(now + PENDING_RECHECK);
                    }
                    continue;
                }
                Veto::PeriodEnds => {
                    if !self.dry_run {
                        entry.anchor = now;
                    }
                    continue;
                }
            }
            due.push(DueFile {
                name: name.clone(),
                meta: *meta,
                label,
                trigger,
            });
        }
        due
    }

    /// Cut one due file, either mode, and journal it (or say what a dry run
    /// would do).
    fn cut_one(
        &mut self,
        src: &Source,
        dir: &SafeDir,
        holders: &Holders,
        d: DueFile,
        now: DateTime<Utc>,
        report: &mut Report,
    ) {
        let p = &src.policy;
        let DueFile {
            name,
            meta,
            label,
            trigger,
        } = d;
        let trigger = trigger.as_str();
        let path = dir.join(&name);
        let (facts, check) = cut_facts(src, holders, &path, &meta);
        let choice = rotate::choose(p.strategy, &facts);
        if self.dry_run {
            let a = rotate::archive_name(dir, &name, &label);
            report.lines.push(format!(
                "would cut {} -> {} ({}: {}; trigger {trigger})",
                path.display(),
                a.plain_name(),
                choice.strategy.as_str(),
                choice.reason
            ));
            report.cuts += 1;
            return;
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
        // Mirror mode drains into the mirror before it cuts, and cuts the
        // mirror too; rotate mode archives the raw file.
        let done = if p.mode == crate::config::Mode::Mirror {
            let Some(pl) = self.pipeline.as_mut().filter(|pl| pl.has(&src.name)) else {
                return;
            };
            pl.cut(src, &name, &meta, spec, now)
                .map(|cut| Done::of_mirror(dir, &path, cut))
        } else {
            rotate::cut(dir, &name, &meta, spec).map(|cut| Done::of_rotate(dir, &path, cut))
        };
        match done {
            Ok(mut cut) => {
                self.hook_outcome(src, &path, &meta, &mut cut, refused.as_deref(), now);
                report.cuts += 1;
                report.lines.push(cut.line);
                crate::sys::metrics::global()
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
                if let Some(entry) = self.state.files.get_mut(&state::key(&src.name, &name)) {
                    entry.anchor = now;
                    entry.last_cut = Some(now);
                    entry.last_strategy = Some(cut.strategy.as_str().to_string());
                    entry.last_reason = Some(cut.reason);
                }
                let next = p.schedule.next_cut(p.zone, now);
                report.wake_by(next);
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

    /// What the reopen hook did at a cut, into its reason: journaled as a
    /// failed `reopen` record if it failed; a cut without a hook problem
    /// clears the source's last reopen error.
    fn hook_outcome(
        &self,
        src: &Source,
        path: &std::path::Path,
        meta: &crate::sys::safe_dir::Meta,
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
        if !crate::rotation::reopen::is_hook_problem(&cut.reason) {
            crate::sys::metrics::global().clear_error(&src.name, "reopen");
        }
    }
}

/// How much data [`holds_nothing`] reads at most.
const NUL_CHECK_LIMIT: u64 = 64 << 10;

/// How often a scheduled cut held back by `min_size` or an empty file is
/// looked at again.
const PENDING_RECHECK: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// Whether a live file holds only holes and NULs (what a copy-truncate
/// whose collapse left the last partial block leaves behind): empty for the
/// cut decision.
fn holds_nothing(dir: &SafeDir, name: &str) -> bool {
    dir.open_read(name)
        .and_then(|f| crate::sys::sparse::only_nuls(&f, NUL_CHECK_LIMIT))
        .unwrap_or(false)
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
    meta: &crate::sys::safe_dir::Meta,
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
                || matches!(check?.facts, crate::rotation::reopen::Facts::Command { .. })
        }
        rotate::Strategy::CopyTruncate => choice.reason.contains(why.as_str()),
    };
    relied.then(|| why.clone())
}

impl Done {
    /// A mirror-mode cut: the mirror's archive, and where the raw bytes went.
    fn of_mirror(
        dir: &SafeDir,
        path: &std::path::Path,
        cut: crate::ingest::mirror::MirrorCut,
    ) -> Done {
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
    }

    /// A rotate-mode cut: the archive.
    fn of_rotate(dir: &SafeDir, path: &std::path::Path, cut: rotate::Cut) -> Done {
        Done {
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
        }
    }
}
