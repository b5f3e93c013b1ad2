//! The files the journal vouches for: every `compress` record binds an
//! archive to the SHA-256 of its bytes and of its decompressed content; a
//! `retention.delete` record says an archive is gone on purpose; `segment`
//! records bind a mirror's bytes `[0, n)` as they are written (a rolling
//! SHA-256), and follow the mirror through its cut (`rotate`, same inode)
//! into its archive, whose content hash must then be the last segment's.
//! `verify` recomputes every hash still expected (gzip read with a
//! multi-member decoder, streaming, bounded memory) and fails on a file that
//! is missing without a deletion record, shorter than vouched for, or whose
//! bytes changed.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

/// What the files check covered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Files {
    pub checked: u64,
    pub bytes: u64,
    pub deleted: u64,
}

struct Expect {
    seq: u64,
    content: String,
    file: String,
}

/// A mirror followed by inode from its segment records to where it is now.
#[derive(Clone)]
struct Track {
    ino: u64,
    /// Where it is now (live name, archive name, or the .gz).
    path: String,
    /// The last segment: bytes vouched for, their rolling hash, its _seq.
    len: u64,
    sha: String,
    seq: u64,
    /// Compressed into (content hash, content length).
    compressed: Option<(String, u64)>,
    gone: bool,
}

/// Check the archives the records in `bytes` (a verified chain) vouch for.
/// Err names the file and why.
pub fn verify_files(bytes: &[u8]) -> Result<Files, String> {
    verify_files_with(bytes, &mut |_, _| {})
}

/// [`verify_files`], calling `done(path, bytes)` after each file (progress).
pub fn verify_files_with(bytes: &[u8], done: &mut dyn FnMut(&str, u64)) -> Result<Files, String> {
    verify_files_at(bytes, None, done)
}

/// Where a path a record names is now: under `root` for a relocated copy
/// of the installation (a restored backup), else where it was.
pub fn relocated(root: Option<&std::path::Path>, path: &str) -> String {
    match root {
        Some(r) => r.join(path.trim_start_matches('/')).display().to_string(),
        None => path.to_string(),
    }
}

/// [`verify_files_with`] on a copy of the installation under `root`: every
/// path the records name is looked for under it.
pub fn verify_files_at(
    bytes: &[u8],
    root: Option<&std::path::Path>,
    done: &mut dyn FnMut(&str, u64),
) -> Result<Files, String> {
    let ledger = Ledger::read(bytes);
    let mut out = Files {
        deleted: ledger.deleted,
        ..Files::default()
    };
    for (path, e) in &ledger.expect {
        let path = relocated(root, path);
        let n = check_archive(&path, e)?;
        out.checked += 1;
        out.bytes += n;
        done(&path, n);
    }
    for t in ledger.tracks.iter().filter(|t| !t.gone) {
        let t = &Track {
            path: relocated(root, &t.path),
            ..t.clone()
        };
        if let Some(n) = check_track(t)? {
            out.checked += 1;
            out.bytes += n;
            done(&t.path, n);
        }
    }
    Ok(out)
}

/// What the records expect of the files: every archive still vouched for
/// by its `compress` record, every mirror followed from its segments.
#[derive(Default)]
struct Ledger {
    expect: BTreeMap<String, Expect>,
    tracks: Vec<Track>,
    /// Archives a `retention.delete` record accounts for.
    deleted: u64,
}

