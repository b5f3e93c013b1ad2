//! Cutting one live file: choosing the strategy (a pure decision over the
//! facts /proc gives) and carrying it out inside a [`SafeDir`].
//!
//! * rename: `renameat2(RENAME_NOREPLACE)` to the archive's plain name,
//!   optionally re-create the file with the old owner and mode, then run the
//!   reopen hook. The renamed file is compressed later, once its writer let go.
//! * copy-truncate: copy to a hidden temp file until the copy has caught up
//!   with the writer, fsync, then remove the copied prefix from the live file:
//!   with `FALLOC_FL_COLLAPSE_RANGE` (block-aligned, no window at all; the
//!   archive then ends at that block boundary) or, where unsupported, by
//!   re-checking the size and `ftruncate(0)` when nothing new arrived. The
//!   temp file becomes the archive by rename. Holes (from writers without
//!   `O_APPEND` after an earlier truncate) are never copied: NUL runs next to
//!   a hole or at offset 0 are skipped, since no writer wrote them.
//!
//! A crash at any step leaves either the live file whole plus a stale temp
//! copy, or a truncated live file plus a complete temp copy; [`recover`]
//! tells them apart at start and finishes or discards the copy.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use rustix::fs::FallocateFlags;

use crate::config::StrategyCfg;
use crate::policy::archive::{self, Archive};
use crate::rotation::reopen::{Check, Verdict};
use crate::sys::holders::{Lock, Writer};
use crate::sys::safe_dir::{self, Meta, SafeDir};
use crate::sys::sparse::Copier;

/// The strategy actually used for a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Rename,
    CopyTruncate,
}

impl Strategy {
    pub fn as_str(&self) -> &'static str {
        match self {
            Strategy::Rename => "rename",
            Strategy::CopyTruncate => "copytruncate",
        }
    }
}

/// What is known about a file when its strategy is chosen.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub writers: Vec<Writer>,
    pub locks: Vec<Lock>,
    /// The reopen hook's verdict for this file (`None`: no hook configured).
    pub hook: Option<Verdict>,
}

/// A strategy and the reason for it (journaled with the cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub strategy: Strategy,
    pub reason: String,
}

/// Decide how to cut a file. Pure.
pub fn choose(cfg: StrategyCfg, facts: &Facts) -> Choice {
    let pick = |strategy, reason: String| Choice { strategy, reason };
    match cfg {
        StrategyCfg::Rename => pick(Strategy::Rename, "strategy = rename".into()),
        StrategyCfg::CopyTruncate => pick(Strategy::CopyTruncate, "strategy = copytruncate".into()),
        StrategyCfg::Auto => {
            if let Some(lock) = facts.locks.first() {
                let by = lock.pid.map(|p| format!(" by pid {p}")).unwrap_or_default();
                return pick(
                    Strategy::CopyTruncate,
                    format!("file is locked ({}{by})", lock.kind.to_lowercase()),
                );
            }
            let Some(w) = facts.writers.first() else {
                return pick(
                    Strategy::Rename,
                    "no process holds it open for writing".into(),
                );
            };
            match &facts.hook {
                None => pick(
                    Strategy::CopyTruncate,
                    format!(
                        "held open for writing by pid {} ({}) and no reopen hook",
                        w.pid, w.comm
                    ),
                ),
                Some(Verdict::Fire(_)) => {
                    pick(Strategy::Rename, "writer will reopen (reopen hook)".into())
                }
                // Not trusted on its word: a rename would leave the writer
                // writing into the renamed file.
                Some(Verdict::Unusable(why)) => pick(
                    Strategy::CopyTruncate,
                    format!(
                        "held open for writing by pid {} ({}); {why}",
                        w.pid, w.comm
                    ),
                ),
                Some(Verdict::NotNeeded) => pick(
                    Strategy::CopyTruncate,
                    format!(
                        "held open for writing by pid {} ({}), which the reopen hook does not reach",
                        w.pid, w.comm
                    ),
                ),
            }
        }
    }
}

/// What a cut produced.
#[derive(Debug, Clone)]
pub struct Cut {
    /// The archive, uncompressed (`<file>.<label>[.n]`).
    pub archive: Archive,
    pub strategy: Strategy,
    pub reason: String,
    /// Bytes moved into the archive.
    pub bytes: u64,
    /// Set when rename was chosen but failed and copy-truncate stood in.
    pub fallback: Option<String>,
    /// What the reopen hook did after the rename (`None`: not fired).
    pub reopen: Option<Result<String, String>>,
}

