//! The mirror pipeline (`mode = "mirror"`): every live file of a source is
//! tailed, each line redacted and appended to its mirror in `output_dir`,
//! which the shipper reads. Exactly once, through rotation, restart and a
//! full disk:
//!
//! * Mirror writes carry only complete lines. A failed or short write is cut
//!   back at once, the inputs rewind to what the mirror holds, and reading
//!   stops until a retry succeeds (backpressure: nothing is skipped).
//! * The [`checkpoint`] is saved only after the mirrors were fsynced; at
//!   start every mirror is cut back to its checkpointed length and every
//!   input resumes at its checkpointed offset.
//! * Before a cut the input is drained to its end. rename: the old inode
//!   keeps being read until its writer closes it (or `writer_grace` passes),
//!   then the raw file is discarded (or kept for `raw_max_age`).
//!   copy-truncate: only bytes already in the mirror are removed — a
//!   block-aligned `COLLAPSE_RANGE`; where that is unsupported (tmpfs,
//!   btrfs) a `PUNCH_HOLE` (offsets unchanged, the apparent size stays);
//!   else `ftruncate` when nothing is unread — with the removal recorded in
//!   the checkpoint beforehand so a crash between the two is resolved by
//!   fingerprint.
//! * The mirror itself is cut by rename at the same time, with the same
//!   label; the housekeeper compresses and retains it by the source's policy.
//!
//! This file holds the types and the pipeline's life (new, lag, wake-ups,
//! shutdown); the steps of the data flow have a file each: `open` (find
//! inputs) → `pump` (read, redact, append) → `writer` (mirror files, the
//! descriptor cap) → `syncer` (fsync, checkpoint, segment records); and
//! around a cut, `cut` → `finish` (renamed inputs still written to),
//! with `recover` after a crash.

pub mod checkpoint;
mod cut;
mod finish;
pub mod history;
mod open;
mod pump;
mod recover;
mod syncer;
mod writer;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::config::{Config, Mode, Source};
use crate::ingest::discover;
use crate::ingest::tail::{Fingerprint, Identity, Line, Tailer, FINGERPRINT_LEN};
use crate::journal::{Record, SharedJournal};
use crate::policy::archive::{self, Archive};
use crate::redact::{self, Carry, Counts, Redactor};
use crate::rotation::rotate::{self, CutError, Finish, RenameFailed, Strategy};
use crate::sys::holders::Holders;
use crate::sys::safe_dir::{self, Meta, SafeDir};
use checkpoint::{Checkpoint, InputCk, MirrorCk, Shift, SourceCk};
use recover::{recover_input, recover_mirror};
use writer::create_mirror;

/// One input's lag behind its file (from the running pipeline).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileLag {
    pub source: String,
    /// Its name now (an archive name while a renamed file drains).
    pub file: String,
    /// The live file (and mirror) it belongs to.
    pub base: String,
    pub size: u64,
    pub offset: u64,
    pub lag_bytes: u64,
    pub lag_seconds: f64,
}

/// Checkpoints are saved at most this often while lines flow...
pub const SYNC_INTERVAL: Duration = Duration::from_millis(250);
/// ...or after this many unsynced mirror bytes.
pub const SYNC_BYTES: u64 = 4 << 20;
/// How often `segment` records bind the mirrors' bytes while lines flow
/// (also at every mirror cut and at shutdown).
pub const SEGMENT_INTERVAL: Duration = Duration::from_secs(10);
/// How often a failed mirror write is retried, and renamed files re-checked.
pub const RETRY: Duration = Duration::from_secs(1);
/// The reason journaled with every cut of a mirror (which the daemon owns,
/// so renames without asking anyone).
pub const MIRROR_CUT_REASON: &str = "the daemon owns the mirror";
/// Appended to a line flushed without its newline.
pub const NO_NEWLINE_MARKER: &[u8] = b" [logwarden: no newline]";

/// Where a source's mirrors go when `output_dir` is not set.
pub fn output_dir(cfg: &Config, src: &Source) -> PathBuf {
    src.output_dir
        .clone()
        .unwrap_or_else(|| cfg.state_dir.join("mirror").join(&src.name))
}

