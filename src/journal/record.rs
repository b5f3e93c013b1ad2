//! One audit record: its fields (serialised in this order; the bytes
//! written are the bytes hashed) and the builders the writers use.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// A file an action touched.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Resource {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A live file as a checkpoint lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileHash {
    pub path: String,
    pub size: u64,
    pub sha256: String,
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
    /// `startup` and `config.reload` records: what changed, as data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<String>>,
    /// The config version read (hash over its files) and each file's
    /// SHA-256; the texts are kept under `state_dir/config/<sha256>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Vec<crate::config::version::FileRef>>,
    /// SHA-256 (hex) of the content a file holds (for a .gz: decompressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    /// SHA-256 (hex) of the file's bytes as stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// `checkpoint` records: the chain's tip before this record, and (when
    /// `state_dir` holds a signing key) its public key and the signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// `checkpoint` records: every live mirror with the length and rolling
    /// hash its last `segment` record vouched for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileHash>>,
    /// `retention.delete` of a journal file: the `_seq` range it held
    /// (`first..last`); `tip_seq`/`tip_hash` then name its last record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// `checkpoint` records: the retained base, the record just before the
    /// oldest journal file still kept (`0` and the genesis hash while none
    /// was deleted). A central side checks it only moves forward.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<String>,
    /// The host that wrote it (`host` in the config; the host name by
    /// default), set when written: a central witness tells chains apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// This boot (`/proc/sys/kernel/random/boot_id`), set when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// Microseconds since boot (CLOCK_BOOTTIME), set when written: orders
    /// records within a boot whatever the wall clock does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mono_us: Option<u64>,
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
            changes: None,
            config_version: None,
            config: None,
            content_sha256: None,
            file_sha256: None,
            tip_seq: None,
            tip_hash: None,
            key: None,
            next_key: None,
            sig: None,
            files: None,
            range: None,
            base_seq: None,
            base_hash: None,
            host: None,
            boot: None,
            mono_us: None,
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

    /// Who did it, when not logwarden itself.
    pub fn actor(mut self, who: impl ToString) -> Record {
        self.actor = who.to_string();
        self
    }

    /// The config version read and what changed.
    pub fn config_change(
        mut self,
        files: Vec<crate::config::version::FileRef>,
        changes: Vec<String>,
    ) -> Record {
        self.config_version = Some(crate::config::version::version_hash(&files));
        self.config = Some(files);
        self.changes = Some(changes);
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

    /// The hashes a file is bound to (`verify` recomputes them).
    pub fn hashes(mut self, content: Option<String>, file: Option<String>) -> Record {
        self.content_sha256 = content;
        self.file_sha256 = file;
        self
    }

    pub fn strategy(mut self, strategy: &str, reason: &str) -> Record {
        self.strategy = Some(strategy.to_string());
        self.reason = Some(reason.to_string());
        self
    }
}