/// Errors a cut reports.
#[derive(Debug, thiserror::Error)]
pub enum CutError {
    #[error("{0} changed while it was being cut (replaced or truncated by someone else); it will be retried at the next cut")]
    Changed(String),
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> CutError {
    let what = what.into();
    move |source| CutError::Io { what, source }
}

/// Everything a cut needs besides the file.
pub struct CutSpec<'a> {
    pub label: &'a str,
    pub choice: Choice,
    /// Whether `auto` chose (so a failed rename may fall back).
    pub may_fall_back: bool,
    /// Re-create the file after a rename (`None`: do not).
    pub create: Option<crate::config::Create>,
    /// The reopen hook, checked against the file's writers before the cut.
    pub reopen: Option<&'a Check>,
}

/// Cut `name` (whose metadata was `meta` when the decision was taken).
pub fn cut(dir: &SafeDir, name: &str, meta: &Meta, spec: CutSpec<'_>) -> Result<Cut, CutError> {
    let choice = spec.choice.clone();
    if choice.strategy == Strategy::Rename {
        match rename(dir, name, meta, spec.label) {
            Ok(archive) => {
                let reopen = after_rename(dir, name, meta, &spec);
                return Ok(Cut {
                    archive,
                    strategy: Strategy::Rename,
                    reason: choice.reason,
                    bytes: meta.size,
                    fallback: None,
                    reopen,
                });
            }
            Err(RenameFailed::Fallback(errno)) if spec.may_fall_back => {
                let why = format!("rename failed ({errno}), fell back to copy-truncate");
                let (archive, bytes) = copy_truncate(dir, name, meta, spec.label)?;
                return Ok(Cut {
                    archive,
                    strategy: Strategy::CopyTruncate,
                    reason: why.clone(),
                    bytes,
                    fallback: Some(why),
                    reopen: None,
                });
            }
            Err(RenameFailed::Fallback(errno)) => {
                return Err(CutError::Io {
                    what: format!("rename {}", dir.join(name).display()),
                    source: errno.into(),
                })
            }
            Err(RenameFailed::Other(e)) => return Err(e),
        }
    }
    let (archive, bytes) = copy_truncate(dir, name, meta, spec.label)?;
    Ok(Cut {
        archive,
        strategy: Strategy::CopyTruncate,
        reason: choice.reason,
        bytes,
        fallback: None,
        reopen: None,
    })
}

/// After `name` was renamed away: re-create it if configured, then fire the
/// reopen hook if its check allows. Both modes' renames end here.
pub fn after_rename(
    dir: &SafeDir,
    name: &str,
    meta: &Meta,
    spec: &CutSpec<'_>,
) -> Option<Result<String, String>> {
    if let Some(how) = spec.create {
        if let Err(e) = create_like(dir, name, meta, how) {
            tracing::warn!("cannot re-create {}: {e}", dir.join(name).display());
        }
    }
    spec.reopen.and_then(Check::fire)
}

/// Why a renamed file (still an input, or waiting to be compressed) is
/// finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// No process holds it open for writing any more.
    Closed,
    /// A writer still holds it, but it has not grown for `writer_grace`.
    Idle,
}

/// The one `writer_grace` rule, for both modes. Pure.
///
/// A renamed file is finished (drained and discarded in mirror mode,
/// compressed in rotate mode) once no writer holds it, or once it has not
/// been written to (`idle`, from its mtime) for `grace`. A file that still
/// grows is never finished, whatever the grace: its writer has not reopened
/// and what it writes must not be lost.
pub fn renamed_finished(held: bool, idle: Duration, grace: Duration) -> Option<Finish> {
    if !held {
        Some(Finish::Closed)
    } else if idle >= grace {
        Some(Finish::Idle)
    } else {
        None
    }
}

/// How long ago a file was last written, by its mtime (0 if in the future).
pub fn idle_for(meta: &Meta) -> Duration {
    since(meta.mtime)
}

/// How long ago a file time (seconds since the epoch) was, by the wall
/// clock (0 if in the future).
pub fn since(secs: i64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    Duration::from_secs(u64::try_from(now - secs).unwrap_or(0))
}

pub enum RenameFailed {
    /// The file cannot be renamed (append-only, busy mount point, other fs).
    Fallback(rustix::io::Errno),
    Other(CutError),
}

/// The archive name for the next cut of `base` in `label`, in `dir`.
pub fn archive_name(dir: &SafeDir, base: &str, label: &str) -> Archive {
    let names = dir.list().unwrap_or_default();
    archive::next_free(base, label, &names, |n| dir.exists(n))
}

