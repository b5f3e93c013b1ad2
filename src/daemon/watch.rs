//! Filesystem events via inotify (`notify`): one non-recursive watch per
//! source directory and per config directory. Events only say "look again";
//! the passes re-read the directory, so a lost or merged event costs nothing
//! but latency. A queue overflow (or a full channel) is a rescan.
//!
//! The watch list is reconciled like watchexec does: compute what should be
//! watched, add what is missing, drop what is no longer wanted. A directory
//! that does not exist yet is retried at every rescan.

use std::collections::BTreeSet;
use std::path::PathBuf;

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
    watched: BTreeSet<PathBuf>,
}

impl Watch {
    pub fn new(tx: mpsc::Sender<FsEvent>) -> notify::Result<Watch> {
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
                // A full channel means the loop is behind: it will rescan anyway.
                if tx.try_send(ev).is_err() {
                    let _ = tx.try_send(FsEvent::Rescan);
                }
            },
            notify::Config::default(),
        )?;
        Ok(Watch {
            watcher,
            watched: BTreeSet::new(),
        })
    }

    /// Make the watched set equal `want` (existing directories only).
    pub fn reconcile(&mut self, want: &[PathBuf]) {
        let want: BTreeSet<PathBuf> = want.iter().filter(|p| p.is_dir()).cloned().collect();
        let to_drop: Vec<_> = self.watched.difference(&want).cloned().collect();
        let to_watch: Vec<_> = want.difference(&self.watched).cloned().collect();
        for p in to_drop {
            let _ = self.watcher.unwatch(&p);
            self.watched.remove(&p);
        }
        for p in to_watch {
            match self.watcher.watch(&p, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(p);
                }
                Err(e) => tracing::warn!(
                    "cannot watch {}: {}; falling back to periodic rescans",
                    p.display(),
                    explain(&e)
                ),
            }
        }
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
fn explain(e: &notify::Error) -> String {
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
