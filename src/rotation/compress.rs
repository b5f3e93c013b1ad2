//! Compressing one rotated file to gzip, crash-safely and in parallel
//! (independent members on two threads, as `pigz --independent` does):
//! stream into a hidden temp file (bounded memory), fsync, verify by
//! decompressing it (length and CRC-32 must match what was read), rename to
//! `<archive>.gz` without replacing anything, fsync the directory, and only
//! then remove the uncompressed file. A crash at any step leaves the original
//! or a complete archive; [`recover`] finishes or cleans up at start.
//!
//! Runs on the housekeeping thread, which lowers its own CPU and I/O priority
//! ([`lower_priority`]) so compression never competes with the applications.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};

use flate2::{read::MultiGzDecoder, write::GzEncoder, Compression, Crc};

use crate::policy::archive::Archive;
use crate::sys::safe_dir::{self, SafeDir};
use crate::sys::sparse::Copier;
use sha2::{Digest, Sha256};

/// What a compression produced.
#[derive(Debug, Clone)]
pub struct Compressed {
    pub gz_name: String,
    pub in_bytes: u64,
    pub out_bytes: u64,
    /// SHA-256 (hex) of the uncompressed content and of the .gz file, for
    /// the journal: `verify` recomputes both.
    pub content_sha256: String,
    pub file_sha256: String,
}

/// Compress the plain archive `a` (which must not be `.gz`) in `dir`;
/// `journal_first` as for [`compress_as`].
pub fn compress(
    dir: &SafeDir,
    a: &Archive,
    journal_first: &mut dyn FnMut(&Compressed),
) -> io::Result<Compressed> {
    compress_as(
        dir,
        &a.plain_name(),
        a.gz_name(),
        &a.gz_tmp_name(),
        journal_first,
    )
}

/// Compress `plain` in `dir` into `gz` by way of `tmp`: temp, verify, fsync,
/// rename (never over an existing file), then unlink `plain`.
/// `journal_first` is called once the temp file is complete and durable,
/// before the rename (write-ahead): a crash after the rename cannot leave a
/// .gz the journal never vouched for; a crash before it leaves a temp file
/// that recovery removes, and the compression (and its record) is redone.
pub fn compress_as(
    dir: &SafeDir,
    plain: &str,
    gz: String,
    tmp: &str,
    journal_first: &mut dyn FnMut(&Compressed),
) -> io::Result<Compressed> {
    let (plain, tmp) = (plain.to_string(), tmp.to_string());
    let src = dir.open_read(&plain)?;
    let meta = safe_dir::fstat(&src)?;
    if dir.exists(&tmp) {
        dir.unlink(&tmp)?;
    }
    let out = dir.create_new(&tmp, meta.perm() & 0o666)?;
    let result = (|| {
        // Every member was verified as it was made (see `verify_member`);
        // what remains to check is that all of them reached the file.
        let (in_bytes, _crc, written, content, file) = encode(&src, &out)?;
        safe_dir::copy_owner_and_mode(&out, &meta)?;
        out.sync_all()?;
        let out_bytes = safe_dir::fstat(&out)?.size;
        if out_bytes != written {
            return Err(io::Error::other(format!(
                "verification of {} failed: {out_bytes} bytes on disk, {written} written",
                dir.join(&tmp).display()
            )));
        }
        Ok((in_bytes, out_bytes, content, file))
    })();
    let (in_bytes, out_bytes, content_sha256, file_sha256) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = dir.unlink(&tmp);
            return Err(e);
        }
    };
    crate::sys::crash::point("compress.written");
    let done = Compressed {
        gz_name: gz.clone(),
        in_bytes,
        out_bytes,
        content_sha256,
        file_sha256,
    };
    journal_first(&done);
    crate::sys::crash::point("compress.journaled");
    dir.rename_noreplace(&tmp, &gz).inspect_err(|_| {
        let _ = dir.unlink(&tmp);
    })?;
    dir.sync()?;
    crate::sys::crash::point("compress.renamed");
    dir.unlink(&plain)?;
    dir.sync()?;
    Ok(done)
}

/// Compression level: gzip's default, the usual size/speed balance.
const LEVEL: u32 = 6;
/// Input per gzip member. Members are compressed in parallel; each restarts
/// the 32 KiB dictionary, which costs well under 0.1 % at this size.
const CHUNK: usize = 4 << 20;
/// Members compressed at once (the housekeeping thread's priority is inherited).
const THREADS: usize = 2;

/// Stream `src` (without holes, see `sparse`) into `out` as gzip; returns
/// the bytes compressed, their CRC-32, the compressed length, and the
/// SHA-256 of the content and of the compressed file. Memory stays bounded:
/// at most `THREADS` chunks in flight plus the one being filled.
fn encode(src: &File, out: &File) -> io::Result<(u64, u32, u64, String, String)> {
    let size = safe_dir::fstat(src)?.size;
    let members = Members::new(BufWriter::with_capacity(256 * 1024, out));
    let mut c = Copier::new(
        src,
        Tally {
            inner: members,
            crc: Crc::new(),
            n: 0,
            sha: Sha256::new(),
        },
    );
    c.copy(0, size)?;
    let t = c.into_inner();
    let (n, sum) = (t.n, t.crc.sum());
    let content = crate::sys::digest::hex(&t.sha.finalize());
    let (mut out, written, file) = t.inner.finish()?;
    out.flush()?;
    Ok((n, sum, written, content, file))
}