/// Rename `name` to a free archive name for `label`; the file must still be `meta`.
pub fn rename(
    dir: &SafeDir,
    name: &str,
    meta: &Meta,
    label: &str,
) -> Result<Archive, RenameFailed> {
    for _ in 0..1000 {
        let archive = archive_name(dir, name, label);
        let to = archive.plain_name();
        match dir.rename_noreplace(name, &to) {
            Ok(()) => crate::sys::crash::point("rotate.renamed"),
            Err(e) => match e.raw_os_error() {
                Some(libc::EEXIST) => continue,
                Some(errno @ (libc::EBUSY | libc::EPERM | libc::EXDEV | libc::EACCES)) => {
                    return Err(RenameFailed::Fallback(
                        rustix::io::Errno::from_raw_os_error(errno),
                    ))
                }
                _ => {
                    return Err(RenameFailed::Other(CutError::Io {
                        what: format!("rename {}", dir.join(name).display()),
                        source: e,
                    }))
                }
            },
        }
        // The name could have been swapped between the decision and the rename;
        // renameat never follows links, so put back anything that is not the file.
        let got = dir
            .stat(&to)
            .map_err(|e| RenameFailed::Other(io_err(format!("stat {to}"))(e)))?;
        if !got.same_file(meta) {
            let _ = dir.rename_noreplace(&to, name);
            return Err(RenameFailed::Other(CutError::Changed(
                dir.join(name).display().to_string(),
            )));
        }
        let _ = dir.sync();
        return Ok(archive);
    }
    Err(RenameFailed::Other(CutError::Changed(
        dir.join(name).display().to_string(),
    )))
}

/// Re-create `name` empty with the owner and mode of the file it replaces,
/// or those `how` names.
pub fn create_like(
    dir: &SafeDir,
    name: &str,
    meta: &Meta,
    how: crate::config::Create,
) -> io::Result<()> {
    let mode = how.mode.unwrap_or(meta.perm() & 0o777);
    let f = dir.create_new(name, mode & 0o777)?;
    safe_dir::set_owner_and_mode(
        &f,
        how.uid.unwrap_or(meta.uid),
        how.gid.unwrap_or(meta.gid),
        mode,
    )?;
    f.sync_all()?;
    dir.sync()
}

/// How many times the copy may chase a writer before truncating anyway
/// (the remainder is then handled by the collapse or the final re-check).
const MAX_CATCH_UP: usize = 64;

fn copy_truncate(
    dir: &SafeDir,
    name: &str,
    meta: &Meta,
    label: &str,
) -> Result<(Archive, u64), CutError> {
    let path = dir.join(name).display().to_string();
    let src = dir.open_rw(name).map_err(io_err(format!("open {path}")))?;
    let now = safe_dir::fstat(&src).map_err(io_err(format!("stat {path}")))?;
    if !now.same_file(meta) {
        return Err(CutError::Changed(path));
    }
    let archive = archive_name(dir, name, label);
    // In an append-only directory nothing can be renamed, the temp copy
    // included: write the archive under its final name (a crash mid-cut may
    // then leave lines in both the archive and the live file; never lose them).
    let direct = dir.append_only();
    let tmp = if direct {
        archive.plain_name()
    } else {
        archive.copy_tmp_name()
    };
    let dst = dir
        .create_new(&tmp, meta.perm() & 0o666)
        .map_err(io_err(format!("create {}", dir.join(&tmp).display())))?;
    let result = copy_truncate_into(&src, &dst, &path);
    let copied = match result {
        Ok(n) => n,
        Err(e) => {
            drop(dst);
            let _ = dir.unlink(&tmp);
            return Err(e);
        }
    };
    let _ = safe_dir::copy_owner_and_mode(&dst, meta);
    dst.sync_all().map_err(io_err(format!("fsync {tmp}")))?;
    drop(dst);
    crate::sys::crash::point("rotate.copied");
    if direct {
        let _ = dir.sync();
        return Ok((archive, copied));
    }
    // The live file no longer holds the copied bytes: the temp copy must become the archive.
    match publish_copy(dir, &tmp, name, label, archive) {
        Ok(archive) => Ok((archive, copied)),
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Err(CutError::Changed(path)),
        Err(e) => Err(CutError::Io {
            what: format!("rename {tmp} (the copy is kept; it is recovered at the next start)"),
            source: e,
        }),
    }
}

