//! The audit journal: one NDJSON record per action (rotate, compress, delete,
//! reload, error …), appended to `state_dir/journal.ndjson`, hash-chained.
//!
//! This is the one place that writes records, and every record also goes to
//! the daemon's own log through `tracing`, so the core reports through a single
//! interface. Each record is serialised once and written with one `write` on
//! an `O_APPEND` descriptor, then fsynced.
//!
//! The chain: a record's line is
//! `{"_v":1,"_seq":N,"_prev":"<hash of record N-1>",<event…>,"_hash":"<hex>"}`
//! where `_hash` is SHA-256 over [`DOMAIN`] followed by the line's exact bytes
//! up to (not including) `,"_hash"`. The bytes hashed are the bytes written,
//! never a re-serialised copy, so a verifier needs no JSON canonical form: it
//! finds the last `,"_hash":"` (a JSON string cannot hold that sequence
//! unescaped) and hashes what precedes it. `_seq` never resets. A torn last
//! line from a crash is cut at the next open and a `recovered` record says so.

pub mod bundle;
mod chain;
pub mod files;
mod query;
mod record;
pub mod retain;
pub mod sign;
pub mod witness;

pub use chain::{contains, verify_chain, verify_chain_with, Broken, Chain};
pub use query::{parse_time, Query, Row};
pub use record::{FileHash, Record, Resource, Status};

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// A journal shared by the threads that act.
pub type SharedJournal = Arc<Mutex<Journal>>;

/// Append a record to a shared journal (a poisoned lock is taken over: a
/// panic elsewhere must not silence the audit trail).
pub fn append(j: &SharedJournal, r: Record) {
    match j.lock() {
        Ok(mut g) => g.record(r),
        Err(poisoned) => poisoned.into_inner().record(r),
    }
}

/// Append a (signed, when a key is present) `checkpoint` record to a shared
/// journal.
pub fn checkpoint_shared(j: &SharedJournal, now: DateTime<Utc>, why: &str) {
    match j.lock() {
        Ok(mut g) => g.checkpoint(now, why),
        Err(poisoned) => poisoned.into_inner().checkpoint(now, why),
    }
}

/// The file name of the journal inside `state_dir`.
pub const FILE_NAME: &str = "journal.ndjson";
/// The record format version (`_v`).
pub const VERSION: u32 = 1;
/// Domain separation for record hashes.
pub const DOMAIN: &[u8] = b"logwarden-journal-v1\0";
/// `_prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// What separates a record's hashed bytes from its `_hash`.
pub const HASH_FIELD: &[u8] = b",\"_hash\":\"";

/// The hash of a record line's bytes before `,"_hash"`.
pub fn record_hash(prefix: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prefix);
    crate::sys::digest::hex(&h.finalize())
}

/// The append-only journal file.
#[derive(Debug)]
pub struct Journal {
    file: Option<File>,
    path: PathBuf,
    /// The last record's `_seq` and `_hash`.
    seq: u64,
    prev: String,
    host: Option<String>,
    boot: Option<String>,
    key: Option<ed25519_dalek::SigningKey>,
    /// Stamps records when they are written (the daemon's clock, test seam
    /// included), so `ts` never goes backwards within a journal.
    clock: crate::sys::clock::Clock,
    state_dir: PathBuf,
    /// The live file's length, its first `_seq`, and the size past which it
    /// is archived.
    size: u64,
    first_seq: u64,
    max_size: u64,
    /// The last segment of each live mirror, for checkpoints.
    live: std::collections::BTreeMap<String, FileHash>,
    forward_secure: bool,
    key_day: Option<chrono::NaiveDate>,
    /// The retained base (see [`Record::base_seq`]).
    base: (u64, String),
}

/// The archived journal files (`journal-<first _seq>.ndjson`, or `.gz` once
/// compressed; in chain order), then the live one.
pub fn files(state_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(state_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| archived_first_seq(n).is_some())
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    // Both forms of one file (a crash between the .gz's rename and the
    // plain file's unlink): the plain one is the original.
    v.dedup_by(|b, a| {
        let first = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(archived_first_seq)
        };
        first(a) == first(b)
    });
    v.push(state_dir.join(FILE_NAME));
    v
}

