//! The housekeeping pass, after the cut pass, in both modes: finish
//! compressions a crash interrupted, compress the rotated files whose
//! writers let go (or whose `writer_grace` passed; a cut mirror once its
//! `ship_grace` passed), and apply retention. Then the journal's own files.
//!
//! Each step is a function; the choices are pure and table-tested
//! ([`compress_candidates`], `rotate::renamed_finished`, `retain::plan`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, Policy, Source};
use crate::ingest::discover;
use crate::journal::{self, Record, SharedJournal};
use crate::policy::archive::{self, Archive};
use crate::policy::retain;
use crate::rotation::rotate;
use crate::sys::holders::Holders;
use crate::sys::safe_dir::{Kind, Meta, SafeDir};

use super::Report;

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
                crate::config::Mode::Mirror => crate::ingest::mirror::output_dir(cfg, src),
            };
            crate::sys::metrics::global()
                .archive_bytes
                .with_label_values(&[&src.name])
                .set(crate::report::inventory::inventory(&where_, |b| src.matches(b)).bytes as i64);
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
                let pinned =
                    pinned.get_or_insert_with(|| crate::ingest::mirror::pinned(&cfg.state_dir));
                if let Ok(out) = SafeDir::open(&crate::ingest::mirror::output_dir(cfg, src)) {
                    let ship = src.policy.effective_ship_grace(now);
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
            .map(|s| s.policy.effective_ship_grace(now))
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

/// What every housekeeping step of one pass shares.
struct House<'a> {
    jr: &'a SharedJournal,
    now: DateTime<Utc>,
    retention_now: DateTime<Utc>,
    wait: WriterWait,
    dry_run: bool,
    stop: &'a AtomicBool,
}

/// The archives of a source's live files in `names`, grouped by live file,
/// each group in cut order (oldest first).
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

/// Which archives to compress: every plain one, oldest first per live file,
/// except (with `delay_compress`, as logrotate's `delaycompress`) the newest
/// plain one of each live file.
pub(super) fn compress_candidates(
    by_base: &BTreeMap<String, Vec<Archive>>,
    delay_compress: bool,
) -> Vec<Archive> {
    let mut candidates = Vec::new();
    for archives in by_base.values() {
        let plain: Vec<&Archive> = archives.iter().filter(|a| !a.gz).collect();
        let take = plain.len().saturating_sub(usize::from(delay_compress));
        candidates.extend(plain.into_iter().take(take).cloned());
    }
    candidates
}

/// One directory of a source: the live files' directory in rotate mode;
/// in mirror mode the mirrors' (`ship`: their ship grace) and, with
/// `raw_max_age`, the raw files'.
fn house_source(
    src: &Source,
    dir: &SafeDir,
    p: &Policy,
    pinned: &HashSet<(u64, u64)>,
    ship: Option<Duration>,
    h: &House<'_>,
    report: &mut Report,
) {
    if dir.append_only() {
        // Nothing can be renamed or removed here: compressing would leave the
        // original behind, and retention could delete nothing.
        report.lines.push(format!(
            "{} is append-only (chattr +a): archives stay uncompressed and retention cannot delete",
            dir.path().display()
        ));
        return;
    }
    let Some(names) = list(dir, report) else {
        return;
    };
    if !h.dry_run {
        recover_compressions(src, dir, &names, h);
    }
    if p.compress {
        let names = if h.dry_run {
            names.clone()
        } else {
            list(dir, report).unwrap_or_default()
        };
        let candidates = compress_candidates(&archives_by_base(src, &names), p.delay_compress);
        if !compress_step(src, dir, p, candidates, pinned, ship, h, report) {
            return;
        }
    }
    let names = if h.dry_run {
        names
    } else {
        list(dir, report).unwrap_or_default()
    };
    for archives in archives_by_base(src, &names).values() {
        retention_step(src, dir, p, archives, pinned, h, report);
    }
    if !h.dry_run {
        let _ = dir.sync();
    }
}

/// The directory's names, sorted (`None`, counted as an error, if it
/// cannot be listed).
fn list(dir: &SafeDir, report: &mut Report) -> Option<Vec<String>> {
    match dir.list() {
        Ok(mut n) => {
            n.sort();
            Some(n)
        }
        Err(e) => {
            report.errors += 1;
            tracing::warn!("cannot list {}: {e}", dir.path().display());
            None
        }
    }
}

