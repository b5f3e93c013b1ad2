//! Tailing one source file: reading what its writer appended, line by line,
//! with bounded memory, and knowing exactly which byte offset every emitted
//! line ends at (so a checkpoint can say "everything before this offset is in
//! the mirror").
//!
//! The nouns, after Vector's file source:
//! * [`Identity`]: device + inode, plus a [`Fingerprint`] of the first bytes,
//!   so a reused inode or an atomically replaced file is not mistaken for the
//!   one that was checkpointed;
//! * [`Splitter`]: the pure line splitter (partial lines held, long lines cut
//!   with their tail discarded up to the newline, NUL runs at a line start
//!   skipped because a hole left by a non-`O_APPEND` writer after a
//!   copy-truncate reads as NULs nobody wrote);
//! * [`Tailer`]: one open source inode, its splitter, its read position and
//!   its committed offset (the end of the last line known to be in the mirror).

use std::fs::File;
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};

use crate::sys::safe_dir::{self, Meta};

/// How many leading bytes the fingerprint covers.
pub const FINGERPRINT_LEN: u64 = 256;
/// The most a tailer reads per pump, so one busy file cannot starve others
/// and the output buffer stays bounded.
pub const READ_BUDGET: u64 = 4 << 20;
const CHUNK: usize = 256 << 10;

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
}

impl From<&Meta> for Identity {
    fn from(m: &Meta) -> Identity {
        Identity {
            dev: m.dev,
            ino: m.ino,
        }
    }
}

/// SHA-256 of a file's first `len` bytes (hex).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    pub len: u64,
    pub hex: String,
}

impl Fingerprint {
    /// The fingerprint of `file`'s bytes `[at, at + len)`.
    pub fn of(file: &File, at: u64, len: u64) -> std::io::Result<Fingerprint> {
        let mut buf = vec![0u8; len as usize];
        let mut got = 0;
        while got < buf.len() {
            let n = file.read_at(&mut buf[got..], at + got as u64)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(Fingerprint {
            len: got as u64,
            hex: crate::sys::digest::hex(&Sha256::digest(&buf)),
        })
    }

    /// The fingerprint of `len` NUL bytes (a punched-out prefix reads so).
    pub fn zeros(len: u64) -> Fingerprint {
        Fingerprint {
            len,
            hex: crate::sys::digest::hex(&Sha256::digest(vec![0u8; len as usize])),
        }
    }

    /// Whether `file` still starts with the bytes this fingerprint was taken of.
    pub fn matches(&self, file: &File) -> bool {
        Fingerprint::of(file, 0, self.len).is_ok_and(|f| f == *self)
    }
}

/// One line out of the splitter.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its newline (at most `max` bytes).
    pub bytes: &'a [u8],
    /// The line was longer than `max`; the rest was discarded.
    pub cut: bool,
    /// Flushed without a newline (timeout or rotation).
    pub unterminated: bool,
    /// The stream offset just after this line (after its newline).
    pub end: u64,
}

/// Splits a byte stream into lines with bounded memory. Pure: it never reads.
#[derive(Debug)]
pub struct Splitter {
    max: usize,
    /// The stream offset of the next byte fed.
    pos: u64,
    /// The current partial line (at most `max` bytes).
    buf: Vec<u8>,
    /// The current line passed `max`; drop bytes until its newline.
    cut: bool,
    /// Bytes of the current line consumed (NULs skipped, discarded tail included).
    pending: u64,
}

impl Splitter {
    pub fn new(max: u64, pos: u64) -> Splitter {
        Splitter {
            max: max.max(1) as usize,
            pos,
            buf: Vec::new(),
            cut: false,
            pending: 0,
        }
    }

    /// The offset of the next byte to feed.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Whether a partial line is held.
    pub fn has_partial(&self) -> bool {
        self.pending > 0 && (!self.buf.is_empty() || self.cut)
    }

    /// Forget any partial line and continue at `pos`.
    pub fn reset(&mut self, pos: u64) {
        self.pos = pos;
        self.buf.clear();
        self.cut = false;
        self.pending = 0;
    }

    /// Skip `n` bytes of the stream (a hole) as if they were NULs.
    pub fn skip(&mut self, n: u64) {
        self.pos += n;
        self.pending += n;
    }

    fn push(&mut self, seg: &[u8]) {
        if self.cut {
            return;
        }
        let room = self.max - self.buf.len();
        if seg.len() > room {
            self.buf.extend_from_slice(&seg[..room]);
            self.cut = true;
        } else {
            self.buf.extend_from_slice(seg);
        }
    }