/// A journal file's bytes, decompressed when it is a `.gz`.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::MultiGzDecoder::new(io::BufReader::new(f)).read_to_end(&mut out)?;
    } else {
        io::BufReader::new(f).read_to_end(&mut out)?;
    }
    Ok(out)
}

/// The retained base of the journal in `state_dir`: `(_seq - 1, _prev)` of
/// the first record of its oldest file.
pub fn base_of(state_dir: &Path) -> (u64, String) {
    let genesis = (0, GENESIS.to_string());
    let Some(oldest) = files(state_dir).into_iter().next() else {
        return genesis;
    };
    let Ok(bytes) = read(&oldest) else {
        return genesis;
    };
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    head_of(first).map_or(genesis, |(seq, prev)| (seq.saturating_sub(1), prev))
}

/// The `_seq` and `_prev` of a record line.
pub fn head_of(line: &[u8]) -> Option<(u64, String)> {
    #[derive(serde::Deserialize)]
    struct Head {
        _seq: u64,
        _prev: String,
    }
    let h: Head = serde_json::from_slice(line).ok()?;
    Some((h._seq, h._prev))
}

/// The name an archived journal file gets.
pub fn archived_name(first_seq: u64) -> String {
    format!("journal-{first_seq:012}.ndjson")
}

/// The first `_seq` an archived journal file's name claims.
pub fn archived_first_seq(name: &str) -> Option<u64> {
    let n = name.strip_prefix("journal-")?;
    let n = n
        .strip_suffix(".ndjson.gz")
        .or_else(|| n.strip_suffix(".ndjson"))?;
    (n.len() == 12).then(|| n.parse().ok()).flatten()
}

/// The `(_seq, _hash)` of a file's last complete record, reading its end.
fn last_tip(path: &Path) -> io::Result<Option<(u64, String)>> {
    if path.extension().is_some_and(|e| e == "gz") {
        let bytes = read(path)?;
        return Ok(bytes
            .split(|b| *b == b'\n')
            .rev()
            .find(|l| !l.is_empty())
            .and_then(tip_of));
    }
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(1 << 20)))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    Ok(tail
        .split(|b| *b == b'\n')
        .rev()
        .find(|l| !l.is_empty())
        .and_then(tip_of))
}

/// The `_seq` and `_hash` of a record line, if it is a chained record.
pub fn tip_of(line: &[u8]) -> Option<(u64, String)> {
    #[derive(serde::Deserialize)]
    struct Tip {
        _seq: u64,
        _hash: String,
    }
    let t: Tip = serde_json::from_slice(line).ok()?;
    Some((t._seq, t._hash))
}