/// Makes `tmp`, a finished and fsynced copy, the archive of `name` for
/// `label`: renamed without replacing; a name taken meanwhile (another cut
/// with the same label) means the next free one. The directory is fsynced.
/// Both modes publish their copies through here.
pub fn publish_copy(
    dir: &SafeDir,
    tmp: &str,
    name: &str,
    label: &str,
    mut archive: Archive,
) -> io::Result<Archive> {
    for _ in 0..1000 {
        match dir.rename_noreplace(tmp, &archive.plain_name()) {
            Ok(()) => {
                let _ = dir.sync();
                return Ok(archive);
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                archive = archive_name(dir, name, label);
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::EEXIST))
}

/// The copy-truncate loop proper; returns the archive's length.
fn copy_truncate_into(src: &File, dst: &File, path: &str) -> Result<u64, CutError> {
    let stat = |f: &File| safe_dir::fstat(f).map_err(io_err(format!("stat {path}")));
    let mut c = Copier::new(src, dst);
    let mut copied = 0u64;
    for _ in 0..MAX_CATCH_UP {
        let end = stat(src)?.size;
        if end < copied {
            return Err(CutError::Changed(path.to_string()));
        }
        if end == copied {
            break;
        }
        c.copy(copied, end)
            .map_err(io_err(format!("copy {path}")))?;
        copied = end;
    }
    dst.sync_data().map_err(io_err("fsync archive"))?;

    // Remove the copied prefix: collapse it (block-aligned, no window for a
    // writer to lose bytes), else truncate once nothing new arrived; copy
    // what came meanwhile. Rotate mode never punches: the live file would
    // keep its apparent size with a hole where the archive's bytes were.
    let blk = block_size(src);
    let mut can = Capable {
        collapse: true,
        punch: false,
    };
    loop {
        let size = stat(src)?.size;
        if size < copied {
            return Err(CutError::Changed(path.to_string()));
        }
        match removal(can, copied, size, blk) {
            Some(Removal::Collapse) => {
                let k = copied / blk * blk;
                let keep = k - c.skipped_below(k);
                // Shorten the archive first: a crash between the two steps
                // then leaves a live file that still starts with the whole
                // archive, which recovery recognises as "not cut yet".
                dst.set_len(keep).map_err(io_err("shorten archive"))?;
                dst.sync_data().map_err(io_err("fsync archive"))?;
                if remove_prefix(src, Removal::Collapse, copied, blk, &mut can, path)? {
                    return Ok(keep);
                }
                copied = k;
                c.forget_above(k);
                let mut d = dst;
                d.seek(SeekFrom::End(0)).map_err(io_err("seek archive"))?;
            }
            Some(Removal::Truncate) => {
                dst.sync_data().map_err(io_err("fsync archive"))?;
                if remove_prefix(src, Removal::Truncate, copied, blk, &mut can, path)? {
                    break;
                }
            }
            Some(Removal::Punch) | None => {
                c.copy(copied, size)
                    .map_err(io_err(format!("copy {path}")))?;
                copied = size;
            }
        }
    }
    let len = safe_dir::fstat(dst).map_err(io_err("stat archive"))?.size;
    Ok(len)
}

/// How a prefix of a live file that is already safe elsewhere (copied into
/// the archive in rotate mode, drained into the mirror in mirror mode)
/// leaves the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// `FALLOC_FL_COLLAPSE_RANGE` of the block-aligned part: the file
    /// shrinks, with no window in which a write could be lost.
    Collapse,
    /// `FALLOC_FL_PUNCH_HOLE` of all of it: offsets and apparent size stay,
    /// no window either (mirror mode only: its tailer keeps its offset).
    Punch,
    /// `ftruncate(0)`, only while the file still ends where the safe prefix
    /// ends (a write between the check and the truncate would be lost).
    Truncate,
}

impl Removal {
    /// As the cut's reason names it.
    pub fn describe(self) -> &'static str {
        match self {
            Removal::Collapse => "collapse-range",
            Removal::Punch => "punch-hole (the file keeps its apparent size)",
            Removal::Truncate => "truncate (nothing was unread)",
        }
    }
}

/// Which removals may be tried: what the mode allows, less what the
/// filesystem refused during this cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capable {
    pub collapse: bool,
    pub punch: bool,
}

/// How to remove the safe prefix `[0, done)` of a file now `size` bytes
/// long on a filesystem of `blk`-byte blocks, best first: collapse the
/// block-aligned part when something is left after it; punch it all out;
/// truncate when nothing is unread. `None`: the writer appended since, so
/// copy (or read) what came and decide again.
pub fn removal(can: Capable, done: u64, size: u64, blk: u64) -> Option<Removal> {
    let blk = blk.max(1);
    let k = done / blk * blk;
    if can.collapse && k > 0 && k < size {
        Some(Removal::Collapse)
    } else if can.punch && done > 0 {
        Some(Removal::Punch)
    } else if size == done {
        Some(Removal::Truncate)
    } else {
        None
    }
}

