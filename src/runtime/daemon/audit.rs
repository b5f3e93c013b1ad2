//! The config's audit records: `startup` and `config.reload` (ok or
//! refused) carry the change as data, the SHA-256 of every file read (each
//! text kept under `state_dir/config/<sha256>`, the version in force in
//! `state_dir/config/current`) and who made the change: a SIGHUP's sender,
//! or the owner, mode and mtime of the file saved.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::version::{self, FileRef};
use crate::config::Config;
use crate::journal::Record;

/// The version in force, as the list of its files.
const CURRENT: &str = "current";

/// What made the daemon read its config again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Signal,
    Saved,
}

/// The texts of the version last in force (empty before the first).
fn previous(state_dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(bytes) = std::fs::read(version::store_dir(state_dir).join(CURRENT)) else {
        return Vec::new();
    };
    let refs: Vec<FileRef> = serde_json::from_slice(&bytes).unwrap_or_default();
    refs.into_iter()
        .filter_map(|r| {
            let text = version::text_of(state_dir, &r.sha256).ok()?;
            Some((PathBuf::from(r.path), text))
        })
        .collect()
}

/// Keeps the texts and, for a version now in force, names it current.
fn keep(state_dir: &Path, texts: &[(PathBuf, String)], in_force: bool) -> Vec<FileRef> {
    let refs = version::refs(texts);
    let kept = version::keep(state_dir, texts).and_then(|()| {
        if !in_force {
            return Ok(());
        }
        let json = serde_json::to_vec(&refs).map_err(std::io::Error::other)?;
        crate::state::write_atomic(
            &version::store_dir(state_dir),
            ".current.tmp",
            CURRENT,
            &json,
        )
    });
    if let Err(e) = kept {
        tracing::warn!(
            "cannot keep the config's text in {}: {e}",
            version::store_dir(state_dir).display()
        );
    }
    refs
}

/// The `startup` record: the change since the version last in force (an
/// edit made while logwarden was stopped shows here).
pub fn startup(cfg: &Config, now: DateTime<Utc>) -> Record {
    let prev = previous(&cfg.state_dir);
    let changes = if prev.is_empty() {
        vec!["first version recorded".to_string()]
    } else {
        version::changes(&prev, &cfg.texts)
    };
    let refs = keep(&cfg.state_dir, &cfg.texts, true);
    Record::ok(now, "startup")
        .new_value(format!("logwarden {}", env!("CARGO_PKG_VERSION")))
        .resource(&cfg.path, None, None)
        .actor(started_by())
        .config_change(refs, changes)
}

/// A reload that took `new` in place of `old`.
pub fn reload_ok(old: &Config, new: &Config, trigger: Trigger, now: DateTime<Utc>) -> Record {
    let names = |c: &Config| {
        c.sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let changes = version::changes(&old.texts, &new.texts);
    let who = actor(trigger, &old.texts, &new.texts);
    let refs = keep(&new.state_dir, &new.texts, true);
    Record::ok(now, "config.reload")
        .resource(&old.path, None, None)
        .old(names(old))
        .new_value(names(new))
        .actor(who)
        .config_change(refs, changes)
}

/// A refused reload: the files as read, and what they would have changed.
pub fn reload_refused(
    old: &Config,
    problems: impl ToString,
    trigger: Trigger,
    now: DateTime<Utc>,
) -> Record {
    let texts = version::read_texts(&old.path);
    let changes = version::changes(&old.texts, &texts);
    let who = actor(trigger, &old.texts, &texts);
    let refs = keep(&old.state_dir, &texts, false);
    Record::failed(now, "config.reload", problems)
        .resource(&old.path, None, None)
        .actor(who)
        .config_change(refs, changes)
}

/// Who: the SIGHUP's sender, or each file saved (owner, mode, mtime).
fn actor(trigger: Trigger, old: &[(PathBuf, String)], new: &[(PathBuf, String)]) -> String {
    match trigger {
        Trigger::Signal => crate::sys::sender::last_hup()
            .unwrap_or_else(|| "signal SIGHUP (sender unknown)".into()),
        Trigger::Saved => {
            let saved: Vec<String> = new
                .iter()
                .filter(|(p, t)| !old.iter().any(|(q, u)| q == p && u == t))
                .map(|(p, _)| saved_by(p))
                .collect();
            if saved.is_empty() {
                "saved (no file changed)".into()
            } else {
                saved.join("; ")
            }
        }
    }
}

fn saved_by(p: &Path) -> String {
    match std::fs::metadata(p) {
        Ok(m) => {
            let mtime = DateTime::<Utc>::from_timestamp(m.mtime(), 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            format!(
                "saved {} (owner uid {} gid {}, mode {:04o}, mtime {mtime})",
                p.display(),
                m.uid(),
                m.gid(),
                m.mode() & 0o7777
            )
        }
        Err(e) => format!("saved {} ({e})", p.display()),
    }
}

/// The process that started this one.
fn started_by() -> String {
    let ppid = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).unwrap_or_default();
    format!(
        "startup by uid {} from pid {ppid} ({})",
        rustix::process::getuid().as_raw(),
        comm.trim()
    )
}
