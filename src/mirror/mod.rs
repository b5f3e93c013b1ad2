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

pub mod checkpoint;
pub mod history;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustix::fs::FallocateFlags;
use sha2::{Digest, Sha256};

use crate::archive::{self, Archive};
use crate::config::{Config, Mode, Source};
use crate::discover;
use crate::holders::Holders;
use crate::journal::{Record, SharedJournal};
use crate::redact::{self, Carry, Counts, Redactor};
use crate::rotate::{self, CutError, Finish, RenameFailed, Strategy};
use crate::safe_dir::{self, Meta, SafeDir};
use crate::tail::{Fingerprint, Identity, Line, Tailer, FINGERPRINT_LEN};
use checkpoint::{Checkpoint, InputCk, MirrorCk, Shift, SourceCk};

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

impl Syncer {
    fn start(state_dir: PathBuf, jr: SharedJournal) -> std::io::Result<Syncer> {
        let (tx, rx) = std::sync::mpsc::channel::<SyncJob>();
        let busy = Arc::new(AtomicBool::new(false));
        let b = Arc::clone(&busy);
        let failed = Arc::new(AtomicBool::new(false));
        let failed_flag = Arc::clone(&failed);
        let unsaved = Arc::new(AtomicBool::new(false));
        let unsaved_flag = Arc::clone(&unsaved);
        let handle = std::thread::Builder::new()
            .name("syncer".into())
            .spawn(move || {
                let mut rolling = std::collections::HashMap::new();
                for job in rx {
                    let r = (|| {
                        for f in &job.files {
                            if let Err(e) = f.sync_data() {
                                failed_flag.store(true, AtomicOrdering::SeqCst);
                                return Err(e);
                            }
                        }
                        crate::crash::point("mirror.synced");
                        job.ck.save(&state_dir)
                    })();
                    if r.is_ok() {
                        let mut records = Vec::new();
                        for req in &job.segments {
                            match segment_record(&mut rolling, req) {
                                Ok(Some(rec)) => records.push(rec),
                                Ok(None) => {}
                                Err(e) => tracing::error!(
                                    "cannot hash mirror {}: {e}",
                                    req.path.display()
                                ),
                            }
                            if req.last {
                                rolling.remove(&req.id);
                            }
                        }
                        // One fsync for the lot.
                        if !records.is_empty() {
                            match jr.lock() {
                                Ok(mut g) => g.record_all(records),
                                Err(p) => p.into_inner().record_all(records),
                            }
                        }
                    }
                    if r.is_err() {
                        unsaved_flag.store(true, AtomicOrdering::SeqCst);
                    }
                    b.store(false, AtomicOrdering::SeqCst);
                    match job.done {
                        Some(done) => {
                            let _ = done.send(r);
                        }
                        None => {
                            if let Err(e) = r {
                                tracing::error!("cannot save the tail checkpoint: {e}");
                            }
                        }
                    }
                }
            })?;
        Ok(Syncer {
            tx: Some(tx),
            busy,
            failed,
            unsaved,
            handle: Some(handle),
        })
    }