/// The filesystem block size of `f` (the unit `COLLAPSE_RANGE` needs).
pub fn block_size(f: &File) -> u64 {
    rustix::fs::fstatvfs(f)
        .map(|v| v.f_bsize)
        .unwrap_or(4096)
        .max(1)
}

/// Carries out [`removal`]'s choice on `f`. `Ok(false)`: not done, and
/// nothing removed: the file grew before a truncate, or the filesystem
/// refused the fallocate mode (then `can` no longer offers it).
pub fn remove_prefix(
    f: &File,
    how: Removal,
    done: u64,
    blk: u64,
    can: &mut Capable,
    path: &str,
) -> Result<bool, CutError> {
    let k = done / blk.max(1) * blk.max(1);
    match how {
        Removal::Collapse => match rustix::fs::fallocate(f, FallocateFlags::COLLAPSE_RANGE, 0, k) {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::debug!("collapse range unavailable on {path} ({e})");
                can.collapse = false;
                Ok(false)
            }
        },
        Removal::Punch => match rustix::fs::fallocate(
            f,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            0,
            done,
        ) {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::debug!("punch hole unavailable on {path} ({e})");
                can.punch = false;
                Ok(false)
            }
        },
        Removal::Truncate => {
            let size = safe_dir::fstat(f)
                .map_err(io_err(format!("stat {path}")))?
                .size;
            if size != done {
                return Ok(false);
            }
            f.set_len(0).map_err(io_err(format!("truncate {path}")))?;
            Ok(true)
        }
    }
}

/// Start-up recovery of a copy-truncate interrupted by a crash: for every
/// hidden temp copy of `base` in `dir`, either discard it (the live file still
/// starts with everything it holds: the truncate never happened) or make it
/// the archive (the live file was truncated, so the copy is the only one).
/// Returns the archives made.
pub fn recover(dir: &SafeDir, names: &[String]) -> Vec<(String, Result<Option<Archive>, String>)> {
    let mut out = Vec::new();
    for n in names {
        let Some(plain) = n
            .strip_prefix('.')
            .and_then(|s| s.strip_suffix(archive::TMP_SUFFIX))
        else {
            continue;
        };
        let Some(a) = archive::parse_any(plain) else {
            continue;
        };
        if a.gz {
            continue;
        }
        let r = recover_one(dir, n, &a).map_err(|e| e.to_string());
        out.push((n.clone(), r));
    }
    out
}

fn recover_one(dir: &SafeDir, tmp: &str, a: &Archive) -> io::Result<Option<Archive>> {
    let copy = dir.open_read(tmp)?;
    let live_has_it = match dir.open_read(&a.base) {
        Ok(live) => starts_with_ignoring_nuls(&live, &copy)?,
        Err(_) => false,
    };
    if live_has_it {
        dir.unlink(tmp)?;
        dir.sync()?;
        return Ok(None);
    }
    // The name the copy was meant for, unless it was taken meanwhile.
    let target = if dir.exists(&a.plain_name()) || dir.exists(&a.gz_name()) {
        archive_name(dir, &a.base, &a.label)
    } else {
        a.clone()
    };
    dir.rename_noreplace(tmp, &target.plain_name())?;
    dir.sync()?;
    Ok(Some(target))
}

/// Whether `big`'s bytes, NULs removed, start with `prefix`'s bytes, NULs removed.
fn starts_with_ignoring_nuls(big: &File, prefix: &File) -> io::Result<bool> {
    let mut a = NonNul::new(big);
    let mut b = NonNul::new(prefix);
    loop {
        match (b.next()?, a.next()?) {
            (None, _) => return Ok(true),
            (Some(_), None) => return Ok(false),
            (Some(x), Some(y)) if x != y => return Ok(false),
            _ => {}
        }
    }
}

struct NonNul<'a> {
    r: io::BufReader<&'a File>,
}

impl<'a> NonNul<'a> {
    fn new(f: &'a File) -> NonNul<'a> {
        let mut f2 = f;
        let _ = f2.seek(SeekFrom::Start(0));
        NonNul {
            r: io::BufReader::with_capacity(1 << 16, f),
        }
    }

    fn next(&mut self) -> io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            if self.r.read(&mut b)? == 0 {
                return Ok(None);
            }
            if b[0] != 0 {
                return Ok(Some(b[0]));
            }
        }
    }
}

#[cfg(test)]
mod tests;