/// The inodes the checkpoint still needs (inputs being read, mirrors): the
/// housekeeper must not compress or delete them.
pub fn pinned(state_dir: &Path) -> HashSet<(u64, u64)> {
    let (ck, _) = Checkpoint::load_readonly(state_dir);
    let mut set = HashSet::new();
    for s in ck.sources.values() {
        set.extend(s.inputs.iter().map(|i| (i.dev, i.ino)));
        set.extend(s.mirrors.values().map(|m| (m.dev, m.ino)));
    }
    set
}

/// At most this many mirror files are kept open: the least recently written
/// are closed once durable and reopened (by name, identity checked) when a
/// line comes. Ten thousand logs must not need twenty thousand descriptors.
const MAX_OPEN_MIRRORS: usize = 1024;

struct Mirror {
    /// Shared with the syncer thread, which fsyncs it; `None` while closed
    /// (see [`MAX_OPEN_MIRRORS`]).
    file: Option<Arc<File>>,
    last_write: Instant,
    id: Identity,
    len: u64,
    synced: u64,
    /// `len` when the syncer was last asked to hash, and to journal, it.
    seg_at: u64,
    emitted: u64,
}

/// A checkpoint to make durable: fsync these mirrors, then save it, then
/// journal the segment records (which describe only durable bytes).
struct SyncJob {
    files: Vec<Arc<File>>,
    ck: Checkpoint,
    segments: Vec<SegmentReq>,
    done: Option<std::sync::mpsc::SyncSender<std::io::Result<()>>>,
}

