//! The journal's own archives: each `journal-<first _seq>.ndjson` is
//! gzip-compressed once the chain has moved on to a new live file, and, when
//! `journal_max_age` is set, deleted once its last record is older than that.
//!
//! Both steps are journaled, so `verify` can tell them from tampering:
//! `compress` binds the .gz to its hashes like any archive's, and
//! `retention.delete` names the `_seq` range the file held and its last
//! record's `(_seq, _hash)`. Deletion only ever takes the oldest file, so
//! what remains is one unbroken chain starting just after that record: the
//! retained base, which every checkpoint carries.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{files, head_of, read, tip_of, Record, FILE_NAME};
use crate::sys::safe_dir::SafeDir;

/// What a pass over the journal's archives did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Done {
    pub compressed: u64,
    pub deleted: u64,
    pub lines: Vec<String>,
}

/// Compress closed journal files, then delete those past `max_age` (aged by
/// `now`), oldest first. `record` journals each step; `set_base` moves the
/// journal's retained base after a deletion.
pub fn housekeep(
    state_dir: &Path,
    max_age: Option<Duration>,
    ship_grace: std::time::Duration,
    now: DateTime<Utc>,
    dry_run: bool,
    record: &mut dyn FnMut(Record),
    set_base: &mut dyn FnMut(u64, String),
) -> Done {
    let mut done = Done::default();
    let Ok(dir) = SafeDir::open(state_dir) else {
        return done;
    };
    compress_closed(state_dir, &dir, ship_grace, now, dry_run, record, &mut done);
    if let Some(max_age) = max_age {
        age_out(
            state_dir, &dir, max_age, now, dry_run, record, set_base, &mut done,
        );
    }
    done
}

/// Compress every closed journal file past the shipper's grace.
fn compress_closed(
    state_dir: &Path,
    dir: &SafeDir,
    ship_grace: std::time::Duration,
    now: DateTime<Utc>,
    dry_run: bool,
    record: &mut dyn FnMut(Record),
    done: &mut Done,
) {
    let all = files(state_dir);
    let archived = &all[..all.len().saturating_sub(1)];
    for path in archived {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".gz") || name == FILE_NAME {
            continue;
        }
        let gz = format!("{name}.gz");
        // A closed journal file stays readable for the shipper as long as
        // a cut mirror does (real time since it was renamed: its ctime).
        let shipping = std::fs::metadata(path).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            crate::rotation::rotate::since(m.ctime()) < ship_grace
        });
        if shipping {
            continue;
        }
        if dry_run {
            done.lines
                .push(format!("would compress {}", path.display()));
            continue;
        }
        if dir.exists(&gz) {
            // A crash after the .gz was renamed into place: it is complete.
            let _ = dir.unlink(name);
            continue;
        }
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        let mut journal_first = |c: &crate::rotation::compress::Compressed| {
            record(
                Record::ok(now, "compress")
                    .resource(path, None, size)
                    .new_value(state_dir.join(&gz).display())
                    .hashes(Some(c.content_sha256.clone()), Some(c.file_sha256.clone())),
            )
        };
        match crate::rotation::compress::compress_as(
            dir,
            name,
            gz.clone(),
            &format!(".{gz}.tmp"),
            &mut journal_first,
        ) {
            Ok(_) => {
                done.compressed += 1;
                done.lines
                    .push(format!("compressed {}", state_dir.join(&gz).display()));
            }
            Err(e) => record(
                Record::failed(now, "compress", e)
                    .resource(path, None, size)
                    .new_value(state_dir.join(&gz).display()),
            ),
        }
    }
}

/// Delete the closed journal files whose last record is older than
/// `max_age`, oldest first, each journaled (with its `_seq` range and tip)
/// before the unlink; the retained base moves past it.
#[allow(clippy::too_many_arguments)]
fn age_out(
    state_dir: &Path,
    dir: &SafeDir,
    max_age: Duration,
    now: DateTime<Utc>,
    dry_run: bool,
    record: &mut dyn FnMut(Record),
    set_base: &mut dyn FnMut(u64, String),
    done: &mut Done,
) {
    let Ok(max_age) = chrono::Duration::from_std(max_age) else {
        return;
    };
    // Re-list: names changed to .gz above.
    let all = files(state_dir);
    for path in &all[..all.len().saturating_sub(1)] {
        let Ok(bytes) = read(path) else { break };
        let mut lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        let first = lines.next().and_then(head_of);
        let last = lines.next_back().or(bytes.split(|b| *b == b'\n').next());
        let (Some((first_seq, _)), Some(last)) = (first, last) else {
            break;
        };
        let Some((last_seq, last_hash)) = tip_of(last) else {
            break;
        };
        let ts = serde_json::from_slice::<serde_json::Value>(last)
            .ok()
            .and_then(|v| v["ts"].as_str().map(str::to_string))
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
        let Some(ts) = ts else { break };
        if ts.with_timezone(&Utc) + max_age > now {
            break; // oldest first: the rest are younger
        }
        if dry_run {
            done.lines.push(format!(
                "would delete {} (older than journal_max_age)",
                path.display()
            ));
            done.deleted += 1;
            continue;
        }
        let final_sha = std::fs::File::open(path)
            .ok()
            .and_then(|f| crate::sys::digest::sha256(f).ok())
            .map(|(h, _)| h);
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            break;
        };
        // Journaled before the unlink, as for archives (write-ahead).
        let mut r = Record::ok(now, "retention.delete")
            .resource(path, None, size)
            .hashes(None, final_sha);
        r.reason = Some("older than journal_max_age".into());
        r.range = Some(format!("{first_seq}..{last_seq}"));
        r.tip_seq = Some(last_seq);
        r.tip_hash = Some(last_hash.clone());
        record(r);
        crate::sys::crash::point("journal.retain");
        match dir.unlink(name).and_then(|()| dir.sync()) {
            Ok(()) => {
                done.deleted += 1;
                done.lines.push(format!(
                    "deleted {} (_seq {first_seq}..{last_seq}, older than journal_max_age)",
                    path.display()
                ));
                set_base(last_seq, last_hash);
            }
            Err(e) => {
                record(
                    Record::failed(
                        now,
                        "retention.delete",
                        format!(
                            "{e}; the deletion journaled just before did not happen and is retried"
                        ),
                    )
                    .resource(path, None, size),
                );
                break;
            }
        }
    }
}

/// Whether `bytes` (a verified chain) holds the `retention.delete` record
/// of the journal file that ended with record `(seq, hash)`: what makes a
/// chain that starts past `_seq` 1 whole.
pub fn deletion_of(bytes: &[u8], seq: u64, hash: &str) -> bool {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| memchr::memmem::find(l, b"\"retention.delete\"").is_some())
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .any(|v| {
            v["action"] == "retention.delete"
                && v["status"] == "ok"
                && v["tip_seq"].as_u64() == Some(seq)
                && v["tip_hash"].as_str() == Some(hash)
        })
}