    /// Feed the next bytes of the stream; `emit` gets every complete line.
    pub fn feed(&mut self, data: &[u8], mut emit: impl FnMut(Line<'_>)) {
        let mut i = 0;
        while i < data.len() {
            if self.buf.is_empty() && !self.cut {
                // At a line start: NULs here are a hole's, not a writer's.
                let start = i;
                while i < data.len() && data[i] == 0 {
                    i += 1;
                }
                self.pending += (i - start) as u64;
                if i == data.len() {
                    break;
                }
            }
            let rest = &data[i..];
            match memchr::memchr(b'\n', rest) {
                Some(j) => {
                    let end = self.pos + (i + j + 1) as u64;
                    if self.buf.is_empty() && !self.cut && j <= self.max {
                        emit(Line {
                            bytes: &rest[..j],
                            cut: false,
                            unterminated: false,
                            end,
                        });
                    } else {
                        self.push(&rest[..j]);
                        emit(Line {
                            bytes: &self.buf,
                            cut: self.cut,
                            unterminated: false,
                            end,
                        });
                        self.buf.clear();
                        self.cut = false;
                    }
                    self.pending = 0;
                    i += j + 1;
                }
                None => {
                    self.push(rest);
                    self.pending += rest.len() as u64;
                    i = data.len();
                }
            }
        }
        self.pos += data.len() as u64;
    }

    /// Emit the partial line, if any, as an unterminated line ending at `pos`.
    pub fn flush(&mut self, mut emit: impl FnMut(Line<'_>)) {
        if self.has_partial() {
            emit(Line {
                bytes: &self.buf,
                cut: self.cut,
                unterminated: true,
                end: self.pos,
            });
        }
        self.buf.clear();
        self.cut = false;
        self.pending = 0;
    }
}

/// One open source inode being read.
#[derive(Debug)]
pub struct Tailer {
    pub file: File,
    pub id: Identity,
    /// The name it had when last seen in its directory.
    pub name: String,
    /// The end of the last line written to the mirror.
    pub committed: u64,
    pub fp: Fingerprint,
    split: Splitter,
    /// When the held partial line (if any) last grew.
    pub partial_since: Option<std::time::Instant>,
}

/// What a pump found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pumped {
    /// Bytes read.
    pub read: u64,
    /// Lines emitted.
    pub lines: u64,
    /// The file had shrunk below what was read: it was truncated by someone
    /// else, and reading restarted at 0.
    pub truncated: bool,
    /// The read budget ran out before the end of the file.
    pub more: bool,
}

impl Tailer {
    /// Start tailing `file` (named `name`) at `offset`.
    pub fn new(file: File, name: String, offset: u64, max_line: u64) -> std::io::Result<Tailer> {
        let meta = safe_dir::fstat(&file)?;
        let fp = Fingerprint::of(&file, 0, FINGERPRINT_LEN.min(offset))?;
        Ok(Tailer {
            id: Identity::from(&meta),
            file,
            name,
            committed: offset,
            fp,
            split: Splitter::new(max_line, offset),
            partial_since: None,
        })
    }

    /// The offset read up to (partial line included).
    pub fn read_pos(&self) -> u64 {
        self.split.pos()
    }

    pub fn has_partial(&self) -> bool {
        self.split.has_partial()
    }

    /// Everything read past `committed` is forgotten (a mirror write failed):
    /// it will be read again.
    pub fn rewind(&mut self) {
        self.split.reset(self.committed);
        self.partial_since = None;
    }

    /// The mirror holds everything up to `end` now.
    pub fn commit(&mut self, end: u64) {
        self.committed = end;
        if self.fp.len < FINGERPRINT_LEN && end > self.fp.len {
            if let Ok(fp) = Fingerprint::of(&self.file, 0, FINGERPRINT_LEN.min(end)) {
                self.fp = fp;
            }
        }
    }

    /// The file lost its first `k` bytes (collapse) or all of them (`k` =
    /// everything, truncate): shift the positions.
    pub fn shifted(&mut self, k: u64) {
        self.committed = self.committed.saturating_sub(k);
        self.split.reset(self.committed);
        self.partial_since = None;
        self.fp =
            Fingerprint::of(&self.file, 0, FINGERPRINT_LEN.min(self.committed)).unwrap_or_default();
    }

    /// The file's current size.
    pub fn size(&self) -> std::io::Result<u64> {
        Ok(self.meta()?.size)
    }

    /// The file's current metadata (through the open descriptor).
    pub fn meta(&self) -> std::io::Result<safe_dir::Meta> {
        safe_dir::fstat(&self.file)
    }