impl Ledger {
    /// Reads the ok records of a verified chain, in order.
    fn read(bytes: &[u8]) -> Ledger {
        let mut l = Ledger::default();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            if v["status"] != "ok" {
                continue;
            }
            let seq = v["_seq"].as_u64().unwrap_or(0);
            match v["action"].as_str() {
                Some("segment") => l.segment(&v, seq),
                Some("rotate") => {
                    if let (Some(k), Some(new)) = (l.open(&v), v["new"].as_str()) {
                        l.tracks[k].path = new.to_string();
                    }
                }
                Some("compress") => l.compress(&v, seq),
                Some("retention.delete") => l.delete(&v),
                _ => {}
            }
        }
        l
    }

    /// The live track of the record's resource (inode and path), if any.
    fn open(&self, v: &serde_json::Value) -> Option<usize> {
        let ino = v["resource"]["inode"].as_u64()?;
        let path = v["resource"]["path"].as_str().unwrap_or("");
        self.tracks
            .iter()
            .rposition(|t| t.ino == ino && t.path == path && !t.gone)
    }

    /// A mirror's bytes `[0, size)` vouched for: its track advances, or a
    /// new one starts (a new mirror, or one already compressed).
    fn segment(&mut self, v: &serde_json::Value, seq: u64) {
        let (Some(ino), Some(sha)) = (
            v["resource"]["inode"].as_u64(),
            v["content_sha256"].as_str(),
        ) else {
            return;
        };
        let len = v["resource"]["size"].as_u64().unwrap_or(0);
        match self.open(v) {
            Some(k) if self.tracks[k].compressed.is_none() => {
                let t = &mut self.tracks[k];
                t.len = len;
                t.sha = sha.to_string();
                t.seq = seq;
            }
            _ => self.tracks.push(Track {
                ino,
                path: v["resource"]["path"].as_str().unwrap_or("").to_string(),
                len,
                sha: sha.to_string(),
                seq,
                compressed: None,
                gone: false,
            }),
        }
    }

    /// An archive made: its hashes are expected of the `.gz`, and a mirror
    /// track that ends here moves to it.
    fn compress(&mut self, v: &serde_json::Value, seq: u64) {
        if let (Some(k), Some(new), Some(content)) = (
            self.open(v),
            v["new"].as_str(),
            v["content_sha256"].as_str(),
        ) {
            let size = v["resource"]["size"].as_u64().unwrap_or(0);
            self.tracks[k].path = new.to_string();
            self.tracks[k].compressed = Some((content.to_string(), size));
        }
        let (Some(path), Some(content), Some(file)) = (
            v["new"].as_str(),
            v["content_sha256"].as_str(),
            v["file_sha256"].as_str(),
        ) else {
            return;
        };
        self.expect.insert(
            path.to_string(),
            Expect {
                seq,
                content: content.to_string(),
                file: file.to_string(),
            },
        );
    }

    /// A file deleted on purpose: nothing is expected of it any more.
    fn delete(&mut self, v: &serde_json::Value) {
        let Some(p) = v["resource"]["path"].as_str() else {
            return;
        };
        if self.expect.remove(p).is_some() {
            self.deleted += 1;
        }
        for t in self.tracks.iter_mut().filter(|t| t.path == p) {
            t.gone = true;
        }
    }
}

/// An archive against its `compress` record: the file's bytes and its
/// decompressed content, in one streaming pass. Its length.
fn check_archive(path: &str, e: &Expect) -> Result<u64, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "{path}: missing, and no retention.delete record says it was deleted (compressed at _seq {})",
                e.seq
            ))
        }
        Err(err) => return Err(format!("{path}: cannot read: {err}")),
    };
    // One pass: the compressed bytes are hashed as the decoder reads them.
    let mut tee = Tee {
        inner: &f,
        sha: Sha256::new(),
        n: 0,
    };
    let content = {
        let dec =
            flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, &mut tee));
        crate::sys::digest::sha256(dec)
    };
    // Whatever the decoder left unread (trailing garbage, or all after a
    // corrupt member) counts too.
    std::io::copy(&mut tee, &mut std::io::sink())
        .map_err(|err| format!("{path}: cannot read: {err}"))?;
    let n = tee.n;
    let file_sha = crate::sys::digest::hex(&tee.sha.finalize());
    if file_sha != e.file {
        return Err(format!(
            "{path}: its bytes changed after it was made (SHA-256 differs from the compress record _seq {})",
            e.seq
        ));
    }
    let content = content.map_err(|err| format!("{path}: does not decompress: {err}"))?;
    if content.0 != e.content {
        return Err(format!(
            "{path}: its decompressed content differs from the compress record _seq {}",
            e.seq
        ));
    }
    Ok(n)
}

/// A mirror against its last segment. An archived one: its content (checked
/// with the archive) must be what the segments vouched for (`None`: nothing
/// more read). A plain one: its first bytes re-hashed (their length).
fn check_track(t: &Track) -> Result<Option<u64>, String> {
    if let Some((content, size)) = &t.compressed {
        if t.len > *size {
            return Err(format!(
                "{}: the mirror was archived shorter ({size} bytes) than its segment records vouch for ({} bytes, _seq {})",
                t.path, t.len, t.seq
            ));
        }
        if t.len == *size && *content != t.sha {
            return Err(format!(
                "{}: the archived mirror differs from its segment records (_seq {}): changed before it was compressed",
                t.path, t.seq
            ));
        }
        return Ok(None);
    }
    let f = match std::fs::File::open(&t.path) {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "{}: mirror missing, and no retention.delete record says it was deleted (segment _seq {})",
                t.path, t.seq
            ))
        }
        Err(err) => return Err(format!("{}: cannot read: {err}", t.path)),
    };
    let (sha, n) = crate::sys::digest::sha256(std::io::Read::take(&f, t.len))
        .map_err(|err| format!("{}: cannot read: {err}", t.path))?;
    if n < t.len {
        return Err(format!(
            "{}: mirror truncated: {n} bytes, its segment records vouch for {} (_seq {})",
            t.path, t.len, t.seq
        ));
    }
    if sha != t.sha {
        return Err(format!(
            "{}: mirror bytes changed: they differ from segment _seq {} (an edit, deletion or reordering of lines)",
            t.path, t.seq
        ));
    }
    Ok(Some(n))
}

/// A reader that hashes what passes through it.
struct Tee<R: Read> {
    inner: R,
    sha: Sha256,
    n: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.sha.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
}
