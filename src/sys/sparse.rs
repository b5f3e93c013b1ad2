//! Reading what writers actually wrote: a file's bytes without its holes.
//!
//! A writer that does not use `O_APPEND` keeps writing at its old offset
//! after a copy-truncate, which leaves a gap (a run of NULs nobody wrote)
//! after its last line. [`Copier`] copies a byte range while skipping holes
//! (`SEEK_DATA`/`SEEK_HOLE`), the NUL runs that border them (the file system
//! reports holes in whole blocks), and NUL runs that open a line (a gap
//! shorter than two blocks is allocated, so no hole shows); NULs inside a
//! line are kept. It records what it skipped so a source offset maps to an
//! output length.
//! Used by copy-truncate (into the archive) and by compression (so a renamed
//! file with a hole is not archived with it).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Whether `file` holds nothing but holes and NULs, reading at most
/// `limit` bytes of data (a file with more data than that is taken to hold
/// text). A copy-truncate whose collapse could not remove the last partial
/// block leaves such a file (punched, or zeroed by a writer without
/// `O_APPEND`): there is nothing in it to cut.
pub fn only_nuls(file: &File, limit: u64) -> io::Result<bool> {
    let size = file.metadata()?.len();
    let mut pos = 0u64;
    let mut read = 0u64;
    let mut buf = [0u8; 8192];
    while pos < size {
        let data = match rustix::fs::seek(file, rustix::fs::SeekFrom::Data(pos)) {
            Ok(d) => d,
            Err(rustix::io::Errno::NXIO) => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        let hole = match rustix::fs::seek(file, rustix::fs::SeekFrom::Hole(data)) {
            Ok(h) => h.min(size),
            Err(_) => size,
        };
        let mut at = data;
        while at < hole {
            if read >= limit {
                return Ok(false);
            }
            let want = (hole - at).min(buf.len() as u64) as usize;
            let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[..want], at)?;
            if n == 0 {
                return Ok(true);
            }
            if buf[..n].iter().any(|b| *b != 0) {
                return Ok(false);
            }
            at += n as u64;
            read += n as u64;
        }
        pos = hole.max(data + 1);
    }
    Ok(true)
}

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
    /// Whether the last byte copied ended a line (or nothing was copied).
    line_start: bool,
}

impl<'a, W: Write> Copier<'a, W> {
    pub fn new(src: &'a File, dst: W) -> Copier<'a, W> {
        Copier {
            src,
            dst,
            buf: vec![0; 1 << 20],
            skips: Vec::new(),
            after_hole: false,
            line_start: true,
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
            let trim_lead = pos == 0 || self.after_hole;
            self.extent(pos, hole, trim_lead, hole_follows)?;
            self.after_hole = hole_follows;
            pos = hole;
        }
        Ok(())
    }

    /// Copy `[from, to)` (no holes inside). NUL runs are dropped (and
    /// recorded as skipped) when they open a line — a writer without
    /// `O_APPEND` leaves its gap right after its last newline, and when the
    /// gap is under two blocks the file system allocates it, so no hole
    /// shows — or when a hole follows them (`trim_tail`) or precedes them
    /// (`trim_lead`). NULs inside a line are data and are kept.
    fn extent(&mut self, from: u64, to: u64, trim_lead: bool, trim_tail: bool) -> io::Result<()> {
        if trim_lead {
            self.line_start = true;
        }
        let Copier {
            src,
            dst,
            buf,
            skips,
            line_start,
            ..
        } = self;
        let mut file = *src;
        file.seek(SeekFrom::Start(from))?;
        let mut pos = from;
        // A NUL run not yet written or dropped: (start, len, opened a line).
        let mut run: Option<(u64, u64, bool)> = None;
        while pos < to {
            let want = usize::try_from((to - pos).min(buf.len() as u64)).unwrap_or(buf.len());
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            let mut i = 0;
            while i < n {
                if chunk[i] == 0 {
                    let j = i + chunk[i..].iter().take_while(|b| **b == 0).count();
                    match &mut run {
                        Some((_, len, _)) => *len += (j - i) as u64,
                        None => run = Some((pos + i as u64, (j - i) as u64, *line_start)),
                    }
                    i = j;
                } else {
                    let j = i + chunk[i..].iter().position(|b| *b == 0).unwrap_or(n - i);
                    if let Some((s, len, opened)) = run.take() {
                        if opened {
                            skips.push((s, len));
                        } else {
                            write_zeros(dst, len)?;
                        }
                    }
                    dst.write_all(&chunk[i..j])?;
                    *line_start = chunk[j - 1] == b'\n';
                    i = j;
                }
            }
            pos += n as u64;
        }
        if let Some((s, len, opened)) = run {
            if opened || trim_tail {
                skips.push((s, len));
            } else {
                write_zeros(dst, len)?;
                *line_start = false;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_only_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let cases: [(&[u8], u64, bool); 5] = [
            (b"", 1 << 16, true),
            (&[0u8; 2894], 1 << 16, true),
            (b"\0\0\0x\n", 1 << 16, false),
            (b"line\n", 1 << 16, false),
            // More data than the limit: taken to be text.
            (&[0u8; 9000], 4096, false),
        ];
        for (content, limit, want) in cases {
            std::fs::write(&p, content).unwrap();
            let f = File::open(&p).unwrap();
            assert_eq!(
                only_nuls(&f, limit).unwrap(),
                want,
                "{} bytes",
                content.len()
            );
        }
        // A hole with NULs around it, and one with a line after it.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        f.set_len(1 << 20).unwrap();
        assert!(only_nuls(&File::open(&p).unwrap(), 1 << 16).unwrap());
        std::os::unix::fs::FileExt::write_at(&f, b"late line\n", 1 << 20).unwrap();
        assert!(!only_nuls(&File::open(&p).unwrap(), 1 << 16).unwrap());
    }

    fn copy_all(content: &[u8]) -> (Vec<u8>, u64) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        let mut out = Vec::new();
        let mut c = Copier::new(&f, &mut out);
        c.copy(0, content.len() as u64).unwrap();
        let skipped = c.skipped_below(content.len() as u64);
        drop(c);
        (out, skipped)
    }

    #[test]
    fn a_gap_that_opens_a_line_is_dropped_even_without_a_hole() {
        // Written zeros (allocated, so no hole shows): what a writer without
        // O_APPEND leaves when its gap is shorter than two blocks.
        let mut content = b"aaa\n".to_vec();
        content.extend(std::iter::repeat_n(0u8, 5000));
        content.extend_from_slice(b"bbb\n");
        let (out, skipped) = copy_all(&content);
        assert_eq!(out, b"aaa\nbbb\n");
        assert_eq!(skipped, 5000);
    }

    #[test]
    fn nuls_inside_a_line_are_data() {
        let (out, skipped) = copy_all(b"a\0\0b\n\0\0c\n");
        assert_eq!(out, b"a\0\0b\nc\n");
        assert_eq!(skipped, 2);
    }

    #[test]
    fn a_real_hole_is_skipped_with_its_bordering_nuls() {
        let f = tempfile::tempfile().unwrap();
        use std::os::unix::fs::FileExt;
        f.write_at(b"head", 0).unwrap();
        f.write_at(b"tail\n", 3 * 4096 + 100).unwrap();
        let len = 3 * 4096 + 105;
        let mut out = Vec::new();
        let mut c = Copier::new(&f, &mut out);
        c.copy(0, len).unwrap();
        assert_eq!(c.skipped_below(len), len - 9);
        drop(c);
        assert_eq!(out, b"headtail\n");
    }
}