    /// Read what was appended (up to [`READ_BUDGET`]), handing each complete
    /// line to `emit`.
    pub fn pump(&mut self, mut emit: impl FnMut(Line<'_>)) -> std::io::Result<Pumped> {
        let mut out = Pumped::default();
        let size = self.size()?;
        // Truncated under us (an external copy-truncate), possibly already
        // regrown past where we were: everything now in the file is new.
        let regrown = size > self.split.pos() && self.fp.len > 0 && !self.fp.matches(&self.file);
        if size < self.split.pos() || regrown {
            out.truncated = true;
            self.committed = 0;
            self.split.reset(0);
            self.fp = Fingerprint::default();
        }
        let mut buf = vec![0u8; CHUNK.min((size - self.split.pos()) as usize)];
        while self.split.pos() < size {
            if out.read >= READ_BUDGET {
                out.more = true;
                break;
            }
            let pos = self.split.pos();
            // Skip holes without reading them.
            if let Ok(data) = rustix::fs::seek(&self.file, rustix::fs::SeekFrom::Data(pos)) {
                if data > pos && !self.split.has_partial() {
                    self.split.skip(data.min(size) - pos);
                    continue;
                }
            }
            let want = buf.len().min((size - pos) as usize);
            let n = self.file.read_at(&mut buf[..want], pos)?;
            if n == 0 {
                break;
            }
            out.read += n as u64;
            let lines = &mut out.lines;
            self.split.feed(&buf[..n], |l| {
                *lines += 1;
                emit(l)
            });
        }
        if self.split.has_partial() {
            if out.read > 0 || self.partial_since.is_none() {
                self.partial_since = Some(std::time::Instant::now());
            }
        } else {
            self.partial_since = None;
        }
        Ok(out)
    }

    /// Emit the held partial line (timeout, rotation, end of a drained file).
    pub fn flush(&mut self, emit: impl FnMut(Line<'_>)) {
        self.split.flush(emit);
        self.partial_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(max: u64, chunks: &[&[u8]]) -> (Vec<(Vec<u8>, bool, u64)>, Splitter) {
        let mut s = Splitter::new(max, 0);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, |l| out.push((l.bytes.to_vec(), l.cut, l.end)));
        }
        (out, s)
    }

    #[test]
    fn lines_across_chunks_with_exact_ends() {
        let (out, s) = split_all(100, &[b"ab", b"c\nde", b"f\n", b"gh"]);
        assert_eq!(
            out,
            vec![(b"abc".to_vec(), false, 4), (b"def".to_vec(), false, 8)]
        );
        assert!(s.has_partial());
        assert_eq!(s.pos(), 10);
    }

    #[test]
    fn long_line_is_cut_once_and_its_tail_dropped() {
        let long = [b'x'; 50];
        let (out, _) = split_all(8, &[&long[..20], &long[20..], b"\nok\n"]);
        assert_eq!(out[0], (b"xxxxxxxx".to_vec(), true, 51));
        assert_eq!(out[1], (b"ok".to_vec(), false, 54));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn nul_runs_at_line_start_are_skipped_not_inside_lines() {
        let (out, _) = split_all(100, &[b"\0\0\0a\0b\n", b"\0\0", b"\0c\n"]);
        assert_eq!(
            out,
            vec![(b"a\0b".to_vec(), false, 7), (b"c".to_vec(), false, 12)]
        );
    }

    #[test]
    fn flush_emits_the_partial_once() {
        let mut s = Splitter::new(100, 0);
        s.feed(b"abc", |_| panic!("no line yet"));
        let mut got = Vec::new();
        s.flush(|l| got.push((l.bytes.to_vec(), l.unterminated, l.end)));
        s.flush(|l| got.push((l.bytes.to_vec(), l.unterminated, l.end)));
        assert_eq!(got, vec![(b"abc".to_vec(), true, 3)]);
        s.feed(b"def\n", |l| {
            got.push((l.bytes.to_vec(), l.unterminated, l.end))
        });
        assert_eq!(got[1], (b"def".to_vec(), false, 7));
    }

    #[test]
    fn memory_stays_bounded_on_a_huge_line() {
        let mut s = Splitter::new(1024, 0);
        let chunk = vec![b'y'; 1 << 20];
        for _ in 0..64 {
            s.feed(&chunk, |_| panic!("no newline yet"));
        }
        assert!(s.buf.capacity() <= 2048 + 1024, "{}", s.buf.capacity());
        let mut n = 0;
        s.feed(b"\n", |l| {
            assert!(l.cut);
            assert_eq!(l.bytes.len(), 1024);
            n += 1
        });
        assert_eq!(n, 1);
    }

    proptest::proptest! {
        /// However the stream is chunked, the same lines come out with the
        /// same end offsets.
        #[test]
        fn chunking_does_not_matter(
            data in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b'\n', 0u8]), 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..10),
            max in 1u64..20,
        ) {
            let (whole, _) = split_all(max, &[&data]);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|c| *c <= data.len()).collect();
            cuts.sort();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for c in cuts { chunks.push(&data[at..c]); at = c; }
            chunks.push(&data[at..]);
            let (parts, _) = split_all(max, &chunks);
            proptest::prop_assert_eq!(whole, parts);
        }
    }
}