    fn send(&self, job: SyncJob) -> std::io::Result<()> {
        self.busy.store(true, AtomicOrdering::SeqCst);
        self.tx
            .as_ref()
            .and_then(|tx| tx.send(job).ok())
            .ok_or_else(|| std::io::Error::other("the syncer thread is gone"))
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Mirror {
    /// Append complete lines. On any failure the file is cut back to its
    /// old length, so a shipper never sees half a line.
    fn append(&mut self, out: &SafeDir, base: &str, bytes: &[u8]) -> std::io::Result<()> {
        let file = self.handle(out, base)?;
        self.last_write = Instant::now();
        let mut done = 0;
        while done < bytes.len() {
            match file.write_at(&bytes[done..], self.len + done as u64) {
                Ok(0) => {
                    let _ = file.set_len(self.len);
                    return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = file.set_len(self.len);
                    return Err(e);
                }
            }
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The open file, reopened by name if it was closed; it must still be
    /// the same inode (a mirror replaced behind our back is not written).
    fn handle(&mut self, out: &SafeDir, base: &str) -> std::io::Result<Arc<File>> {
        if let Some(f) = &self.file {
            return Ok(Arc::clone(f));
        }
        let f = out.open_rw(base)?;
        if Identity::from(&safe_dir::fstat(&f)?) != self.id {
            return Err(std::io::Error::other(format!(
                "mirror {} was replaced by another file",
                out.join(base).display()
            )));
        }
        let f = Arc::new(f);
        self.file = Some(Arc::clone(&f));
        Ok(f)
    }

    /// A mirror opened at `len`.
    fn adopt(file: File, id: Identity, len: u64) -> std::io::Result<Mirror> {
        Ok(Mirror {
            file: Some(Arc::new(file)),
            last_write: Instant::now(),
            id,
            len,
            synced: len,
            seg_at: 0,
            emitted: 0,
        })
    }
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

/// Hash `file` from where `r` stopped up to `len`; the record, if asked for.
fn segment_record(
    rolling: &mut std::collections::HashMap<Identity, Rolling>,
    req: &SegmentReq,
) -> std::io::Result<Option<Record>> {
    let fresh = || Rolling {
        sha: Sha256::new(),
        at: 0,
        lines: 0,
        emitted: None,
    };
    let r = rolling.entry(req.id).or_insert_with(fresh);
    if r.at > req.len {
        *r = fresh();
    }
    let mut buf = vec![0u8; 1 << 20];
    while r.at < req.len {
        let want = buf.len().min((req.len - r.at) as usize);
        let Some(file) = &req.file else {
            return Err(std::io::Error::other(
                "the mirror could not be opened to hash it",
            ));
        };
        let n = file.read_at(&mut buf[..want], r.at)?;
        if n == 0 {
            return Err(std::io::Error::other("the mirror is shorter than written"));
        }
        r.sha.update(&buf[..n]);
        r.lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        r.at += n as u64;
    }
    if !req.emit {
        return Ok(None);
    }
    let (from, from_line) = r.emitted.replace((req.len, r.lines)).unwrap_or((0, 0));
    Ok(Some(
        Record::ok(Utc::now(), "segment")
            .source(&req.source)
            .resource(&req.path, Some(req.id.ino), Some(req.len))
            .new_value(format!(
                "lines {}..{}, bytes {from}..{}",
                from_line + 1,
                r.lines,
                req.len
            ))
            .hashes(Some(crate::digest::hex(&r.sha.clone().finalize())), None),
    ))
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

impl Nag {
    fn now() -> Nag {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Nag {
            renamed_at: secs,
            next: Instant::now() + RETRY,
        }
    }
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

/// How copy-truncate removes a drained prefix in mirror mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Collapse,
    Punch,
    Truncate,
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

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CutError {
    let what = what.into();
    move |source| CutError::Io { what, source }
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

    /// Open the sources that are not open yet (at start, and at every
    /// rescan: a source directory may appear later, or be fixed).
    fn unpark(&mut self, now: DateTime<Utc>) {
        let names: Vec<String> = self.parked.keys().cloned().collect();
        for name in names {
            let Some(p) = self.parked.remove(&name) else {
                continue;
            };
            match self.open_pipe(&p.src, &p.out, &p.ck, now) {
                Ok(pipe) => {
                    self.reported.remove(&format!("open:{name}"));
                    self.pipes.insert(name, pipe);
                    self.dirty = true;
                }
                Err(e) => {
                    self.report_once(
                        format!("open:{name}"),
                        Record::failed(now, "error", e)
                            .source(&name)
                            .resource(&p.src.dir, None, None),
                    );
                    self.parked.insert(name, p);
                }
            }
        }
    }

    fn open_pipe(
        &mut self,
        src: &Source,
        out_path: &Path,
        sck: &SourceCk,
        now: DateTime<Utc>,
    ) -> Result<Pipe, String> {
        let dir = discover::open(src).map_err(|e| e.to_string())?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(out_path)
            .map_err(|e| format!("cannot create output_dir {}: {e}", out_path.display()))?;
        let out = SafeDir::open(out_path)
            .map_err(|e| format!("cannot open output_dir {}: {e}", out_path.display()))?;
        let mut pipe = Pipe {
            src: src.clone(),
            dir,
            out,
            inputs: Vec::new(),
            mirrors: BTreeMap::new(),
        };
        for (base, mck) in &sck.mirrors {
            match recover_mirror(&pipe.out, base, mck) {
                Ok((Some(m), _)) => {
                    pipe.mirrors.insert(base.clone(), m);
                }
                Ok((None, Some(archived))) => {
                    // Its rename is journaled now, so `verify` follows it.
                    let mut r = Record::ok(now, "rotate")
                        .source(&src.name)
                        .resource(&pipe.out.join(base), Some(mck.ino), Some(mck.len))
                        .old(pipe.out.join(base).display())
                        .new_value(pipe.out.join(&archived).display())
                        .strategy("rename", MIRROR_CUT_REASON);
                    r.reason = Some(
                        "found cut at start: a crash came between the mirror's rename and its record"
                            .into(),
                    );
                    crate::journal::append(&self.journal, r);
                }
                Ok((None, None)) => {}
                Err(e) => {
                    return Err(format!(
                        "cannot recover mirror {}: {e}",
                        pipe.out.join(base).display()
                    ))
                }
            }
        }
        for ick in &sck.inputs {
            match recover_input(&pipe.dir, ick, self.max_line) {
                Ok(Some((input, note))) => {
                    if let Some(note) = note {
                        crate::journal::append(
                            &self.journal,
                            Record::failed(now, "tail.reset", note)
                                .source(&src.name)
                                .resource(&pipe.dir.join(&input.t.name), Some(ick.ino), None),
                        );
                    }
                    pipe.inputs.push(input);
                }
                Ok(None) => {
                    if ick.draining_since.is_none() {
                        crate::journal::append(
                            &self.journal,
                            Record::failed(
                                now,
                                "tail.gone",
                                format!(
                                    "{} disappeared while logwarden was down; lines after offset {} were not mirrored",
                                    ick.name, ick.offset
                                ),
                            )
                            .source(&src.name)
                            .resource(&pipe.dir.join(&ick.name), Some(ick.ino), None),
                        );
                    }
                }
                Err(e) => return Err(format!("cannot reopen {}: {e}", ick.name)),
            }
        }
        // A renamed file still draining: the crash may have come between
        // the rename and the reopen hook, leaving its writer writing to the
        // renamed file for good. Asking its writers again to reopen is
        // harmless (and only they are asked).
        if let Some(hook) = &src.reopen {
            let draining: HashSet<(u64, u64)> = pipe
                .inputs
                .iter()
                .filter(|i| i.draining_since.is_some())
                .map(|i| (i.t.id.dev, i.t.id.ino))
                .collect();
            let holders = Holders::scan(&draining);
            for input in pipe.inputs.iter().filter(|i| i.draining_since.is_some()) {
                let writers = holders.writers_of(input.t.id.dev, input.t.id.ino);
                let path = pipe.dir.join(&input.t.name);
                let check = crate::reopen::Check::gather(hook, &path, writers);
                let failed = match (check.fire(), &check.verdict) {
                    (Some(Err(e)), _) => Some(e),
                    (None, crate::reopen::Verdict::Unusable(why)) if !writers.is_empty() => {
                        Some(why.clone())
                    }
                    _ => None,
                };
                if let Some(e) = failed {
                    crate::journal::append(
                        &self.journal,
                        Record::failed(now, "reopen", e).source(&src.name).resource(
                            &path,
                            Some(input.t.id.ino),
                            None,
                        ),
                    );
                }
            }
        }
        Ok(pipe)
    }

    /// Start tailing live files that appeared; files replaced under their
    /// name keep draining under the old inode.
    pub fn discover(&mut self, now: DateTime<Utc>) {
        if !self.parked.is_empty() {
            self.unpark(now);
        }
        let max_line = self.max_line;
        let mut problems = Vec::new();
        for pipe in self.pipes.values_mut() {
            // The source directory removed and re-created: read the new one
            // (the old one's open files keep draining through their fds).
            if let (Ok(now_there), Ok(held)) = (std::fs::metadata(&pipe.src.dir), pipe.dir.meta()) {
                use std::os::unix::fs::MetadataExt;
                if (now_there.dev(), now_there.ino()) != (held.dev, held.ino) {
                    match discover::open(&pipe.src) {
                        Ok(d) => {
                            tracing::warn!(
                                "source {}: {} was replaced by a new directory; reading that one",
                                pipe.src.name,
                                pipe.src.dir.display()
                            );
                            pipe.dir = d;
                        }
                        Err(e) => {
                            problems.push((pipe.src.name.clone(), e.to_string()));
                            continue;
                        }
                    }
                }
            }
            let found = match discover::scan(&pipe.dir, &pipe.src) {
                Ok(f) => f,
                Err(e) => {
                    problems.push((pipe.src.name.clone(), format!("cannot list: {e}")));
                    continue;
                }
            };
            let live: BTreeMap<&str, &Meta> =
                found.live.iter().map(|(n, m)| (n.as_str(), m)).collect();
            for input in &mut pipe.inputs {
                if input.draining_since.is_some() {
                    continue;
                }
                let still = live
                    .get(input.t.name.as_str())
                    .is_some_and(|m| Identity::from(*m) == input.t.id);
                if !still {
                    input.draining_since = Some(now);
                    self.dirty = true;
                }
            }
            let known: HashSet<Identity> = pipe.inputs.iter().map(|i| i.t.id).collect();
            for (name, meta) in &found.live {
                let id = Identity::from(meta);
                if known.contains(&id) {
                    continue;
                }
                match pipe.dir.open_read(name) {
                    Ok(f) if safe_dir::fstat(&f).is_ok_and(|m| Identity::from(&m) == id) => {
                        match Tailer::new(f, name.clone(), 0, max_line) {
                            Ok(t) => {
                                // A private key block open in the file this
                                // one replaces (renamed mid-block) goes on
                                // here: keep masking (fail closed).
                                let carry = pipe
                                    .inputs
                                    .iter()
                                    .filter(|i| i.base == *name && i.draining_since.is_some())
                                    .map(|i| i.carry)
                                    .find(|c| c.pem_lines > 0)
                                    .unwrap_or_default();
                                pipe.inputs.push(Input {
                                    base: name.clone(),
                                    t,
                                    draining_since: None,
                                    nag: None,
                                    carry,
                                    shift: None,
                                    behind_since: None,
                                });
                                self.dirty = true;
                            }
                            Err(e) => {
                                problems.push((pipe.src.name.clone(), format!("{name}: {e}")))
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        problems.push((pipe.src.name.clone(), format!("cannot open {name}: {e}")))
                    }
                }
            }
        }
        for (src, msg) in problems {
            self.report_once(
                format!("discover:{src}:{msg}"),
                Record::failed(now, "error", msg).source(&src),
            );
        }
    }

    /// Whether this pipeline tails `source`.
    pub fn has(&self, source: &str) -> bool {
        self.pipes.contains_key(source)
    }

    /// Read what was appended to every input, redact, append to the mirrors.
    pub fn pump(&mut self, now: DateTime<Utc>) -> Pumped {
        let mut total = Pumped::default();
        if let Some((_, at)) = &self.blocked {
            if at.elapsed() < RETRY {
                return total;
            }
        }
        let names: Vec<String> = self.pipes.keys().cloned().collect();
        for name in names {
            let n = self.pipes.get(&name).map_or(0, |p| p.inputs.len());
            for i in 0..n {
                if self.opened >= MAX_OPEN_MIRRORS / 2 {
                    // Many mirrors opened since the last save: make them
                    // durable so the idle ones can be closed.
                    self.opened = 0;
                    if let Err(e) = self.save() {
                        self.block(&name, e, now);
                        return total;
                    }
                }
                match self.pump_input(&name, i, false) {
                    Ok(p) => {
                        total.lines += p.lines;
                        total.more |= p.more;
                    }
                    Err(e) => {
                        self.block(&name, e, now);
                        return total;
                    }
                }
            }
        }
        if let Err(e) = self.announce() {
            let name = self
                .unannounced
                .iter()
                .next()
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            self.block(&name, e, now);
            return total;
        }
        self.backlog = total.more;
        if self.blocked.take().is_some() {
            tracing::info!("mirror writes succeed again; the pipeline resumed");
            crate::journal::append(
                &self.journal,
                Record::ok(now, "mirror.resume").new_value("mirror writes succeed again"),
            );
            self.reported.retain(|k| !k.starts_with("blocked:"));
        }
        total
    }

    fn block(&mut self, source: &str, e: std::io::Error, now: DateTime<Utc>) {
        let msg = format!(
            "cannot write the mirror ({e}); reading is paused and nothing is skipped; it resumes by itself when the mirror can be written"
        );
        if self.blocked.is_none() {
            tracing::error!("source {source}: {msg}");
        }
        self.blocked = Some((msg.clone(), Instant::now()));
        self.report_once(
            format!("blocked:{source}"),
            Record::failed(now, "mirror.write", msg).source(source),
        );
    }

    /// Pump one input into its mirror (`flush`: also emit its partial line).
    fn pump_input(&mut self, source: &str, i: usize, flush: bool) -> std::io::Result<Pumped> {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return Ok(Pumped::default());
        };
        let redactor = &self.redactor;
        // Counted here and added only once the lines are in the mirror: lines
        // that are read again (no mirror yet, a failed write) count once.
        let mut counts = Counts::default();
        let cut_marker = &self.cut_marker;
        let out = &mut self.out;
        out.clear();
        let input = &mut pipe.inputs[i];
        let mut last_end = None;
        // The stream state moves on with the lines, and is kept only once
        // they are in the mirror (a rewind reads them again from `carry`).
        let mut carry = input.carry;
        let mut emit = |l: Line<'_>| {
            redactor.redact_carry(&mut carry, l.bytes, out, &mut counts);
            if l.cut {
                out.extend_from_slice(cut_marker);
                counts.cut_lines += 1;
            }
            if l.unterminated {
                out.extend_from_slice(NO_NEWLINE_MARKER);
            }
            out.push(b'\n');
            last_end = Some(l.end);
        };
        let pumped = input.t.pump(&mut emit)?;
        if pumped.truncated {
            tracing::warn!(
                "{} was truncated by another program; reading it again from the start",
                pipe.dir.join(&input.t.name).display()
            );
        }
        let timed_out = input
            .t
            .partial_since
            .is_some_and(|s| s.elapsed() >= pipe.src.partial_timeout);
        if (flush || timed_out) && !pumped.more {
            input.t.flush(&mut emit);
        }
        let mut result = Pumped {
            lines: pumped.lines,
            more: pumped.more,
        };
        let Some(end) = last_end else {
            return Ok(result);
        };
        let Some(mirror) = pipe.mirrors.get_mut(&input.base) else {
            // No mirror yet (first lines, or just cut): create it and make it
            // part of the checkpoint before anything is written to it, so a
            // crash can never leave lines in a mirror the checkpoint does not know.
            input.t.rewind();
            let perm = safe_dir::fstat(&input.t.file).map_or(0o640, |m| m.perm() & 0o666);
            let mut m =
                create_mirror(&pipe.out, &input.base, perm, pipe.src.output_owner.as_ref())?;
            // Reopened at its first write: nothing is written before it is
            // announced, and thousands may be created in one pump.
            m.file = None;
            pipe.mirrors.insert(input.base.clone(), m);
            // One save announces every mirror created in this pump (ten
            // thousand new files must not cost ten thousand fsyncs).
            self.unannounced
                .insert((source.to_string(), input.base.clone()));
            self.dirty = true;
            result.more = true;
            return Ok(result);
        };
        if !self.unannounced.is_empty()
            && self
                .unannounced
                .contains(&(source.to_string(), input.base.clone()))
        {
            // Not in a durable checkpoint yet: nothing may be written to it.
            input.t.rewind();
            result.more = true;
            return Ok(result);
        }
        if mirror.file.is_none() {
            self.opened += 1;
        }
        match mirror.append(&pipe.out, &input.base, out) {
            Ok(()) => {
                let read = end.saturating_sub(input.t.committed);
                input.t.commit(end);
                input.carry = carry;
                let m = crate::metrics::global();
                m.lines_read
                    .with_label_values(&[source])
                    .inc_by(counts.lines);
                m.bytes_read.with_label_values(&[source]).inc_by(read);
                m.lines_written
                    .with_label_values(&[source])
                    .inc_by(counts.lines);
                m.bytes_written
                    .with_label_values(&[source])
                    .inc_by(out.len() as u64);
                m.lines_cut
                    .with_label_values(&[source])
                    .inc_by(counts.cut_lines);
                m.redacted(source, chrono::Local::now().date_naive(), &counts.by_key);
                self.counts.add(&counts);
                self.unsynced += out.len() as u64;
                self.dirty = true;
                result.lines = result.lines.max(1);
                Ok(result)
            }
            Err(e) => {
                input.t.rewind();
                Err(e)
            }
        }
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

    /// fsync the mirrors and save the checkpoint if due (or `force`).
    pub fn maybe_sync(&mut self, force: bool) -> std::io::Result<()> {
        if self.syncer.unsaved.swap(false, AtomicOrdering::SeqCst) {
            self.dirty = true;
        }
        if !self.dirty {
            return Ok(());
        }
        if force {
            return self.save();
        }
        let due = self.unsynced >= SYNC_BYTES || self.last_sync.elapsed() >= SYNC_INTERVAL;
        if !due || self.syncer.busy.load(AtomicOrdering::SeqCst) {
            return Ok(());
        }
        // In the background: the readers go on while the disk syncs.
        let (files, ck, segments) = self.snapshot();
        self.close_idle_mirrors();
        self.syncer.send(SyncJob {
            files,
            ck,
            segments,
            done: None,
        })
    }

    /// The checkpoint as of now, and the mirrors to fsync before saving it.
    fn snapshot(&mut self) -> (Vec<Arc<File>>, Checkpoint, Vec<SegmentReq>) {
        let mut ck = Checkpoint::default();
        let mut files = Vec::new();
        let mut segments = Vec::new();
        let seg_due = self.segment_now || self.last_segment.elapsed() >= SEGMENT_INTERVAL;
        for (name, pipe) in &mut self.pipes {
            let mut sck = SourceCk::default();
            for (base, m) in &mut pipe.mirrors {
                if m.synced != m.len {
                    if let Some(f) = &m.file {
                        files.push(Arc::clone(f));
                    }
                    m.synced = m.len;
                }
                let want_segment = m.len > m.seg_at || (seg_due && m.len > m.emitted);
                if want_segment {
                    // Bytes to hash need the file; a closed mirror was hashed
                    // to its end before it was closed, so its record does not.
                    let file = if m.len > m.seg_at {
                        m.handle(&pipe.out, base).ok()
                    } else {
                        m.file.clone()
                    };
                    let emit = seg_due && m.len > m.emitted;
                    segments.push(SegmentReq {
                        file,
                        id: m.id,
                        source: name.clone(),
                        path: pipe.out.join(base),
                        len: m.len,
                        emit,
                        last: self
                            .cutting
                            .as_ref()
                            .is_some_and(|(s, b)| s == name && b == base),
                    });
                    m.seg_at = m.len;
                    if emit {
                        m.emitted = m.len;
                    }
                }
                sck.mirrors.insert(
                    base.clone(),
                    MirrorCk {
                        dev: m.id.dev,
                        ino: m.id.ino,
                        len: m.len,
                    },
                );
            }
            for i in &pipe.inputs {
                sck.inputs.push(InputCk {
                    base: i.base.clone(),
                    name: i.t.name.clone(),
                    dev: i.t.id.dev,
                    ino: i.t.id.ino,
                    fp_len: i.t.fp.len,
                    fp: i.t.fp.hex.clone(),
                    offset: i.t.committed,
                    draining_since: i.draining_since.map(|d| d.timestamp()),
                    shift: i.shift.clone(),
                    pem_lines: i.carry.pem_lines,
                });
            }
            ck.sources.insert(name.clone(), sck);
        }
        for (name, p) in &self.parked {
            ck.sources.insert(name.clone(), p.ck.clone());
        }
        if seg_due {
            self.segment_now = false;
            self.last_segment = Instant::now();
        }
        self.dirty = false;
        self.unsynced = 0;
        self.last_sync = Instant::now();
        (files, ck, segments)
    }

    /// Make the mirrors and the checkpoint durable now (after any
    /// background save still in flight) and wait for it.
    fn save(&mut self) -> std::io::Result<()> {
        let (files, ck, segments) = self.snapshot();
        self.close_idle_mirrors();
        let (done, rx) = std::sync::mpsc::sync_channel(1);
        self.syncer.send(SyncJob {
            files,
            ck,
            segments,
            done: Some(done),
        })?;
        let r = rx
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the syncer thread is gone")));
        if r.is_err() {
            self.dirty = true;
        }
        r
    }

    /// Read input `i` of `source` to its current end, partial line included,
    /// and make the mirror and checkpoint durable.
    fn drain(&mut self, source: &str, i: usize) -> std::io::Result<()> {
        self.read_to_end(source, i)?;
        self.dirty = true;
        self.save()
    }

    /// Read input `i` of `source` to its current end into the mirror, its
    /// partial line flushed too (no checkpoint yet).
    fn read_to_end(&mut self, source: &str, i: usize) -> std::io::Result<()> {
        for _ in 0..10_000 {
            let more = self.pump_input(source, i, false)?.more;
            if !self.unannounced.is_empty() {
                self.announce()?;
                continue;
            }
            if !more {
                break;
            }
        }
        self.pump_input(source, i, true)?;
        if !self.unannounced.is_empty() {
            // The partial line found a new mirror: announce it, then flush.
            self.announce()?;
            self.pump_input(source, i, true)?;
        }
        Ok(())
    }

    /// Close the least recently written mirrors past [`MAX_OPEN_MIRRORS`]
    /// (called right after a snapshot: every mirror's bytes are then in the
    /// sync job, which holds its own handle until they are durable).
    fn close_idle_mirrors(&mut self) {
        let mut open: Vec<(Instant, String, String)> = Vec::new();
        for (name, pipe) in &self.pipes {
            for (base, m) in &pipe.mirrors {
                if m.file.is_some() && m.synced == m.len {
                    open.push((m.last_write, name.clone(), base.clone()));
                }
            }
        }
        if open.len() <= MAX_OPEN_MIRRORS {
            return;
        }
        open.sort();
        let close = open.len() - MAX_OPEN_MIRRORS / 2;
        for (_, name, base) in open.into_iter().take(close) {
            if let Some(m) = self
                .pipes
                .get_mut(&name)
                .and_then(|p| p.mirrors.get_mut(&base))
            {
                m.file = None;
            }
        }
    }

    /// Save the checkpoint once for every mirror created since the last
    /// save, so lines may be written to them.
    fn announce(&mut self) -> std::io::Result<()> {
        if self.unannounced.is_empty() {
            return Ok(());
        }
        self.dirty = true;
        self.save()?;
        self.unannounced.clear();
        Ok(())
    }

    fn input_index(&self, source: &str, name: &str, meta: &Meta) -> Option<usize> {
        let pipe = self.pipes.get(source)?;
        pipe.inputs.iter().position(|i| {
            i.draining_since.is_none() && i.t.id == Identity::from(meta) && i.t.name == name
        })
    }

    /// Cut a live file of a mirror-mode source: drain it, cut it (rename, or
    /// remove only what the mirror already holds), then cut its mirror.
    pub fn cut(
        &mut self,
        src: &Source,
        name: &str,
        meta: &Meta,
        spec: rotate::CutSpec<'_>,
        now: DateTime<Utc>,
    ) -> Result<MirrorCut, CutError> {
        let path = src.dir.join(name).display().to_string();
        if self.input_index(&src.name, name, meta).is_none() {
            self.discover(now);
        }
        let i = self
            .input_index(&src.name, name, meta)
            .ok_or_else(|| CutError::Changed(path.clone()))?;
        self.drain(&src.name, i)
            .map_err(io_err(format!("drain {path} into its mirror")))?;
        let label = spec.label;
        let may_fall_back = spec.may_fall_back;
        let mut strategy = spec.choice.strategy;
        let mut reason = spec.choice.reason.clone();
        let mut archive = None;
        let mut bytes = meta.size;
        let mut reopen = None;
        if strategy == Strategy::Rename {
            let pipe = self
                .pipes
                .get_mut(&src.name)
                .ok_or_else(|| CutError::Changed(path.clone()))?;
            match rotate::rename(&pipe.dir, name, meta, label) {
                Ok(a) => {
                    reopen = rotate::after_rename(&pipe.dir, name, meta, &spec);
                    let input = &mut pipe.inputs[i];
                    input.t.name = a.plain_name();
                    input.draining_since = Some(now);
                    input.nag = Some(Nag::now());
                    archive = Some(a);
                    self.dirty = true;
                }
                Err(RenameFailed::Fallback(errno)) if may_fall_back => {
                    strategy = Strategy::CopyTruncate;
                    reason = format!("rename failed ({errno}), fell back to copy-truncate");
                }
                Err(RenameFailed::Fallback(errno)) => {
                    return Err(CutError::Io {
                        what: format!("rename {path}"),
                        source: errno.into(),
                    })
                }
                Err(RenameFailed::Other(e)) => return Err(e),
            }
        }
        if strategy == Strategy::CopyTruncate {
            let (a, removed, how) = self.truncate_drained(src, name, meta, i, label)?;
            archive = a;
            bytes = removed;
            reason = format!(
                "{reason}; drained prefix removed by {}",
                match how {
                    How::Collapse => "collapse-range",
                    How::Punch => "punch-hole (the file keeps its apparent size)",
                    How::Truncate => "truncate (nothing was unread)",
                }
            );
        }
        self.save().map_err(io_err("save the tail checkpoint"))?;
        let mirror = self.cut_mirror(&src.name, name, label, now)?;
        Ok(MirrorCut {
            strategy,
            reason,
            bytes,
            raw: archive,
            mirror,
            reopen,
        })
    }

    /// Copy-truncate in mirror mode: remove only bytes the mirror holds.
    /// Returns the raw archive (when `raw_max_age` keeps one) and the bytes removed.
    ///
    /// Each attempt reads to the end (partial line flushed), then saves the
    /// checkpoint with the intended removal (mirror fsynced first), then
    /// removes: the block-aligned drained prefix with `COLLAPSE_RANGE`, or,
    /// where that is unsupported, everything with `ftruncate` if the file
    /// still ends where the drain ended. A writer that appended during the
    /// save means another attempt.
    fn truncate_drained(
        &mut self,
        src: &Source,
        name: &str,
        meta: &Meta,
        i: usize,
        label: &str,
    ) -> Result<(Option<Archive>, u64, How), CutError> {
        let path = src.dir.join(name).display().to_string();
        let keep_raw = src.raw_max_age.is_some();
        let f = {
            let pipe = self
                .pipes
                .get(&src.name)
                .ok_or_else(|| CutError::Changed(path.clone()))?;
            pipe.dir
                .open_rw(name)
                .map_err(io_err(format!("open {path}")))?
        };
        let stat = |f: &File| {
            safe_dir::fstat(f)
                .map(|m| m.size)
                .map_err(io_err(format!("stat {path}")))
        };
        if !safe_dir::fstat(&f)
            .map_err(io_err(format!("stat {path}")))?
            .same_file(meta)
        {
            return Err(CutError::Changed(path));
        }
        let blk = rustix::fs::fstatvfs(&f)
            .map(|v| v.f_bsize)
            .unwrap_or(4096)
            .max(1);
        let mut can_collapse = true;
        let mut can_punch = true;
        for _ in 0..200 {
            // Read to the end, the partial line included, without saving yet.
            self.read_to_end(&src.name, i)
                .map_err(io_err(format!("drain {path} into its mirror")))?;
            let c = self.pipes[&src.name].inputs[i].t.committed;
            let size = stat(&f)?;
            let k = c / blk * blk;
            // How the drained prefix goes, best first: collapse it (the file
            // shrinks, no window); punch it out (offsets stay, the file keeps
            // its apparent size, no window); truncate when nothing is unread
            // (a write between the last fstat and the truncate would be lost).
            let how = if can_collapse && k > 0 && k < size {
                How::Collapse
            } else if can_punch && c > 0 {
                How::Punch
            } else if size == c {
                How::Truncate
            } else {
                continue; // the writer appended since: read again
            };
            let (shift, data_end, after) = match how {
                How::Collapse => (
                    k,
                    k,
                    Fingerprint::of(&f, k, FINGERPRINT_LEN.min(c - k))
                        .map_err(io_err(format!("read {path}")))?,
                ),
                How::Punch => (0, c, Fingerprint::zeros(FINGERPRINT_LEN.min(c))),
                How::Truncate => (c, c, Fingerprint::zeros(0)),
            };
            // Durable mirror + checkpoint (offset c, the intended removal).
            self.set_shift(
                &src.name,
                i,
                Some(Shift {
                    k: shift,
                    fp_len: after.len,
                    fp: after.hex,
                }),
            )?;
            let raw = if keep_raw {
                Some(self.copy_raw(src, name, meta, &f, data_end, label)?)
            } else {
                None
            };
            let done = match how {
                How::Collapse => {
                    match rustix::fs::fallocate(&f, FallocateFlags::COLLAPSE_RANGE, 0, k) {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::debug!("collapse range unavailable on {path} ({e})");
                            can_collapse = false;
                            false
                        }
                    }
                }
                How::Punch => match rustix::fs::fallocate(
                    &f,
                    FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                    0,
                    c,
                ) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::debug!("punch hole unavailable on {path} ({e})");
                        can_punch = false;
                        false
                    }
                },
                How::Truncate => {
                    if stat(&f)? == c {
                        f.set_len(0).map_err(io_err(format!("truncate {path}")))?;
                        true
                    } else {
                        false
                    }
                }
            };
            if done {
                if let Some(p) = self.pipes.get_mut(&src.name) {
                    let input = &mut p.inputs[i];
                    input.t.shifted(shift);
                    input.shift = None;
                }
                self.dirty = true;
                self.save().map_err(io_err("save the tail checkpoint"))?;
                return Ok((raw, data_end, how));
            }
            if let Some(a) = raw {
                // The live file was not shortened after all: the copy goes.
                if let Some(p) = self.pipes.get(&src.name) {
                    let _ = p.dir.unlink(&a.plain_name());
                }
            }
        }
        self.set_shift(&src.name, i, None)?;
        Err(CutError::Io {
            what: format!("truncate {path}"),
            source: std::io::Error::other(
                "the writer never paused long enough to truncate without losing a line (this filesystem has no COLLAPSE_RANGE); retried at the next pass",
            ),
        })
    }

    fn set_shift(&mut self, source: &str, i: usize, shift: Option<Shift>) -> Result<(), CutError> {
        if let Some(p) = self.pipes.get_mut(source) {
            p.inputs[i].shift = shift;
        }
        self.dirty = true;
        self.save().map_err(io_err("save the tail checkpoint"))
    }

    /// Copy the first `len` bytes of the live file into a raw archive.
    fn copy_raw(
        &self,
        src: &Source,
        name: &str,
        meta: &Meta,
        f: &File,
        len: u64,
        label: &str,
    ) -> Result<Archive, CutError> {
        let pipe = &self.pipes[&src.name];
        let dir = &pipe.dir;
        let a = rotate::archive_name(dir, name, label);
        let tmp = a.copy_tmp_name();
        let dst = dir
            .create_new(&tmp, meta.perm() & 0o666)
            .map_err(io_err(format!("create {tmp}")))?;
        let r = (|| {
            let mut c = crate::sparse::Copier::new(f, &dst);
            c.copy(0, len)?;
            drop(c);
            let _ = safe_dir::copy_owner_and_mode(&dst, meta);
            dst.sync_all()?;
            dir.rename_noreplace(&tmp, &a.plain_name())
        })();
        if let Err(e) = r {
            let _ = dir.unlink(&tmp);
            return Err(CutError::Io {
                what: format!("copy {} to {}", name, a.plain_name()),
                source: e,
            });
        }
        let _ = dir.sync();
        Ok(a)
    }

    /// Rename the mirror of `base` to its archive name for `label`.
    fn cut_mirror(
        &mut self,
        source: &str,
        base: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PathBuf>, CutError> {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return Ok(None);
        };
        let Some(m) = pipe.mirrors.get(base) else {
            return Ok(None);
        };
        if m.len == 0 {
            return Ok(None);
        }
        let got = pipe.out.stat(base).map_err(io_err(format!(
            "stat mirror {}",
            pipe.out.join(base).display()
        )))?;
        if Identity::from(&got) != m.id {
            return Err(CutError::Changed(pipe.out.join(base).display().to_string()));
        }
        let meta = got;
        // The mirror's final segment, journaled before the rename.
        self.segment_now = true;
        self.cutting = Some((source.to_string(), base.to_string()));
        self.dirty = true;
        let saved = self.save();
        self.cutting = None;
        saved.map_err(io_err("save the tail checkpoint"))?;
        let Some(pipe) = self.pipes.get_mut(source) else {
            return Ok(None);
        };
        let a = match rotate::rename(&pipe.out, base, &meta, label) {
            Ok(a) => a,
            Err(RenameFailed::Fallback(errno)) => {
                return Err(CutError::Io {
                    what: format!("rename mirror {}", pipe.out.join(base).display()),
                    source: errno.into(),
                })
            }
            Err(RenameFailed::Other(e)) => return Err(e),
        };
        pipe.mirrors.remove(base);
        let to = pipe.out.join(&a.plain_name());
        let _ = pipe;
        self.summarize(now);
        let Some(pipe) = self.pipes.get(source) else {
            return Ok(None);
        };
        crate::journal::append(
            &self.journal,
            Record::ok(now, "rotate")
                .source(source)
                .resource(&pipe.out.join(base), Some(meta.ino), Some(meta.size))
                .old(pipe.out.join(base).display())
                .new_value(to.display())
                .strategy("rename", MIRROR_CUT_REASON),
        );
        self.dirty = true;
        self.save().map_err(io_err("save the tail checkpoint"))?;
        Ok(Some(to))
    }

    /// Finish renamed or replaced inputs by the one `writer_grace` rule
    /// ([`rotate::renamed_finished`]): once no writer holds them, or once
    /// they have not grown for `writer_grace`. Flush, then discard the raw
    /// file unless `raw_max_age` keeps it. One still written to stays an
    /// input: its writers are asked again to reopen ([`Pipeline::nag`]).
    pub fn finish_drained(&mut self, now: DateTime<Utc>) {
        // Checking for writers scans /proc: at most once per RETRY.
        if self.drain_checked.is_some_and(|t| t.elapsed() < RETRY) {
            return;
        }
        self.drain_checked = Some(Instant::now());
        let mut candidates = Vec::new();
        for (name, pipe) in &self.pipes {
            for (i, input) in pipe.inputs.iter().enumerate() {
                if input.draining_since.is_some() {
                    candidates.push((name.clone(), i, input.t.id));
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        let ids: HashSet<(u64, u64)> = candidates
            .iter()
            .map(|(_, _, id)| (id.dev, id.ino))
            .collect();
        let holders = Holders::scan(&ids);
        let mut done = Vec::new();
        let mut still_written = Vec::new();
        for (source, i, id) in candidates {
            let Some(pipe) = self.pipes.get(&source) else {
                continue;
            };
            let input = &pipe.inputs[i];
            let writers = holders.writers_of(id.dev, id.ino);
            let Ok(meta) = input.t.meta() else {
                continue;
            };
            let idle = rotate::idle_for(&meta);
            let finish =
                rotate::renamed_finished(!writers.is_empty(), idle, pipe.src.policy.writer_grace);
            match finish {
                None => still_written.push((source, i, writers.to_vec(), meta.mtime)),
                // The pump reads what is left first.
                Some(Finish::Closed) if meta.size > input.t.read_pos() => {}
                Some(f) => {
                    if self.drain(&source, i).is_ok() {
                        done.push((source, i, f, writers.to_vec()));
                    }
                }
            }
        }
        for (source, i, writers, mtime) in still_written {
            self.nag(&source, i, &writers, mtime, now);
        }
        // Remove from the back so indexes stay valid.
        done.sort_by_key(|d| std::cmp::Reverse(d.1));
        for (source, i, finish, writers) in done {
            self.finish_input(&source, i, finish, &writers, now);
        }
        let _ = self.maybe_sync(true);
    }

    /// Journal `tail.done` for a finished input and discard its raw file.
    fn finish_input(
        &mut self,
        source: &str,
        i: usize,
        finish: Finish,
        writers: &[crate::holders::Writer],
        now: DateTime<Utc>,
    ) {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return;
        };
        let input = pipe.inputs.remove(i);
        let path = pipe.dir.join(&input.t.name);
        let ours = archive::parse_for(&input.base, &input.t.name).is_some_and(|a| !a.gz);
        let mut rec = Record::ok(now, "tail.done").source(source).resource(
            &path,
            Some(input.t.id.ino),
            Some(input.t.committed),
        );
        let grace = humantime::format_duration(pipe.src.policy.writer_grace);
        rec.reason = Some(match finish {
            Finish::Closed => "its writers closed it".to_string(),
            Finish::Idle => format!(
                "not written to for writer_grace ({grace}) though still held open by {}; anything written to it from now on is not mirrored — {}",
                crate::reopen::describe(writers),
                match &pipe.src.reopen {
                    None => "configure reopen, or strategy = \"copytruncate\"".to_string(),
                    Some(_) => "the reopen hook did not make it reopen: check the hook's signal and pidfile, or set strategy = \"copytruncate\"".to_string(),
                }
            ),
        });
        if ours && pipe.src.raw_max_age.is_none() {
            let same = pipe
                .dir
                .stat(&input.t.name)
                .is_ok_and(|m| Identity::from(&m) == input.t.id);
            if same {
                match pipe.dir.unlink(&input.t.name) {
                    Ok(()) => {
                        let _ = pipe.dir.sync();
                        rec = rec.new_value("drained into the mirror; raw file discarded");
                    }
                    Err(e) => {
                        rec = Record::failed(
                            now,
                            "tail.done",
                            format!("cannot discard the drained raw file: {e}"),
                        )
                        .source(source)
                        .resource(&path, Some(input.t.id.ino), None)
                    }
                }
            }
        } else {
            rec = rec.new_value("drained into the mirror");
        }
        crate::journal::append(&self.journal, rec);
        self.dirty = true;
    }

    /// A renamed input its writers still write to (they did not reopen):
    /// keep draining it, and once it was written to after the rename, and
    /// then once per period, fire the reopen hook again and journal a failed
    /// `reopen` record naming the writers.
    fn nag(
        &mut self,
        source: &str,
        i: usize,
        writers: &[crate::holders::Writer],
        mtime: i64,
        now: DateTime<Utc>,
    ) {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return;
        };
        let input = &mut pipe.inputs[i];
        let nag = input.nag.get_or_insert_with(Nag::now);
        // Written to in the second after the rename, a writer may still be
        // flushing what it had before it handled the hook.
        if Instant::now() < nag.next || mtime < nag.renamed_at + 2 {
            return;
        }
        let path = pipe.dir.join(&input.t.name);
        let hook = match &pipe.src.reopen {
            None => "no reopen hook is configured".to_string(),
            Some(h) => {
                let check = crate::reopen::Check::gather(h, &path, writers);
                match (check.fire(), check.verdict) {
                    (Some(Ok(what)), _) => format!("reopen hook fired again: {what}"),
                    (Some(Err(e)), _) => e,
                    (None, crate::reopen::Verdict::Unusable(why)) => why,
                    (None, _) => "the reopen hook reaches none of them".to_string(),
                }
            }
        };
        let p = &pipe.src.policy;
        let period = (p.schedule.next_cut(p.zone, now) - now)
            .to_std()
            .unwrap_or_default()
            .clamp(RETRY, Duration::from_secs(86_400));
        nag.next = Instant::now() + period;
        let msg = format!(
            "{} still write{} to {} after it was renamed at the cut: it did not reopen its log; {hook}. It stays an input until its writers close it or it is idle for writer_grace",
            crate::reopen::describe(writers),
            if writers.len() == 1 { "s" } else { "" },
            path.display()
        );
        let rec = Record::failed(now, "reopen", msg).source(source).resource(
            &path,
            Some(input.t.id.ino),
            None,
        );
        crate::journal::append(&self.journal, rec);
    }

    /// [`Pipeline::finish_drained`] without its rate limit (one-shot runs, tests).
    pub fn finish_drained_now(&mut self, now: DateTime<Utc>) {
        self.drain_checked = None;
        self.finish_drained(now);
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

/// Create (or adopt) the mirror `base`: mode no wider than the source's,
/// owned by `output_owner` when set.
fn create_mirror(
    out: &SafeDir,
    base: &str,
    perm: u32,
    owner: Option<&crate::config::Su>,
) -> std::io::Result<Mirror> {
    let file = match out.create_new(base, perm) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Not in the checkpoint: it can only hold lines that were never
            // checkpointed (they are read again), or predate the state.
            let f = out.open_rw(base)?;
            let m = safe_dir::fstat(&f)?;
            return Mirror::adopt(f, Identity::from(&m), m.size);
        }
        Err(e) => return Err(e),
    };
    if let Some(o) = owner {
        rustix::fs::fchown(
            &file,
            Some(rustix::fs::Uid::from_raw(o.uid)),
            Some(rustix::fs::Gid::from_raw(o.gid)),
        )?;
    }
    rustix::fs::fchmod(&file, rustix::fs::Mode::from_raw_mode(perm))?;
    let m = safe_dir::fstat(&file)?;
    let _ = out.sync();
    Mirror::adopt(file, Identity::from(&m), 0)
}

/// Find the checkpointed mirror (under its live name, or an archive name if
/// it was cut just before a crash) and cut it back to its durable length.
/// Also returns the archive name it was found under, if it was: the crash
/// came between that rename and its `rotate` record, which the caller writes.
fn recover_mirror(
    out: &SafeDir,
    base: &str,
    mck: &MirrorCk,
) -> std::io::Result<(Option<Mirror>, Option<String>)> {
    let want = Identity {
        dev: mck.dev,
        ino: mck.ino,
    };
    let live = out.stat(base).ok();
    if live.is_some_and(|m| Identity::from(&m) == want) {
        let f = out.open_rw(base)?;
        let m = safe_dir::fstat(&f)?;
        if m.size > mck.len {
            f.set_len(mck.len)?;
            f.sync_data()?;
        }
        let len = m.size.min(mck.len);
        return Ok((Some(Mirror::adopt(f, want, len)?), None));
    }
    let mut renamed = None;
    for n in out.list()? {
        if archive::parse_for(base, &n).is_some_and(|a| !a.gz)
            && out.stat(&n).is_ok_and(|m| Identity::from(&m) == want)
        {
            let f = out.open_rw(&n)?;
            if safe_dir::fstat(&f)?.size > mck.len {
                f.set_len(mck.len)?;
                f.sync_data()?;
            }
            renamed = Some(n);
        }
    }
    // A live mirror that is not the checkpointed one holds only lines that
    // were never checkpointed: they are read again.
    if live.is_some() {
        let f = out.open_rw(base)?;
        f.set_len(0)?;
        f.sync_data()?;
    }
    Ok((None, renamed))
}

/// Reopen a checkpointed input where it is now (live name or archive name).
fn recover_input(
    dir: &SafeDir,
    ick: &InputCk,
    max_line: u64,
) -> std::io::Result<Option<(Input, Option<String>)>> {
    let want = Identity {
        dev: ick.dev,
        ino: ick.ino,
    };
    let mut names = vec![ick.name.clone(), ick.base.clone()];
    for n in dir.list()? {
        if archive::parse_for(&ick.base, &n).is_some_and(|a| !a.gz) {
            names.push(n);
        }
    }
    for n in names {
        if !dir.stat(&n).is_ok_and(|m| Identity::from(&m) == want) {
            continue;
        }
        let f = dir.open_read(&n)?;
        let size = safe_dir::fstat(&f)?.size;
        let fp = Fingerprint {
            len: ick.fp_len,
            hex: ick.fp.clone(),
        };
        let shifted = ick.shift.as_ref().filter(|s| {
            Fingerprint {
                len: s.fp_len,
                hex: s.fp.clone(),
            }
            .matches(&f)
        });
        // Unchanged first (a removal that did not happen), then the recorded
        // removal; only periodic content could match both.
        let (offset, note) = if fp.matches(&f) && size >= ick.offset {
            (ick.offset, None)
        } else if let Some(s) = shifted {
            (ick.offset.saturating_sub(s.k), None)
        } else {
            (
                0,
                Some(format!(
                    "{n} changed while logwarden was down (truncated or replaced); read again from its start"
                )),
            )
        };
        let live = n == ick.base;
        let t = Tailer::new(f, n, offset, max_line)?;
        return Ok(Some((
            Input {
                base: ick.base.clone(),
                t,
                draining_since: ick
                    .draining_since
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .or(if live { None } else { Some(Utc::now()) }),
                nag: None,
                carry: Carry {
                    pem_lines: ick.pem_lines,
                },
                shift: None,
                behind_since: None,
            },
            note,
        )));
    }
    Ok(None)
}

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
