//! Finding a source's files: open its directory safely, refuse an insecure
//! one, and sort its entries into live files to manage and entries to leave
//! alone (symlinks, hard-linked files, FIFOs, sockets, devices, directories).
//!
//! Pure checks ([`insecure`], [`classify`]) are separate from the directory
//! walk so they can be tested without special files. Nothing here modifies
//! the directory.

use std::io;

use crate::config::Source;
use crate::sys::safe_dir::{Kind, Meta, SafeDir};

/// Why a source directory is not used.
#[derive(Debug, thiserror::Error)]
pub enum DirProblem {
    #[error("directory {0} does not exist (yet); it is picked up when it appears")]
    Missing(String),
    #[error("{0}")]
    Insecure(String),
    #[error("cannot open directory {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// Why a directory is unsafe to act in as root, or `None`. A directory that
/// others can write lets them swap names under us (logrotate refuses these
/// too). Writable by our own group is fine (an ordinary user's checkout).
pub fn insecure(dir: &Meta, path: &str, our_gid: u32, has_su: bool) -> Option<String> {
    if has_su {
        return None;
    }
    let perm = dir.perm();
    let why = if perm & 0o002 != 0 {
        "is world-writable"
    } else if perm & 0o020 != 0 && dir.gid != 0 && dir.gid != our_gid {
        "is writable by a group other than root"
    } else {
        return None;
    };
    Some(format!(
        "refusing directory {path}: it {why} (mode {perm:o}), so another user could swap files under logwarden; \
         fix its permissions, or name the user and group to act as with su = {{ user = \"…\", group = \"…\" }}"
    ))
}

/// Open a source's directory and check it is safe.
pub fn open(src: &Source) -> Result<SafeDir, DirProblem> {
    let path = src.dir.display().to_string();
    let dir = match SafeDir::open(&src.dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(DirProblem::Missing(path)),
        Err(e) => return Err(DirProblem::Io { path, source: e }),
    };
    let meta = dir.meta().map_err(|e| DirProblem::Io {
        path: path.clone(),
        source: e,
    })?;
    let gid = rustix::process::getegid().as_raw();
    if let Some(why) = insecure(&meta, &path, gid, src.policy.su.is_some()) {
        return Err(DirProblem::Insecure(why));
    }
    Ok(dir)
}

/// What to do with a matching entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Manage,
    Skip(String),
}

/// Decide whether a matching entry is a live file to manage. Pure.
pub fn classify(meta: &Meta) -> Verdict {
    match meta.kind() {
        Kind::Regular if meta.nlink > 1 => Verdict::Skip(format!(
            "has {} hard links; rotating one name would leave the others behind",
            meta.nlink
        )),
        Kind::Regular => Verdict::Manage,
        Kind::Symlink => Verdict::Skip("is a symbolic link (links are never followed)".into()),
        Kind::Dir => Verdict::Skip("is a directory".into()),
        Kind::Other => Verdict::Skip("is not a regular file (FIFO, socket or device)".into()),
    }
}

/// A source directory's contents, sorted out.
#[derive(Debug, Default)]
pub struct Found {
    /// Every entry name (for archive and temp file handling).
    pub names: Vec<String>,
    /// Matching regular files, with their metadata.
    pub live: Vec<(String, Meta)>,
    /// Matching entries left alone, and why.
    pub skipped: Vec<(String, String)>,
}

/// List `dir` and sort its entries for `src`.
pub fn scan(dir: &SafeDir, src: &Source) -> io::Result<Found> {
    let mut found = Found {
        names: dir.list()?,
        ..Found::default()
    };
    found.names.sort();
    for name in &found.names {
        if !src.matches(name) {
            continue;
        }
        let Ok(meta) = dir.stat(name) else { continue };
        match classify(&meta) {
            Verdict::Manage => found.live.push((name.clone(), meta)),
            Verdict::Skip(why) => found.skipped.push((name.clone(), why)),
        }
    }
    Ok(found)
}

/// Paths of a source's live files right now (for `check` and `status`).
pub fn live_files(src: &Source) -> Result<Found, String> {
    let dir = open(src).map_err(|e| e.to_string())?;
    scan(&dir, src).map_err(|e| format!("cannot list {}: {e}", src.dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(mode: u32, gid: u32, nlink: u64) -> Meta {
        Meta {
            dev: 1,
            ino: 1,
            size: 0,
            mode,
            uid: 0,
            gid,
            nlink,
            ctime: 0,
            mtime: 0,
            blocks: 0,
        }
    }

    #[test]
    fn directory_safety() {
        let cases = [
            (0o040755, 0, 1000, false, None),
            (0o040775, 0, 1000, false, None),
            (0o040775, 1000, 1000, false, None),
            (0o040775, 1001, 1000, false, Some("group other than root")),
            (0o041777, 0, 0, false, Some("world-writable")),
            (0o041777, 0, 0, true, None),
            (0o040770, 5, 0, true, None),
        ];
        for (mode, gid, ours, su, want) in cases {
            let got = insecure(&meta(mode, gid, 2), "/d", ours, su);
            match want {
                None => assert_eq!(got, None, "{mode:o}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{mode:o}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn only_single_link_regular_files_are_managed() {
        assert_eq!(classify(&meta(0o100644, 0, 1)), Verdict::Manage);
        assert!(
            matches!(classify(&meta(0o100644, 0, 2)), Verdict::Skip(w) if w.contains("hard links"))
        );
        assert!(
            matches!(classify(&meta(0o120777, 0, 1)), Verdict::Skip(w) if w.contains("symbolic link"))
        );
        assert!(matches!(classify(&meta(0o010644, 0, 1)), Verdict::Skip(w) if w.contains("FIFO")));
        assert!(matches!(classify(&meta(0o040755, 0, 1)), Verdict::Skip(_)));
    }
}