/// The thread that fsyncs mirrors and saves checkpoints, so the readers
/// never wait on the disk. Jobs run in order, so a later checkpoint is never
/// overwritten by an earlier one; a synchronous save waits for its turn.
struct Syncer {
    tx: Option<std::sync::mpsc::Sender<SyncJob>>,
    busy: Arc<AtomicBool>,
    /// Set when a mirror's fsync failed. Its bytes since the last saved
    /// checkpoint can then not be trusted to be on disk (after a failed
    /// fsync the kernel may drop the dirty pages and a later fsync
    /// succeed), so the pipeline is rebuilt from that checkpoint
    /// ([`Pipeline::sync_failed`]), as after a crash.
    failed: Arc<AtomicBool>,
    /// Set when a checkpoint was not saved (the mirrors were durable): the
    /// next save must be tried even if nothing new was read.
    unsaved: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

/// A `segment` record to make: the mirror's bytes `[0, len)` once durable.
struct SegmentReq {
    file: Option<Arc<File>>,
    id: Identity,
    source: String,
    path: PathBuf,
    len: u64,
    /// Journal the record (else only advance the hash: the work is spread
    /// over every save instead of a burst per record).
    emit: bool,
    /// The mirror is being cut: forget its hash state afterwards.
    last: bool,
}

/// The rolling SHA-256 of one mirror, kept by the syncer thread (which reads
/// the durable bytes back from the page cache, off the readers' thread).
struct Rolling {
    sha: Sha256,
    at: u64,
    lines: u64,
    /// Where the last journaled segment ended: bytes, lines.
    emitted: Option<(u64, u64)>,
}

struct Input {
    base: String,
    t: Tailer,
    draining_since: Option<DateTime<Utc>>,
    /// A renamed input still written to: when its writers are next asked
    /// to reopen (and the failure journaled).
    nag: Option<Nag>,
    /// The redactor's state at `t.committed` (an open private-key block).
    carry: Carry,
    shift: Option<Shift>,
    /// Since when it has had bytes not yet in the mirror (seen by `lag`).
    behind_since: Option<Instant>,
}

/// When a renamed input was renamed (wall clock, whole seconds, as mtimes
/// are compared) and when its writers are next asked to reopen.
#[derive(Debug, Clone, Copy)]
struct Nag {
    renamed_at: i64,
    next: Instant,
}

struct Pipe {
    src: Source,
    dir: SafeDir,
    out: SafeDir,
    inputs: Vec<Input>,
    mirrors: BTreeMap<String, Mirror>,
}

/// A source that could not be opened; its checkpoint is carried over as is.
struct Parked {
    src: Source,
    out: PathBuf,
    ck: SourceCk,
}

/// All mirror-mode sources of a config.
pub struct Pipeline {
    redactor: Redactor,
    max_line: u64,
    /// Appended to a line cut at `max_line` bytes.
    cut_marker: Vec<u8>,
    journal: SharedJournal,
    pipes: BTreeMap<String, Pipe>,
    parked: BTreeMap<String, Parked>,
    /// Redactions since the last summary.
    pub counts: Counts,
    dirty: bool,
    unsynced: u64,
    last_sync: Instant,
    blocked: Option<(String, Instant)>,
    reported: HashSet<String>,
    out: Vec<u8>,
    /// When renamed inputs were last checked for writers (a /proc scan).
    drain_checked: Option<Instant>,
    syncer: Syncer,
    /// The last pump stopped at its read budget: run again at once.
    backlog: bool,
    /// Segment records: when the last were made; make them at the next save.
    last_segment: Instant,
    segment_now: bool,
    /// The mirror being cut, as (source, base): its segment is its last.
    cutting: Option<(String, String)>,
    /// Mirrors created but not yet in a saved checkpoint, as (source, base):
    /// written to only once [`Pipeline::announce`] saved them.
    unannounced: HashSet<(String, String)>,
    /// Mirror files opened since the last save (see [`MAX_OPEN_MIRRORS`]).
    opened: usize,
}

/// What a mirror-mode cut did.
#[derive(Debug)]
pub struct MirrorCut {
    pub strategy: Strategy,
    pub reason: String,
    /// Raw bytes cut (renamed, or removed from the live file).
    pub bytes: u64,
    /// The raw archive kept for `raw_max_age` (or renamed and draining).
    pub raw: Option<Archive>,
    /// The mirror's archive, if the mirror had anything to cut.
    pub mirror: Option<PathBuf>,
    /// What the reopen hook did after the rename (`None`: not fired).
    pub reopen: Option<Result<String, String>>,
}

/// What [`Pipeline::pump`] left to do.
#[derive(Debug, Default)]
pub struct Pumped {
    pub lines: u64,
    /// Some input has more to read right away.
    pub more: bool,
}

impl Pipeline {
    /// Open every mirror-mode source and recover from the checkpoint.
    pub fn new(cfg: &Config, jr: SharedJournal, now: DateTime<Utc>) -> anyhow::Result<Pipeline> {
        let salt = redact::load_or_create_salt(&cfg.state_dir)?;
        let jr_for_syncer = Arc::clone(&jr);
        let (ck, warning) = Checkpoint::load(&cfg.state_dir);
        if let Some(w) = warning {
            crate::journal::append(
                &jr,
                Record::failed(now, "checkpoint.recover", w).resource(&cfg.state_dir, None, None),
            );
        }
        let mut p = Pipeline {
            redactor: Redactor::new(&cfg.redact, salt),
            max_line: cfg.redact.max_line_bytes,
            cut_marker: redact::cut_marker(cfg.redact.max_line_bytes),
            journal: jr,
            pipes: BTreeMap::new(),
            parked: BTreeMap::new(),
            counts: Counts::default(),
            dirty: false,
            unsynced: 0,
            last_sync: Instant::now(),
            blocked: None,
            reported: HashSet::new(),
            out: Vec::new(),
            drain_checked: None,
            syncer: Syncer::start(cfg.state_dir.clone(), Arc::clone(&jr_for_syncer))?,
            backlog: false,
            last_segment: Instant::now(),
            segment_now: false,
            cutting: None,
            unannounced: HashSet::new(),
            opened: 0,
        };
        let mut ck = ck;
        for src in cfg.sources.iter().filter(|s| s.policy.mode == Mode::Mirror) {
            let sck = ck.sources.remove(&src.name).unwrap_or_default();
            p.parked.insert(
                src.name.clone(),
                Parked {
                    src: src.clone(),
                    out: output_dir(cfg, src),
                    ck: sck,
                },
            );
        }
        p.discover(now);
        p.save().map_err(|e| {
            anyhow::anyhow!(
                "cannot save the tail checkpoint in {}: {e}",
                cfg.state_dir.display()
            )
        })?;
        Ok(p)
    }

    fn report_once(&mut self, key: String, r: Record) {
        if self.reported.insert(key) {
            crate::journal::append(&self.journal, r);
        }
    }

    /// Whether this pipeline tails `source`.
    pub fn has(&self, source: &str) -> bool {
        self.pipes.contains_key(source)
    }