/// Finish or undo the compressions a crash interrupted, each journaled.
fn recover_compressions(src: &Source, dir: &SafeDir, names: &[String], h: &House<'_>) {
    let now = h.now;
    for r in crate::rotation::compress::recover(dir, names) {
        let rec = match r {
            Ok(crate::rotation::compress::Recovered::RemovedTemp(n)) => Record::ok(now, "recover")
                .resource(dir.path(), None, None)
                .old(&n)
                .new_value("removed an unfinished compression; it is redone"),
            Ok(crate::rotation::compress::Recovered::RemovedOriginal(n, f)) => {
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
        journal::append(h.jr, rec.source(&src.name));
    }
}

/// The candidates that may be compressed now, by name: regular files only
/// (a symlink, FIFO or directory that merely carries an archive's name is
/// not ours to open), not pinned by the tail checkpoint, and past the
/// shipper's grace.
fn compressible(
    dir: &SafeDir,
    candidates: &[Archive],
    pinned: &HashSet<(u64, u64)>,
    ship: Option<Duration>,
    report: &mut Report,
) -> HashMap<String, Meta> {
    let mut metas = HashMap::new();
    for a in candidates {
        let Ok(m) = dir.stat(&a.plain_name()) else {
            continue;
        };
        if m.kind() != Kind::Regular || pinned.contains(&(m.dev, m.ino)) {
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
    metas
}

/// Compress `candidates` whose writers let go. False when the pass was
/// asked to stop.
#[allow(clippy::too_many_arguments)]
fn compress_step(
    src: &Source,
    dir: &SafeDir,
    p: &Policy,
    candidates: Vec<Archive>,
    pinned: &HashSet<(u64, u64)>,
    ship: Option<Duration>,
    h: &House<'_>,
    report: &mut Report,
) -> bool {
    let metas = compressible(dir, &candidates, pinned, ship, report);
    let deadline = match h.wait {
        WriterWait::Poll(d) => Some(std::time::Instant::now() + d),
        WriterWait::Grace => None,
    };
    let mut holders = scan_holders(&metas);
    for a in candidates {
        if h.stop.load(Ordering::Relaxed) {
            return false;
        }
        let Some(meta) = metas.get(&a.plain_name()).copied() else {
            continue;
        };
        let mut held = !holders.writers_of(meta.dev, meta.ino).is_empty();
        if let (true, Some(deadline)) = (held, deadline) {
            while held && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                holders = scan_holders(&metas);
                held = !holders.writers_of(meta.dev, meta.ino).is_empty();
            }
        }
        // The one writer_grace rule (a one-shot run cannot wait for it).
        let finish = match h.wait {
            WriterWait::Grace => {
                rotate::renamed_finished(held, rotate::idle_for(&meta), p.writer_grace)
            }
            WriterWait::Poll(_) => (!held).then_some(rotate::Finish::Closed),
        };
        let path = dir.join(&a.plain_name());
        let Some(finish) = finish else {
            report.waiting += 1;
            report.lines.push(format!(
                "{} is still held open by a writer; compressing it later",
                path.display()
            ));
            continue;
        };
        let note = (finish == rotate::Finish::Idle).then(|| idle_note(src, p, &holders, &meta));
        compress_one(src, dir, &a, &meta, note, h, report);
    }
    true
}

/// The reason recorded when a file is compressed though a writer still
/// holds it (idle for `writer_grace`).
fn idle_note(src: &Source, p: &Policy, holders: &Holders, meta: &Meta) -> String {
    format!(
        "not written to for writer_grace ({}) though still held open by {}; anything written to it from now on is lost — {}",
        humantime::format_duration(p.writer_grace),
        crate::rotation::reopen::describe(holders.writers_of(meta.dev, meta.ino)),
        if src.reopen.is_some() {
            "the reopen hook did not make it reopen: check the hook's signal and pidfile, or set strategy = \"copytruncate\""
        } else {
            "configure reopen, or strategy = \"copytruncate\""
        }
    )
}

/// Compress one archive (journaled before the original goes), or say what
/// a dry run would do.
fn compress_one(
    src: &Source,
    dir: &SafeDir,
    a: &Archive,
    meta: &Meta,
    mut note: Option<String>,
    h: &House<'_>,
    report: &mut Report,
) {
    let path = dir.join(&a.plain_name());
    if h.dry_run {
        report.lines.push(format!(
            "would compress {} -> {}",
            path.display(),
            a.gz_name()
        ));
        report.compressed += 1;
        return;
    }
    let started = std::time::Instant::now();
    let mut journal_first = |c: &crate::rotation::compress::Compressed| {
        let mut r = Record::ok(h.now, "compress")
            .source(&src.name)
            .resource(&path, Some(meta.ino), Some(c.in_bytes))
            .old(path.display())
            .new_value(dir.join(&c.gz_name).display())
            .hashes(Some(c.content_sha256.clone()), Some(c.file_sha256.clone()));
        if let Some(n) = note.take() {
            r.reason = Some(n);
        }
        journal::append(h.jr, r);
    };
    match crate::rotation::compress::compress(dir, a, &mut journal_first) {
        Ok(c) => {
            report.compressed += 1;
            let m = crate::sys::metrics::global();
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
                h.jr,
                Record::failed(h.now, "compress", e)
                    .source(&src.name)
                    .resource(&path, Some(meta.ino), Some(meta.size)),
            );
        }
    }
}

/// Retention for the archives of one live file (cut order).
fn retention_step(
    src: &Source,
    dir: &SafeDir,
    p: &Policy,
    archives: &[Archive],
    pinned: &HashSet<(u64, u64)>,
    h: &House<'_>,
    report: &mut Report,
) {
    let limits = retain::Limits {
        max_age: p.max_age,
        max_archives: p.max_archives,
        max_total_size: p.max_total_size,
    };
    let mut metas = HashMap::new();
    let mut items = Vec::new();
    for a in archives {
        let name = a.file_name();
        let Ok(meta) = dir.stat(&name) else { continue };
        if meta.kind() != Kind::Regular || pinned.contains(&(meta.dev, meta.ino)) {
            continue;
        }
        let Some(end) = retain::label_end(&a.label, &p.schedule, p.zone) else {
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
    for d in retain::plan(&items, limits, h.retention_now.min(h.now)) {
        delete_one(src, dir, &d, metas.get(&d.name), h, report);
    }
}

/// Delete one archive retention chose: journaled (with its final hash)
/// before the unlink, or say what a dry run would do.
fn delete_one(
    src: &Source,
    dir: &SafeDir,
    d: &retain::Deletion,
    meta: Option<&Meta>,
    h: &House<'_>,
    report: &mut Report,
) {
    let path = dir.join(&d.name);
    if h.dry_run {
        report
            .lines
            .push(format!("would delete {} ({})", path.display(), d.reason));
        report.deleted += 1;
        return;
    }
    // The deleted file's final hash, so `verify` can tell this deletion
    // (journaled) from one nobody journaled.
    let final_sha = dir
        .open_read(&d.name)
        .ok()
        .and_then(|f| crate::sys::digest::sha256(&f).ok())
        .map(|(hex, _)| hex);
    crate::sys::crash::point("retain.hashed");
    // Journaled before the unlink (write-ahead): a crash in between leaves a
    // file the journal calls deleted, which the next pass deletes; the other
    // order would leave a deletion nobody journaled.
    let mut r = Record::ok(h.now, "retention.delete")
        .source(&src.name)
        .resource(&path, meta.map(|m| m.ino), meta.map(|m| m.size))
        .hashes(None, final_sha);
    r.reason = Some(d.reason.clone());
    journal::append(h.jr, r);
    crate::sys::crash::point("retain.journaled");
    match dir.unlink(&d.name) {
        Ok(()) => {
            crate::sys::crash::point("retain.unlinked");
            report.deleted += 1;
            crate::sys::metrics::global()
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
                h.jr,
                Record::failed(
                    h.now,
                    "retention.delete",
                    format!(
                        "{e}; the deletion journaled just before did not happen and is retried"
                    ),
                )
                .source(&src.name)
                .resource(&path, None, None),
            );
        }
    }
}

fn scan_holders(metas: &HashMap<String, Meta>) -> Holders {
    let set: HashSet<_> = metas.values().map(|m| (m.dev, m.ino)).collect();
    Holders::scan(&set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_base(names: &[&str]) -> BTreeMap<String, Vec<Archive>> {
        let mut m: BTreeMap<String, Vec<Archive>> = BTreeMap::new();
        for n in names {
            let a = archive::parse_any(n).expect("an archive name");
            m.entry(a.base.clone()).or_default().push(a);
        }
        for v in m.values_mut() {
            v.sort_by(|a, b| a.cut_order(b));
        }
        m
    }

    #[test]
    fn compress_candidates_table() {
        // (archives present, delay_compress, expected candidates in order)
        let cases: &[(&[&str], bool, &[&str])] = &[
            (&[], false, &[]),
            (&[], true, &[]),
            (&["app.log.2026-03-01"], false, &["app.log.2026-03-01"]),
            // delaycompress: the newest plain one waits a cycle.
            (&["app.log.2026-03-01"], true, &[]),
            (
                &["app.log.2026-03-01", "app.log.2026-03-02"],
                true,
                &["app.log.2026-03-01"],
            ),
            // Compressed ones are not candidates and do not count as newest.
            (&["app.log.2026-03-01.gz", "app.log.2026-03-02"], true, &[]),
            (
                &["app.log.2026-03-01.gz", "app.log.2026-03-02"],
                false,
                &["app.log.2026-03-02"],
            ),
            // Same day cut twice (.1): cut order, oldest first.
            (
                &[
                    "app.log.2026-03-02.1",
                    "app.log.2026-03-02",
                    "app.log.2026-03-01",
                ],
                false,
                &[
                    "app.log.2026-03-01",
                    "app.log.2026-03-02",
                    "app.log.2026-03-02.1",
                ],
            ),
            (
                &[
                    "app.log.2026-03-02.1",
                    "app.log.2026-03-02",
                    "app.log.2026-03-01",
                ],
                true,
                &["app.log.2026-03-01", "app.log.2026-03-02"],
            ),
            // Each live file keeps its own newest.
            (
                &["a.log.2026-03-01", "a.log.2026-03-02", "b.log.2026-03-02"],
                true,
                &["a.log.2026-03-01"],
            ),
        ];
        for (names, delay, want) in cases {
            let got: Vec<String> = compress_candidates(&by_base(names), *delay)
                .iter()
                .map(Archive::file_name)
                .collect();
            assert_eq!(got, *want, "{names:?} delay_compress={delay}");
        }
    }
}