/// The live journal file, created 0600 if missing, opened for appending.
fn open_live(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl Journal {
    /// Open (creating, mode 0600) the journal in `state_dir`, find the tip of
    /// its chain, and cut a torn last line (journaling that it did).
    pub fn open(state_dir: &Path) -> io::Result<Journal> {
        let path = state_dir.join(FILE_NAME);
        let mut file = open_live(&path)?;
        let len = file.metadata()?.len();
        // The last complete line, from the file's last 1 MiB.
        let from = len.saturating_sub(1 << 20);
        file.seek(SeekFrom::Start(from))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let complete = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let torn = tail.len() - complete;
        if torn > 0 {
            file.set_len(from + complete as u64)?;
            file.sync_data()?;
        }
        let last = tail[..complete.saturating_sub(1)]
            .rsplit(|b| *b == b'\n')
            .next()
            .unwrap_or_default();
        let (seq, prev) = if last.is_empty() {
            // A new live file: the chain goes on from the newest archived one.
            let archived = files(state_dir);
            match archived.iter().rev().nth(1) {
                Some(p) => last_tip(p)?.unwrap_or((0, GENESIS.to_string())),
                None => (0, GENESIS.to_string()),
            }
        } else {
            match tip_of(last) {
                Some(t) => t,
                None => {
                    // Written before records were chained: keep it aside, start a chain.
                    drop(file);
                    let aside = state_dir.join(format!("{FILE_NAME}.unchained"));
                    std::fs::rename(&path, &aside)?;
                    return Journal::open(state_dir);
                }
            }
        };
        let (key, key_problem) = match sign::load(state_dir) {
            Ok(k) => (k, None),
            Err(e) => (None, Some(e)),
        };
        let size = from + complete as u64;
        let first_seq = if size == 0 {
            seq + 1
        } else {
            // The live file's first record.
            let mut head = Vec::new();
            let mut f = File::open(&path)?;
            let mut buf = [0u8; 4096];
            loop {
                let n = f.read(&mut buf)?;
                head.extend_from_slice(&buf[..n]);
                if n == 0 || memchr::memchr(b'\n', &head).is_some() {
                    break;
                }
            }
            let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
            tip_of(line).map_or(seq + 1, |(s, _)| s)
        };
        let mut j = Journal {
            file: Some(file),
            path,
            state_dir: state_dir.to_path_buf(),
            size,
            first_seq,
            max_size: 64 << 20,
            live: Default::default(),
            forward_secure: false,
            key_day: sign::key_day(state_dir),
            base: base_of(state_dir),
            seq,
            prev,
            host: Some(crate::sys::ids::host_name()),
            boot: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|s| s.trim().to_string()),
            key,
            clock: crate::sys::clock::Clock::from_env().unwrap_or_default(),
        };
        if let Some(e) = key_problem {
            j.record(Record::failed(
                Utc::now(),
                "error",
                format!("checkpoints are not signed: {e}"),
            ));
        }
        if torn > 0 {
            j.record(Record::ok(Utc::now(), "recovered").new_value(format!(
                "cut a torn last record ({torn} bytes) left by a crash"
            )));
        }
        Ok(j)
    }

    /// The live file vanished with the state dir (which the caller has
    /// re-created): go on in a new live file. The chain continues from the
    /// last record written, so `verify` reports the records that went with
    /// the old file instead of accepting a fresh chain in their place.
    pub fn reopen_lost(&mut self) -> io::Result<()> {
        let file = open_live(&self.path)?;
        self.size = file.metadata()?.len();
        self.file = Some(file);
        self.first_seq = self.seq + 1;
        Ok(())
    }

    /// A journal that only logs (for `--dry-run` and `check`).
    pub fn log_only() -> Journal {
        Journal {
            file: None,
            path: PathBuf::new(),
            seq: 0,
            prev: GENESIS.to_string(),
            host: None,
            boot: None,
            key: None,
            clock: crate::sys::clock::Clock::default(),
            state_dir: PathBuf::new(),
            size: 0,
            first_seq: 1,
            max_size: u64::MAX,
            live: Default::default(),
            forward_secure: false,
            key_day: None,
            base: (0, GENESIS.to_string()),
        }
    }

    /// Keep the live mirrors' last segments: a segment updates one, a
    /// rename of it (its cut) ends it.
    fn track_live(&mut self, r: &Record) {
        let Some(res) = &r.resource else { return };
        match r.action.as_str() {
            "segment" => {
                if let (Some(size), Some(sha)) = (res.size, &r.content_sha256) {
                    self.live.insert(
                        res.path.clone(),
                        FileHash {
                            path: res.path.clone(),
                            size,
                            sha256: sha.clone(),
                        },
                    );
                }
            }
            "rotate" | "retention.delete" => {
                self.live.remove(&res.path);
            }
            _ => {}
        }
    }

    /// Archive the live file (chaining on) once it passes `n` bytes.
    /// The host identity written into every record.
    pub fn set_host(&mut self, host: &str) {
        self.host = Some(host.to_string());
    }

    pub fn set_max_size(&mut self, n: u64) {
        self.max_size = n;
    }

    /// Close the live file with a `journal.rotate` record naming what it
    /// becomes, rename it so, and start a new live file; the chain runs on.
    fn rotate(&mut self) {
        let name = archived_name(self.first_seq);
        let mut r = Record::ok(self.clock.now(), "journal.rotate").new_value(&name);
        r.reason = Some(format!(
            "the live journal passed journal_max_size ({} bytes); the next record continues the chain in a new {FILE_NAME}",
            self.max_size
        ));
        self.write(r, true);
        let to = self.state_dir.join(&name);
        if to.exists() {
            tracing::error!("cannot archive the journal: {} exists", to.display());
            return;
        }
        let renamed = std::fs::rename(&self.path, &to).and_then(|()| {
            let f = OpenOptions::new()
                .create_new(true)
                .read(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)?;
            File::open(&self.state_dir)?.sync_all()?;
            Ok(f)
        });
        match renamed {
            Ok(f) => {
                self.file = Some(f);
                self.size = 0;
                self.first_seq = self.seq + 1;
            }
            Err(e) => tracing::error!("cannot archive the journal to {}: {e}", to.display()),
        }
    }

    /// Append a `checkpoint` record: the tip (the record before it), signed
    /// when a key is present. Shipped off the host, checkpoints let a central
    /// side detect a truncated or rewritten journal (see README).
    pub fn checkpoint(&mut self, now: DateTime<Utc>, why: &str) {
        crate::sys::crash::point("checkpoint");
        let mut r = Record::ok(now, "checkpoint");
        r.reason = Some(why.to_string());
        r.tip_seq = Some(self.seq);
        r.tip_hash = Some(self.prev.clone());
        r.files = Some(self.live.values().cloned().collect());
        r.base_seq = Some(self.base.0);
        r.base_hash = Some(self.base.1.clone());
        // Forward security: the first checkpoint of a new UTC day commits
        // the next key; once it is written, the old secret is replaced.
        let today = self.clock.now().date_naive();
        let next = match (&self.key, self.forward_secure) {
            (Some(_), true) if self.key_day != Some(today) => match sign::generate() {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::error!("cannot make the next signing key: {e}");
                    None
                }
            },
            _ => None,
        };
        if let Some(k) = &self.key {
            r.key = Some(sign::public_hex(k));
            r.next_key = next.as_ref().map(sign::public_hex);
            r.sig = Some(sign::sign(k, self.seq, &self.prev, r.next_key.as_deref()));
        }
        self.record(r);
        if let Some(n) = next {
            match sign::replace(&self.state_dir, &n, today) {
                Ok(()) => {
                    self.key = Some(n);
                    self.key_day = Some(today);
                }
                Err(e) => tracing::error!("cannot replace the signing key: {e}"),
            }
        }
    }

    /// The retained base moved: retention deleted the oldest journal file,
    /// whose last record was `(seq, hash)`.
    pub fn set_base(&mut self, seq: u64, hash: String) {
        self.base = (seq, hash);
    }

    /// Rotate the signing key daily (forward security).
    pub fn set_forward_secure(&mut self, on: bool) {
        self.forward_secure = on;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain's tip: the last record's `_seq` and `_hash`.
    pub fn tip(&self) -> (u64, &str) {
        (self.seq, &self.prev)
    }

    /// The exact line for `r` as the next record of the chain.
    fn line(&self, r: &Record) -> serde_json::Result<(Vec<u8>, String)> {
        let body = serde_json::to_vec(r)?;
        let mut line = format!(
            "{{\"_v\":{VERSION},\"_seq\":{},\"_prev\":\"{}\",",
            self.seq + 1,
            self.prev
        )
        .into_bytes();
        // The event's fields, without its braces.
        line.extend_from_slice(&body[1..body.len() - 1]);
        let hash = record_hash(&line);
        line.extend_from_slice(HASH_FIELD);
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}\n");
        Ok((line, hash))
    }

    /// Append one record and log it. A journal write failure is logged, not
    /// propagated: losing an audit line must not stop rotation (which would
    /// grow logs until the disk fills); the failure itself is visible in the
    /// daemon's log.
    pub fn record(&mut self, r: Record) {
        self.record_synced(r, true);
    }

    /// Append several records with one fsync at the end (the syncer's
    /// segment records: one per mirror, thousands at a time).
    pub fn record_all(&mut self, rs: Vec<Record>) {
        let n = rs.len();
        for (i, r) in rs.into_iter().enumerate() {
            self.record_synced(r, i + 1 == n);
        }
    }

    fn record_synced(&mut self, r: Record, sync: bool) {
        log(&r);
        let m = crate::sys::metrics::global();
        if r.status == Status::Failed {
            m.error(
                r.source.as_deref(),
                &r.action,
                r.error.as_deref().unwrap_or(""),
                self.clock.now(),
            );
        } else if r.action == "checkpoint" {
            m.checkpointed();
        }
        if self.file.is_none() {
            return;
        }
        self.write(r, sync);
        if self.size > self.max_size {
            self.rotate();
        }
    }

    fn write(&mut self, mut r: Record, sync: bool) {
        r.ts = self
            .clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        r.host = self.host.clone();
        r.boot = self.boot.clone();
        r.mono_us = Some(crate::sys::clock::boottime().as_micros() as u64);
        let (line, hash) = match self.line(&r) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot serialise journal record: {e}");
                return;
            }
        };
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let before = file.metadata().map(|m| m.len()).ok();
        if crate::sys::crash::hit("journal.torn") {
            let _ = file.write_all(&line[..line.len() / 2]);
            crate::sys::crash::die();
        }
        let written = file
            .write_all(&line)
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        match written {
            Ok(()) => {
                self.seq += 1;
                self.prev = hash;
                self.size += line.len() as u64;
                self.track_live(&r);
            }
            Err(e) => {
                tracing::error!("cannot append to journal {}: {e}", self.path.display());
                // Never leave half a record for the next one to follow.
                if let Some(len) = before {
                    let _ = file.set_len(len);
                }
            }
        }
    }
}

