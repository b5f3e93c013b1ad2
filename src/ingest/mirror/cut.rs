//! The mirror-mode cut: drain the input, then rename it (or copy the raw
//! prefix out and remove it from the live file), and cut the mirror at the
//! same line.

use super::*;
use crate::rotation::rotate::Removal;

pub(super) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CutError {
    let what = what.into();
    move |source| CutError::Io { what, source }
}

impl Pipeline {
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
            reason = format!("{reason}; drained prefix removed by {}", how.describe());
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
    pub(super) fn truncate_drained(
        &mut self,
        src: &Source,
        name: &str,
        meta: &Meta,
        i: usize,
        label: &str,
    ) -> Result<(Option<Archive>, u64, Removal), CutError> {
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
        let blk = rotate::block_size(&f);
        let mut can = rotate::Capable {
            collapse: true,
            punch: true,
        };
        for _ in 0..200 {
            // Read to the end, the partial line included, without saving yet.
            self.read_to_end(&src.name, i)
                .map_err(io_err(format!("drain {path} into its mirror")))?;
            let c = self.pipes[&src.name].inputs[i].t.committed;
            let size = stat(&f)?;
            let k = c / blk * blk;
            let Some(how) = rotate::removal(can, c, size, blk) else {
                continue; // the writer appended since: read again
            };
            let (shift, data_end, after) = match how {
                Removal::Collapse => (
                    k,
                    k,
                    Fingerprint::of(&f, k, FINGERPRINT_LEN.min(c - k))
                        .map_err(io_err(format!("read {path}")))?,
                ),
                Removal::Punch => (0, c, Fingerprint::zeros(FINGERPRINT_LEN.min(c))),
                Removal::Truncate => (c, c, Fingerprint::zeros(0)),
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
            let done = rotate::remove_prefix(&f, how, c, blk, &mut can, &path)?;
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

    pub(super) fn set_shift(
        &mut self,
        source: &str,
        i: usize,
        shift: Option<Shift>,
    ) -> Result<(), CutError> {
        if let Some(p) = self.pipes.get_mut(source) {
            p.inputs[i].shift = shift;
        }
        self.dirty = true;
        self.save().map_err(io_err("save the tail checkpoint"))
    }

    /// Copy the first `len` bytes of the live file into a raw archive.
    pub(super) fn copy_raw(
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
            let mut c = crate::sys::sparse::Copier::new(f, &dst);
            c.copy(0, len)?;
            drop(c);
            let _ = safe_dir::copy_owner_and_mode(&dst, meta);
            dst.sync_all()?;
            rotate::publish_copy(dir, &tmp, name, label, a.clone())
        })();
        match r {
            Ok(a) => Ok(a),
            Err(e) => {
                let _ = dir.unlink(&tmp);
                Err(CutError::Io {
                    what: format!("copy {} to {}", name, a.plain_name()),
                    source: e,
                })
            }
        }
    }

    /// Rename the mirror of `base` to its archive name for `label`.
    pub(super) fn cut_mirror(
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
}
