//! Reading what writers actually wrote: a file's bytes without its holes.
//!
//! A writer that does not use `O_APPEND` keeps writing at its old offset
//! after a copy-truncate, which leaves a hole (a sparse run of NULs nobody
//! wrote) at the start of the file. [`Copier`] copies a byte range while
//! skipping holes (`SEEK_DATA`/`SEEK_HOLE`) and the NUL runs that border them
//! or open the file (the file system reports holes in whole blocks), and
//! records what it skipped so a source offset maps to an output length.
//! Used by copy-truncate (into the archive) and by compression (so a renamed
//! file with a hole is not archived with it).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Copies source ranges into the archive, skipping holes and the NUL runs
/// that border them, and counts what it skipped so that a source offset can
/// be mapped to an archive length.
pub struct Copier<'a, W: Write> {
    src: &'a File,
    dst: W,
    buf: Vec<u8>,
    /// Source ranges `(start, len)` that were not copied (holes, NUL runs).
    skips: Vec<(u64, u64)>,
    /// Whether the last copied region ended at a hole.
    after_hole: bool,
}

impl<'a, W: Write> Copier<'a, W> {
    pub fn new(src: &'a File, dst: W) -> Copier<'a, W> {
        Copier {
            src,
            dst,
            buf: vec![0; 1 << 20],
            skips: Vec::new(),
            after_hole: false,
        }
    }

    /// Copy source bytes `[from, to)`, appending to the archive.
    pub fn copy(&mut self, from: u64, to: u64) -> io::Result<()> {
        let mut pos = from;
        while pos < to {
            let data = match rustix::fs::seek(self.src, rustix::fs::SeekFrom::Data(pos)) {
                Ok(d) => d.min(to),
                Err(rustix::io::Errno::NXIO) => to,
                Err(e) => return Err(e.into()),
            };
            if data > pos {
                self.skips.push((pos, data - pos));
                self.after_hole = true;
                pos = data;
                continue;
            }
            let hole = match rustix::fs::seek(self.src, rustix::fs::SeekFrom::Hole(pos)) {
                Ok(h) => h.min(to),
                Err(_) => to,
            };
            let hole_follows = hole < to;
            // NULs that open the file, follow a hole, or open a catch-up
            // piece (a writer without O_APPEND can leave a gap right where
            // the previous piece ended, in a block already allocated, so no
            // hole shows) were written by nobody.
            let trim_lead = pos == 0 || self.after_hole || (pos == from && from > 0);
            self.extent(pos, hole, trim_lead, hole_follows)?;
            self.after_hole = hole_follows;
            pos = hole;
        }
        Ok(())
    }

    fn extent(
        &mut self,
        from: u64,
        to: u64,
        mut trim_lead: bool,
        trim_tail: bool,
    ) -> io::Result<()> {
        let mut src = self.src;
        src.seek(SeekFrom::Start(from))?;
        let mut pos = from;
        let mut pending_nuls: u64 = 0;
        let mut pending_start = from;
        while pos < to {
            let want =
                usize::try_from((to - pos).min(self.buf.len() as u64)).unwrap_or(self.buf.len());
            let n = src.read(&mut self.buf[..want])?;
            if n == 0 {
                break;
            }
            let chunk_start = pos;
            pos += n as u64;
            let mut chunk = &self.buf[..n];
            if trim_lead {
                let lead = chunk.iter().take_while(|b| **b == 0).count();
                if lead > 0 {
                    self.skips.push((chunk_start, lead as u64));
                }
                chunk = &chunk[lead..];
                if chunk.is_empty() {
                    continue;
                }
                trim_lead = false;
            }
            // Hold back a trailing NUL run until we know whether a hole follows it.
            let tail = chunk.iter().rev().take_while(|b| **b == 0).count();
            let body = &chunk[..chunk.len() - tail];
            if !body.is_empty() {
                write_zeros(&mut self.dst, pending_nuls)?;
                pending_nuls = 0;
                self.dst.write_all(body)?;
            }
            if pending_nuls == 0 {
                pending_start = pos - tail as u64;
            }
            pending_nuls += tail as u64;
        }
        if trim_tail {
            if pending_nuls > 0 {
                self.skips.push((pending_start, pending_nuls));
            }
        } else {
            write_zeros(&mut self.dst, pending_nuls)?;
        }
        Ok(())
    }
}

fn write_zeros(dst: &mut impl Write, mut n: u64) -> io::Result<()> {
    let zeros = [0u8; 4096];
    while n > 0 {
        let k = n.min(zeros.len() as u64) as usize;
        dst.write_all(&zeros[..k])?;
        n -= k as u64;
    }
    Ok(())
}

impl<W: Write> Copier<'_, W> {
    /// Source bytes below offset `k` that were not copied: the archive holds
    /// exactly `k - skipped_below(k)` bytes of the source's first `k`.
    pub fn skipped_below(&self, k: u64) -> u64 {
        self.skips
            .iter()
            .map(|&(s, len)| (s + len).min(k).saturating_sub(s))
            .sum()
    }

    /// The archive was cut back to source offset `k`: forget skips above it.
    pub fn forget_above(&mut self, k: u64) {
        self.skips.retain(|&(s, _)| s < k);
        for (s, len) in &mut self.skips {
            *len = (*s + *len).min(k) - *s;
        }
        self.after_hole = false;
    }

    /// The writer the bytes go to.
    pub fn dst_mut(&mut self) -> &mut W {
        &mut self.dst
    }

    /// Give back the writer.
    pub fn into_inner(self) -> W {
        self.dst
    }
}
