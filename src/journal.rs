//! The audit journal: one NDJSON record per action (rotate, compress, delete,
//! reload, error …), appended to `state_dir/journal.ndjson`.
//!
//! This is the one place that writes records, and every record also goes to
//! the daemon's own log through `tracing`, so the core reports through a single
//! interface. Each record is serialised once and written with one `write` on
//! an `O_APPEND` descriptor, then fsynced, so a record is either whole or (on a
//! crash mid-write) a torn last line that a reader skips. Hash chaining of the
//! written bytes is layered on here later; nothing else may format records.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// The file name of the journal inside `state_dir`.
pub const FILE_NAME: &str = "journal.ndjson";

/// A file an action touched.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Resource {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One audit record. Field order is the serialisation order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Record {
    /// UTC, RFC 3339 with microseconds (fixed width).
    pub ts: String,
    pub action: String,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
}

impl Record {
    /// A successful action at `now`.
    pub fn ok(now: DateTime<Utc>, action: &str) -> Record {
        Record {
            ts: now.to_rfc3339_opts(SecondsFormat::Micros, true),
            action: action.to_string(),
            actor: "logwarden".to_string(),
            source: None,
            resource: None,
            old: None,
            new: None,
            strategy: None,
            reason: None,
            status: Status::Ok,
            error: None,
        }
    }

    /// A failed action at `now`.
    pub fn failed(now: DateTime<Utc>, action: &str, error: impl ToString) -> Record {
        Record {
            status: Status::Failed,
            error: Some(error.to_string()),
            ..Record::ok(now, action)
        }
    }

    pub fn source(mut self, s: &str) -> Record {
        self.source = Some(s.to_string());
        self
    }

    pub fn resource(mut self, path: &Path, inode: Option<u64>, size: Option<u64>) -> Record {
        self.resource = Some(Resource {
            path: path.display().to_string(),
            inode,
            size,
        });
        self
    }

    pub fn old(mut self, v: impl ToString) -> Record {
        self.old = Some(v.to_string());
        self
    }

    pub fn new_value(mut self, v: impl ToString) -> Record {
        self.new = Some(v.to_string());
        self
    }

    pub fn strategy(mut self, strategy: &str, reason: &str) -> Record {
        self.strategy = Some(strategy.to_string());
        self.reason = Some(reason.to_string());
        self
    }
}

/// The append-only journal file.
#[derive(Debug)]
pub struct Journal {
    file: Option<File>,
    path: PathBuf,
}

impl Journal {
    /// Open (creating, mode 0600) the journal in `state_dir`.
    pub fn open(state_dir: &Path) -> io::Result<Journal> {
        let path = state_dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        Ok(Journal {
            file: Some(file),
            path,
        })
    }

    /// A journal that only logs (for `--dry-run` and `check`).
    pub fn log_only() -> Journal {
        Journal {
            file: None,
            path: PathBuf::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and log it. A journal write failure is logged, not
    /// propagated: losing an audit line must not stop rotation (which would
    /// grow logs until the disk fills); the failure itself is visible in the
    /// daemon's log.
    pub fn record(&mut self, r: Record) {
        log(&r);
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let mut line = match serde_json::to_vec(&r) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot serialise journal record: {e}");
                return;
            }
        };
        line.push(b'\n');
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            tracing::error!("cannot append to journal {}: {e}", self.path.display());
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

    #[test]
    fn records_are_one_json_line_each_in_field_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        j.record(
            Record::ok(now, "rotate")
                .source("s")
                .resource(Path::new("/x/a.log"), Some(7), Some(10))
                .strategy("rename", "no writer"),
        );
        j.record(Record::failed(now, "compress", "disk full"));
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(r#"{"ts":"2026-09-21T14:13:20.000000Z","action":"rotate","actor":"logwarden","source":"s","resource":{"path":"/x/a.log","inode":7,"size":10}"#), "{}", lines[0]);
        assert!(lines[1].contains(r#""status":"failed","error":"disk full""#));
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap();
        assert_eq!(mode, 0o600);
    }
}
