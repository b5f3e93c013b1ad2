//! Mirror files: appending redacted bytes, the cap on open descriptors
//! ([`MAX_OPEN_MIRRORS`]: the least recently written are closed once durable
//! and reopened by name, identity checked), creating a mirror.

use super::*;

impl Mirror {
    /// Append complete lines. On any failure the file is cut back to its
    /// old length, so a shipper never sees half a line.
    pub(super) fn append(
        &mut self,
        out: &SafeDir,
        base: &str,
        bytes: &[u8],
    ) -> std::io::Result<()> {
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
    pub(super) fn handle(&mut self, out: &SafeDir, base: &str) -> std::io::Result<Arc<File>> {
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
    pub(super) fn adopt(file: File, id: Identity, len: u64) -> std::io::Result<Mirror> {
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

/// Create (or adopt) the mirror `base`: mode no wider than the source's,
/// owned by `output_owner` when set.
pub(super) fn create_mirror(
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

impl Pipeline {
    /// Close the least recently written mirrors past [`MAX_OPEN_MIRRORS`]
    /// (called right after a snapshot: every mirror's bytes are then in the
    /// sync job, which holds its own handle until they are durable).
    pub(super) fn close_idle_mirrors(&mut self) {
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
}