/// Check a freshly made gzip member against its input by decompressing it
/// (in memory, on the worker thread): a compressor fault is caught before
/// the original is removed.
fn verify_member(member: &[u8], input: &[u8]) -> io::Result<()> {
    let mut dec = flate2::read::GzDecoder::new(member);
    let mut buf = [0u8; 64 * 1024];
    let mut at = 0usize;
    loop {
        let n = dec.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if input.get(at..at + n) != Some(&buf[..n]) {
            return Err(io::Error::other(
                "a compressed member does not decompress to its input",
            ));
        }
        at += n;
    }
    if at != input.len() {
        return Err(io::Error::other(
            "a compressed member decompresses to less than its input",
        ));
    }
    Ok(())
}

/// A writer that cuts its input into chunks, compresses each into its own
/// gzip member on a worker thread, and writes the members in order: a
/// multi-member gzip file (RFC 1952), which every gzip reader decodes as one
/// stream.
struct Members<W: Write> {
    out: W,
    chunk: Vec<u8>,
    in_flight: std::collections::VecDeque<std::thread::JoinHandle<io::Result<Vec<u8>>>>,
    wrote_any: bool,
    /// Compressed bytes written so far, and their SHA-256.
    written: u64,
    sha: Sha256,
}

impl<W: Write> Members<W> {
    fn new(out: W) -> Members<W> {
        Members {
            out,
            chunk: Vec::with_capacity(CHUNK),
            in_flight: Default::default(),
            wrote_any: false,
            written: 0,
            sha: Sha256::new(),
        }
    }

    fn submit(&mut self) -> io::Result<()> {
        while self.in_flight.len() >= THREADS {
            self.collect_one()?;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.wrote_any = true;
        let job = std::thread::Builder::new()
            .name("gzip".into())
            .spawn(move || {
                let mut enc =
                    GzEncoder::new(Vec::with_capacity(chunk.len() / 4), Compression::new(LEVEL));
                enc.write_all(&chunk)?;
                let member = enc.finish()?;
                verify_member(&member, &chunk)?;
                Ok(member)
            })?;
        self.in_flight.push_back(job);
        Ok(())
    }

    fn collect_one(&mut self) -> io::Result<()> {
        if let Some(job) = self.in_flight.pop_front() {
            let member = job
                .join()
                .map_err(|_| io::Error::other("a compression thread panicked"))??;
            self.out.write_all(&member)?;
            self.sha.update(&member);
            self.written += member.len() as u64;
        }
        Ok(())
    }

    /// Compress what is left and write every member; returns the writer,
    /// the compressed length and its SHA-256.
    fn finish(mut self) -> io::Result<(W, u64, String)> {
        if !self.chunk.is_empty() || !self.wrote_any {
            self.submit()?;
        }
        while !self.in_flight.is_empty() {
            self.collect_one()?;
        }
        let sha = crate::sys::digest::hex(&self.sha.finalize());
        Ok((self.out, self.written, sha))
    }
}

impl<W: Write> Write for Members<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.chunk.len();
        let k = room.min(buf.len());
        self.chunk.extend_from_slice(&buf[..k]);
        if self.chunk.len() == CHUNK {
            self.submit()?;
        }
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that counts and checksums what passes through it.
struct Tally<W: Write> {
    inner: W,
    crc: Crc,
    n: u64,
    sha: Sha256,
}

impl<W: Write> Write for Tally<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.crc.update(&buf[..k]);
        self.sha.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decompress a gzip file (all members) and return its length and CRC-32.
pub fn crc_of_gzip(f: &File) -> io::Result<(u64, u32)> {
    let mut r = f;
    std::io::Seek::rewind(&mut r)?;
    let mut dec = MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, f));
    let mut crc = Crc::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = dec.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        crc.update(&buf[..n]);
    }
    Ok((total, crc.sum()))
}

/// Length and CRC-32 of a plain file as compression reads it (without holes).
fn crc_of_plain(f: &File) -> io::Result<(u64, u32)> {
    let size = safe_dir::fstat(f)?.size;
    let mut c = Copier::new(
        f,
        Tally {
            inner: io::sink(),
            crc: Crc::new(),
            n: 0,
            sha: Sha256::new(),
        },
    );
    c.copy(0, size)?;
    let t = c.into_inner();
    Ok((t.n, t.crc.sum()))
}

/// What start-up recovery did with a leftover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// A half-written temp file was removed; the original is compressed again.
    RemovedTemp(String),
    /// The archive was complete but the original was not yet removed (the
    /// crash also came before the `compress` record): the original's name
    /// and inode, and the hashes that record needs.
    RemovedOriginal(String, Finished),
}