fn log(r: &Record) {
    let what = r.resource.as_ref().map(|x| x.path.as_str()).unwrap_or("");
    let detail = match (&r.new, &r.strategy, &r.reason) {
        (Some(new), Some(s), Some(why)) => format!(" -> {new} ({s}: {why})"),
        (Some(new), _, _) => format!(" -> {new}"),
        _ => String::new(),
    };
    match (&r.status, &r.error) {
        // Bookkeeping records, one per mirror every few seconds: in the
        // journal, but not worth a line of the daemon's own log.
        (Status::Ok, _) if matches!(r.action.as_str(), "segment" | "checkpoint") => {
            tracing::debug!("{} {what}{detail}", r.action)
        }
        (Status::Ok, _) => tracing::info!("{} {what}{detail}", r.action),
        (Status::Failed, e) => tracing::error!(
            "{} {what}{detail} failed: {}",
            r.action,
            e.as_deref().unwrap_or("")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    /// A journal of `n` records; returns its bytes.
    fn journal(n: usize) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        for i in 0..n {
            j.record(Record::ok(now(), "rotate").new_value(format!("cut {i}")));
        }
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        (dir, bytes)
    }

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.to_vec())
            .collect()
    }

    fn join(lines: &[Vec<u8>]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| [l.as_slice(), b"\n"].concat())
            .collect()
    }

    fn broken(bytes: &[u8]) -> Broken {
        verify_chain(bytes, (0, GENESIS)).unwrap_err()
    }

    #[test]
    fn records_are_chained_lines_in_field_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        j.record(
            Record::ok(now(), "rotate")
                .source("s")
                .resource(Path::new("/x/a.log"), Some(7), Some(10))
                .strategy("rename", "no writer"),
        );
        j.record(Record::failed(now(), "compress", "disk full"));
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with(&format!(r#"{{"_v":1,"_seq":1,"_prev":"{GENESIS}","ts":""#)),
            "{}",
            lines[0]
        );
        // ts is the write time, fixed width (RFC 3339, microseconds, Z).
        assert_eq!(lines[0].find(r#"","action""#), Some(125), "{}", lines[0]);
        assert!(lines[0].contains(r#""action":"rotate","actor":"logwarden","source":"s","resource":{"path":"/x/a.log","inode":7,"size":10}"#), "{}", lines[0]);
        assert!(lines[1].contains(r#""status":"failed","error":"disk full""#));
        assert!(lines[1].starts_with(r#"{"_v":1,"_seq":2,"_prev":""#));
        let c = verify_chain(text.as_bytes(), (0, GENESIS)).unwrap();
        assert_eq!((c.records, c.last_seq), (2, 2));
        assert_eq!(c.tip, j.tip().1);
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap();
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn the_chain_continues_across_opens_and_a_torn_tail_is_cut() {
        let (dir, _) = journal(3);
        // A crash mid-write leaves half a record.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE_NAME))
            .unwrap();
        f.write_all(b"{\"_v\":1,\"_seq\":4,\"_pr").unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.tip().0, 4, "a `recovered` record follows _seq 3");
        j.record(Record::ok(now(), "startup"));
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let c = verify_chain(&bytes, (0, GENESIS)).unwrap();
        assert_eq!(c.records, 5);
        assert!(String::from_utf8_lossy(&bytes).contains(r#""action":"recovered""#));
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let (_d, bytes) = journal(6);
        let l = lines(&bytes);
        // A flipped byte.
        let mut m = l.clone();
        let at = m[2].len() / 2;
        m[2][at] ^= 0x01;
        let b = broken(&join(&m));
        assert_eq!(b.line, 3);
        assert!(
            b.why.contains("modified") || b.why.contains("not a journal record"),
            "{b:?}"
        );
        // A deleted record.
        let mut m = l.clone();
        m.remove(3);
        let b = broken(&join(&m));
        assert_eq!(b.line, 4);
        assert!(b.why.contains("1 record(s) missing"), "{b:?}");
        // Two records swapped.
        let mut m = l.clone();
        m.swap(1, 2);
        let b = broken(&join(&m));
        assert_eq!(b.line, 2);
        // A forged record with a correct-looking hash over its own bytes,
        // inserted in the middle: the records after it no longer follow.
        let mut m = l.clone();
        let prefix = format!(
            r#"{{"_v":1,"_seq":3,"_prev":"{GENESIS}","ts":"x","action":"rotate","actor":"logwarden","status":"ok""#
        );
        let forged = format!(
            "{prefix},\"_hash\":\"{}\"}}",
            record_hash(prefix.as_bytes())
        );
        m.insert(2, forged.into_bytes());
        let b = broken(&join(&m));
        assert_eq!(b.line, 3);
        assert!(
            b.why.contains("_prev") || b.why.contains("out of order"),
            "{b:?}"
        );
        // A truncated (torn) tail.
        let all = join(&l);
        let b = broken(&all[..all.len() - 10]);
        assert!(b.why.contains("torn"), "{b:?}");
        // A blank line slipped in.
        let mut m = l.clone();
        m.insert(1, Vec::new());
        assert_eq!(broken(&join(&m)).line, 2);
        // Bytes after the hash, which it does not cover: a field added, a
        // space, a carriage return, the hash respelled with an escape.
        let line = String::from_utf8(l[1].clone()).unwrap();
        let (head, hash) = line.rsplit_once(",\"_hash\":\"").unwrap();
        let hash = hash.strip_suffix("\"}").unwrap();
        let escaped = format!("\\u{:04x}{}", hash.as_bytes()[0], &hash[1..]);
        for tail in [
            format!("{hash}\",\"reason\":\"forged\"}}"),
            format!("{hash}\" }}"),
            format!("{hash}\"}}\r"),
            format!("{escaped}\"}}"),
        ] {
            let mut m = l.clone();
            m[1] = format!("{head},\"_hash\":\"{tail}").into_bytes();
            let b = broken(&join(&m));
            assert_eq!(b.line, 2, "{tail}");
            assert!(b.why.contains("modified"), "{b:?}");
        }
        // Untouched: clean.
        assert_eq!(verify_chain(&bytes, (0, GENESIS)).unwrap().records, 6);
    }
}