    /// Every input's lag behind its file: what `status` and the metrics show.
    pub fn lag(&mut self) -> Vec<FileLag> {
        let mut v = Vec::new();
        for (name, pipe) in &mut self.pipes {
            for input in &mut pipe.inputs {
                let size = input.t.size().unwrap_or(input.t.committed);
                let lag = size.saturating_sub(input.t.committed);
                let since = if lag > 0 {
                    *input.behind_since.get_or_insert_with(Instant::now)
                } else {
                    input.behind_since = None;
                    Instant::now()
                };
                v.push(FileLag {
                    source: name.clone(),
                    file: input.t.name.clone(),
                    base: input.base.clone(),
                    size,
                    offset: input.t.committed,
                    lag_bytes: lag,
                    lag_seconds: if lag > 0 {
                        since.elapsed().as_secs_f64()
                    } else {
                        0.0
                    },
                });
            }
        }
        v
    }

    /// When the pipeline next needs to run without being woken.
    pub fn next_wake(&self) -> Option<Instant> {
        let mut at: Option<Instant> = None;
        let mut min = |t: Instant| at = Some(at.map_or(t, |a| a.min(t)));
        if self.backlog {
            min(Instant::now());
        }
        if self.dirty {
            min(self.last_sync + SYNC_INTERVAL);
        }
        if let Some((_, b)) = &self.blocked {
            min(*b + RETRY);
        }
        for pipe in self.pipes.values() {
            for i in &pipe.inputs {
                if let Some(s) = i.t.partial_since {
                    min(s + pipe.src.partial_timeout);
                }
                if i.draining_since.is_some() {
                    min(Instant::now() + RETRY);
                }
            }
        }
        at
    }

    /// Journal the redaction counts since the last summary, and reset them.
    pub fn summarize(&mut self, now: DateTime<Utc>) {
        let c = std::mem::take(&mut self.counts);
        if c.lines == 0 {
            return;
        }
        let keys: Vec<String> = c.by_key.iter().map(|(k, n)| format!("{k}={n}")).collect();
        let mut r = Record::ok(now, "redaction.summary").new_value(format!(
            "{} line(s), {} redacted, {} cut for length; {}",
            c.lines,
            c.redacted_lines,
            c.cut_lines,
            if keys.is_empty() {
                "no secrets".to_string()
            } else {
                keys.join(" ")
            }
        ));
        r.reason = Some("counts since the previous summary".into());
        crate::journal::append(&self.journal, r);
    }

    /// Whether a sync failed: the caller drops this pipeline (saving
    /// nothing) and opens a new one from the last saved checkpoint, which
    /// cuts the mirrors back to what is known to be on disk and re-reads
    /// the inputs from there.
    pub fn sync_failed(&self) -> bool {
        self.syncer.failed.load(AtomicOrdering::SeqCst)
    }

    /// The state dir was removed and re-created under us: write the whole
    /// checkpoint again at the next save (the mirrors themselves live in
    /// `output_dir` and carry on).
    pub fn state_lost(&mut self) {
        self.dirty = true;
    }

    /// Flush everything and save (graceful stop, reload).
    pub fn shutdown(&mut self, now: DateTime<Utc>) {
        let _ = self.pump(now);
        // Renamed files whose writers already let go are finished now, so a
        // stop does not leave drained raw files behind.
        self.finish_drained_now(now);
        self.summarize(now);
        self.segment_now = true;
        self.dirty = true;
        if let Err(e) = self.save() {
            tracing::error!("cannot save the tail checkpoint: {e}");
        }
    }
}

use std::os::unix::fs::DirBuilderExt;

/// Shared with the config reload: a fresh pipeline for a new config keeps
/// every position, because it starts from the checkpoint just saved.
pub fn reopen(
    old: Option<Pipeline>,
    cfg: &Arc<Config>,
    jr: SharedJournal,
    now: DateTime<Utc>,
) -> Option<Pipeline> {
    if let Some(mut p) = old {
        p.shutdown(now);
    }
    if !cfg.has_mirror_sources() {
        return None;
    }
    match Pipeline::new(cfg, jr.clone(), now) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!("{e:#}");
            crate::journal::append(&jr, Record::failed(now, "error", format!("{e:#}")));
            None
        }
    }
}

#[cfg(test)]
mod tests;