/// A compression finished by recovery, for its `compress` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub ino: u64,
    pub size: u64,
    pub gz_name: String,
    pub content_sha256: String,
    pub file_sha256: String,
}

/// Finish or clean up compressions interrupted by a crash, among `names` of `dir`.
pub fn recover(dir: &SafeDir, names: &[String]) -> Vec<io::Result<Recovered>> {
    let mut out = Vec::new();
    for n in names {
        if let Some(gz) = n
            .strip_prefix('.')
            .and_then(|s| s.strip_suffix(crate::policy::archive::TMP_SUFFIX))
        {
            if gz.ends_with(".gz") && crate::policy::archive::parse_any(gz).is_some() {
                out.push(dir.unlink(n).map(|()| Recovered::RemovedTemp(n.clone())));
            }
            continue;
        }
        let Some(a) = crate::policy::archive::parse_any(n) else {
            continue;
        };
        if a.gz || !names.contains(&a.gz_name()) {
            continue;
        }
        // A symlink (or FIFO, directory) beside a .gz of its name is not a
        // compression of ours cut short: leave it alone, do not fail on it.
        if !dir
            .stat(n)
            .is_ok_and(|m| m.kind() == safe_dir::Kind::Regular)
        {
            continue;
        }
        // Both X and X.gz: the crash came after the rename, before the unlink.
        let r = (|| {
            let plain = dir.open_read(n)?;
            let gz = dir.open_read(&a.gz_name())?;
            if crc_of_plain(&plain)? == crc_of_gzip(&gz)? {
                let meta = safe_dir::fstat(&plain)?;
                let done = Finished {
                    ino: meta.ino,
                    size: meta.size,
                    gz_name: a.gz_name(),
                    content_sha256: crate::sys::digest::sha256(&mut dir.open_read(n)?)?.0,
                    file_sha256: crate::sys::digest::sha256(&mut dir.open_read(&a.gz_name())?)?.0,
                };
                dir.unlink(n)?;
                dir.sync()?;
                Ok(Recovered::RemovedOriginal(n.clone(), done))
            } else {
                Err(io::Error::other(format!(
                    "{} and {} both exist and differ; leaving both for a person to decide",
                    dir.join(n).display(),
                    dir.join(&a.gz_name()).display()
                )))
            }
        })();
        out.push(r);
    }
    out
}

/// Lower the calling thread's CPU priority (nice 10) and I/O priority (idle
/// class), so compression runs in the machine's spare time.
pub fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's id; failure is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
        // IOPRIO_WHO_PROCESS = 1 (a thread id here), class IDLE = 3.
        libc::syscall(libc::SYS_ioprio_set, 1, tid, 3 << 13);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_verifies_and_removes_original() {
        let tmp = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i} some payload\n").into_bytes())
            .collect();
        std::fs::write(tmp.path().join("a.log.2026-11-20"), &data).unwrap();
        let dir = SafeDir::open(tmp.path()).unwrap();
        let a = crate::policy::archive::parse_any("a.log.2026-11-20").unwrap();
        let mut first = None;
        let c = compress(&dir, &a, &mut |c| first = Some(c.file_sha256.clone())).unwrap();
        assert_eq!(
            first,
            Some(c.file_sha256.clone()),
            "journaled before the rename"
        );
        assert_eq!(c.in_bytes, data.len() as u64);
        assert!(c.out_bytes < c.in_bytes / 3);
        assert!(!tmp.path().join("a.log.2026-11-20").exists());
        let mut back = Vec::new();
        MultiGzDecoder::new(File::open(tmp.path().join("a.log.2026-11-20.gz")).unwrap())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn recovery_removes_torn_temp_and_finished_original() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::write(p.join("a.log.2026-11-20"), b"hello\n").unwrap();
        std::fs::write(
            p.join(".a.log.2026-11-20.gz.logwarden-tmp"),
            b"\x1f\x8b torn",
        )
        .unwrap();
        std::fs::write(p.join("b.log.2026-11-20"), b"world\n").unwrap();
        let dir = SafeDir::open(p).unwrap();
        let b = crate::policy::archive::parse_any("b.log.2026-11-20").unwrap();
        // Simulate a crash after the rename: compress, then put the original back.
        compress(&dir, &b, &mut |_| {}).unwrap();
        std::fs::write(p.join("b.log.2026-11-20"), b"world\n").unwrap();
        let names = dir.list().unwrap();
        let got: Vec<_> = recover(&dir, &names)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert!(got.contains(&Recovered::RemovedTemp(
            ".a.log.2026-11-20.gz.logwarden-tmp".into()
        )));
        assert!(got.iter().any(
            |r| matches!(r, Recovered::RemovedOriginal(n, f) if n == "b.log.2026-11-20" && f.gz_name == "b.log.2026-11-20.gz")
        ));
        assert!(p.join("a.log.2026-11-20").exists());
        assert!(p.join("b.log.2026-11-20.gz").exists());
    }
}
