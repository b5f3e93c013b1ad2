//! Filesystem events via inotify (`notify`): one non-recursive watch per
//! source directory and per config directory. Events only say "look again";
//! the passes re-read the directory, so a lost or merged event costs nothing
//! but latency. A queue overflow (or a full channel) is a rescan: an event
//! that does not fit the channel sets a flag that the event loop reads with
//! the next event it takes ([`Watch::or_rescan`]), so the rescan cannot be
//! dropped along with the event.
//!
//! The watch list is reconciled like watchexec does: compute what should be
//! watched, add what is missing, drop what is no longer wanted. A directory
//! that does not exist yet is retried at every rescan.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

/// What the event loop learns from the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsEvent {
    /// Something changed at these paths (names, metadata, new files).
    Changed(Vec<PathBuf>),
    /// Only the contents of these files changed (written to): the tailer
    /// reads, nothing needs rescanning.
    Written(Vec<PathBuf>),
    /// Events were lost: rescan everything.
    Rescan,
}

pub struct Watch {
    watcher: notify::INotifyWatcher,
    /// Set when an event was dropped because the channel was full.
    lost: Arc<AtomicBool>,
    /// Each watched directory and the (dev, ino) it had when watched: a
    /// directory removed and re-created under the same path is a new one.
    watched: BTreeMap<PathBuf, (u64, u64)>,
}

impl Watch {
    pub fn new(tx: mpsc::Sender<FsEvent>) -> notify::Result<Watch> {
        let lost = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&lost);
        let watcher = notify::INotifyWatcher::new(
            move |res: notify::Result<notify::Event>| {
                let ev = match res {
                    Ok(e) if e.need_rescan() => FsEvent::Rescan,
                    // Reading a file (ours included: a reload reads the config)
                    // is not a change; reacting to it would loop.
                    Ok(e) if !is_change(&e.kind) => return,
                    Ok(e) if is_write(&e.kind) => FsEvent::Written(e.paths),
                    Ok(e) => FsEvent::Changed(e.paths),
                    Err(_) => FsEvent::Rescan,
                };
                // A full channel means the loop is behind; the flag makes it
                // rescan when it catches up (it holds events, so it will take
                // one and see the flag).
                if tx.try_send(ev).is_err() {
                    flag.store(true, Ordering::SeqCst);
                }
            },
            notify::Config::default(),
        )?;
        Ok(Watch {
            watcher,
            lost,
            watched: BTreeMap::new(),
        })
    }

    /// `ev`, or a rescan if events were dropped since the last call.
    pub fn or_rescan(&self, ev: FsEvent) -> FsEvent {
        if self.lost.swap(false, Ordering::SeqCst) {
            FsEvent::Rescan
        } else {
            ev
        }
    }

    /// Make the watched set equal `want` (existing directories only).
    /// Returns the directories that could not be watched, each with what
    /// the operator can do about it; they are still scanned every
    /// `rescan_interval`, and retried at every reconcile.
    pub fn reconcile(&mut self, want: &[PathBuf]) -> Vec<(PathBuf, String)> {
        use std::os::unix::fs::MetadataExt;
        let want: BTreeMap<PathBuf, (u64, u64)> = want
            .iter()
            .filter_map(|p| {
                let m = std::fs::metadata(p).ok().filter(|m| m.is_dir())?;
                Some((p.clone(), (m.dev(), m.ino())))
            })
            .collect();
        // Gone, or replaced by a new directory of the same name.
        let to_drop: Vec<_> = self
            .watched
            .iter()
            .filter(|(p, id)| want.get(*p) != Some(*id))
            .map(|(p, _)| p.clone())
            .collect();
        for p in to_drop {
            let _ = self.watcher.unwatch(&p);
            self.watched.remove(&p);
        }
        let to_watch: Vec<_> = want
            .iter()
            .filter(|(p, _)| !self.watched.contains_key(*p))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        let mut failed = Vec::new();
        for (p, id) in to_watch {
            match self.watcher.watch(&p, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(p, id);
                }
                Err(e) => failed.push((p, explain(&e))),
            }
        }
        failed
    }
}

/// Whether an event changes something: content, names, or a writer letting
/// go of a file (which may make a rotated file ready to compress).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Whether an event only says a file's contents grew or changed.
fn is_write(kind: &EventKind) -> bool {
    use notify::event::ModifyKind;
    matches!(
        kind,
        EventKind::Modify(ModifyKind::Data(_)) | EventKind::Modify(ModifyKind::Any)
    )
}

/// OS errors as something an operator can act on.
pub fn explain(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => {
            "too many inotify watches; raise fs.inotify.max_user_watches (sysctl)".into()
        }
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(libc::ENOSPC) => {
            "too many inotify watches; raise fs.inotify.max_user_watches (sysctl)".into()
        }
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(libc::EMFILE) => {
            "too many inotify instances; raise fs.inotify.max_user_instances (sysctl)".into()
        }
        _ => e.to_string(),
    }
}
