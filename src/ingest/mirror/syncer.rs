//! Durability off the readers' thread: the syncer fsyncs mirrors, saves the
//! checkpoint after them and journals `segment` records (rolling SHA-256 of
//! the durable bytes); the pipeline's side builds the jobs (`snapshot`) and
//! decides when (`maybe_sync`, `save`, `announce`).

use super::*;

impl Syncer {
    pub(super) fn start(state_dir: PathBuf, jr: SharedJournal) -> std::io::Result<Syncer> {
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
                        crate::sys::crash::point("mirror.synced");
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

    pub(super) fn send(&self, job: SyncJob) -> std::io::Result<()> {
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

/// Hash `file` from where `r` stopped up to `len`; the record, if asked for.
pub(super) fn segment_record(
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
            .hashes(
                Some(crate::sys::digest::hex(&r.sha.clone().finalize())),
                None,
            ),
    ))
}

impl Pipeline {
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
    pub(super) fn snapshot(&mut self) -> (Vec<Arc<File>>, Checkpoint, Vec<SegmentReq>) {
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
    pub(super) fn save(&mut self) -> std::io::Result<()> {
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

    /// Save the checkpoint once for every mirror created since the last
    /// save, so lines may be written to them.
    pub(super) fn announce(&mut self) -> std::io::Result<()> {
        if self.unannounced.is_empty() {
            return Ok(());
        }
        self.dirty = true;
        self.save()?;
        self.unannounced.clear();
        Ok(())
    }
}
