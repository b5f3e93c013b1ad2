//! What the daemon remembers between runs, in `state_dir`:
//!
//! * `state.json`: per file, the anchor (last cut, or when it was first seen)
//!   from which the next cut is scheduled, and the last strategy used.
//!   Written as temp + fsync + rename + fsync(dir); a leftover temp file that
//!   parses is newer than the main file and is read first. A file that does
//!   not parse is moved aside (`state.json.corrupt-<time>`) with a warning and
//!   never trusted; starting fresh is never fatal.
//! * `lock`: flock'ed for the life of a daemon (or a one-shot `rotate`), with
//!   the holder's pid inside (followed by ` rotate` for a one-shot run), so a
//!   second instance fails fast and `logwarden rotate` knows whom to signal,
//!   or that it must wait instead (a one-shot run has no SIGUSR1 handler).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};

const STATE: &str = "state.json";
const STATE_TMP: &str = "state.json.tmp";
const LOCK: &str = "lock";
/// Written after the pid in the lock file by a one-shot `logwarden rotate`.
const ONE_SHOT: &str = "rotate";
const VERSION: u32 = 1;

/// What is remembered about one live file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileState {
    /// The last cut, or when the file was first seen; the schedule counts from here.
    pub anchor: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_cut: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
}

/// Everything in `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    pub version: u32,
    /// Keyed by `source/file name`.
    pub files: BTreeMap<String, FileState>,
}

/// The key of a file in [`State::files`].
pub fn key(source: &str, file: &str) -> String {
    format!("{source}/{file}")
}

impl State {
    /// The state as saved, touching nothing (for `status`): a missing or
    /// unreadable file reads as empty.
    pub fn load_read_only(state_dir: &Path) -> (State, bool) {
        match fs::read(state_dir.join(STATE)).map(|t| parse(&t)) {
            Ok(Ok(s)) => (s, true),
            _ => (State::default(), false),
        }
    }

    /// Load the state, recovering from a crash mid-save and setting aside a
    /// corrupt file. Returns the state and a warning to report, if any.
    pub fn load(state_dir: &Path) -> (State, Option<String>) {
        let tmp = state_dir.join(STATE_TMP);
        let main = state_dir.join(STATE);
        if let Ok(text) = fs::read(&tmp) {
            if let Ok(s) = parse(&text) {
                // Crashed between writing the temp file and renaming it: it is the newest.
                if fs::rename(&tmp, &main).is_ok() {
                    return (s, None);
                }
            }
            let _ = fs::remove_file(&tmp);
        }
        match fs::read(&main) {
            Ok(text) => match parse(&text) {
                Ok(s) => (s, None),
                Err(why) => {
                    let aside = state_dir.join(format!(
                        "{STATE}.corrupt-{}",
                        Utc::now().format("%Y%m%dT%H%M%S")
                    ));
                    let moved = fs::rename(&main, &aside);
                    let where_ = match moved {
                        Ok(()) => format!("moved aside to {}", aside.display()),
                        Err(e) => format!("could not move it aside: {e}"),
                    };
                    let msg = format!(
                        "state file {} is unreadable ({why}); {where_}; starting with empty state (no missed cut will be caught up this time)",
                        main.display()
                    );
                    (
                        State {
                            version: VERSION,
                            ..State::default()
                        },
                        Some(msg),
                    )
                }
            },
            Err(_) => (
                State {
                    version: VERSION,
                    ..State::default()
                },
                None,
            ),
        }
    }

    /// Save atomically: temp file, fsync, rename, fsync the directory.
    pub fn save(&self, state_dir: &Path) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        bytes.push(b'\n');
        write_atomic(state_dir, STATE_TMP, STATE, &bytes)
    }
}

/// Replace `dir/name` with `bytes` atomically (mode 0600): write `dir/tmp`,
/// fsync it, rename it over `name`, fsync the directory. A crash leaves the
/// old file or the new one, never a mix.
pub fn write_atomic(dir: &Path, tmp: &str, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(tmp);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    if cfg!(feature = "failpoints") {
        crate::sys::crash::point(&format!("{name}.written"));
    }
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

fn parse(bytes: &[u8]) -> Result<State, String> {
    let s: State = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if s.version != VERSION {
        return Err(format!("unknown state version {}", s.version));
    }
    Ok(s)
}

/// Create `state_dir` (mode 0700) if it is missing.
pub fn ensure_dir(state_dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)
}

use std::os::unix::fs::DirBuilderExt;

/// The exclusive lock on a state dir, held while this value lives.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another logwarden (pid {}) holds the state lock {}; stop it first, or use another state_dir", pid.map_or("unknown".to_string(), |p| p.to_string()), path.display())]
    Held {
        pid: Option<u32>,
        path: PathBuf,
        /// The holder is a one-shot `logwarden rotate`, not a daemon.
        one_shot: bool,
    },
    #[error("cannot lock {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl StateLock {
    /// Take the lock without waiting and write our pid into it.
    pub fn acquire(state_dir: &Path) -> Result<StateLock, LockError> {
        StateLock::acquire_as(state_dir, false)
    }

    /// [`StateLock::acquire`] for a one-shot `logwarden rotate`: the lock
    /// file says so, and a second `rotate` then waits for it rather than
    /// sending it the SIGUSR1 meant for a daemon (which would kill it).
    pub fn acquire_one_shot(state_dir: &Path) -> Result<StateLock, LockError> {
        StateLock::acquire_as(state_dir, true)
    }

    fn acquire_as(state_dir: &Path, one_shot: bool) -> Result<StateLock, LockError> {
        let path = state_dir.join(LOCK);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err)?;
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let (pid, one_shot) = read_holder(&mut file);
                return Err(LockError::Held {
                    pid,
                    path,
                    one_shot,
                });
            }
            Err(e) => return Err(io_err(e.into())),
        }
        file.set_len(0).map_err(io_err)?;
        file.rewind().map_err(io_err)?;
        let role = if one_shot {
            format!(" {ONE_SHOT}")
        } else {
            String::new()
        };
        writeln!(file, "{}{role}", std::process::id()).map_err(io_err)?;
        Ok(StateLock { _file: file, path })
    }

    /// Whether the lock file at `path` is still the one this lock holds: a
    /// state dir removed (or its lock file replaced) while running leaves a
    /// lock nobody else can see, so a second instance could start.
    pub fn intact(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let held = match self._file.metadata() {
            Ok(m) => (m.dev(), m.ino()),
            Err(_) => return false,
        };
        fs::metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == held)
    }
}

/// The pid of the daemon holding `state_dir`'s lock, if one does: read
/// from /proc/locks, so looking never takes (or races for) the lock.
pub fn lock_holder(state_dir: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(state_dir.join(LOCK)).ok()?;
    let key = (m.dev(), m.ino());
    let locks = crate::sys::holders::scan_locks(&std::iter::once(key).collect());
    let held = locks.get(&key)?.iter().find(|l| l.kind == "FLOCK")?;
    held.pid.or_else(|| {
        let mut f = File::open(state_dir.join(LOCK)).ok()?;
        read_pid(&mut f)
    })
}

fn read_pid(file: &mut File) -> Option<u32> {
    read_holder(file).0
}

/// The holder's pid (if written yet) and whether it is a one-shot `rotate`.
fn read_holder(file: &mut File) -> (Option<u32>, bool) {
    let mut s = String::new();
    if file.rewind().is_err() || file.read_to_string(&mut s).is_err() {
        return (None, false);
    }
    let mut words = s.split_whitespace();
    let pid = words.next().and_then(|w| w.parse().ok());
    (pid, words.next() == Some(ONE_SHOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_temp_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State {
            version: VERSION,
            ..State::default()
        };
        let t = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        s.files.insert(
            key("a", "x.log"),
            FileState {
                anchor: t,
                last_cut: None,
                last_strategy: None,
                last_reason: None,
            },
        );
        s.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()), (s.clone(), None));
        // A complete temp file left by a crash before the rename is newer.
        let mut newer = s.clone();
        newer.files.get_mut("a/x.log").unwrap().last_cut = Some(t);
        fs::write(
            dir.path().join(STATE_TMP),
            serde_json::to_vec(&newer).unwrap(),
        )
        .unwrap();
        assert_eq!(State::load(dir.path()).0, newer);
        // A torn temp file is ignored.
        fs::write(dir.path().join(STATE_TMP), b"{\"vers").unwrap();
        assert_eq!(State::load(dir.path()).0, newer);
        assert!(!dir.path().join(STATE_TMP).exists());
    }

    #[test]
    fn corrupt_state_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE), b"garbage").unwrap();
        let (s, warn) = State::load(dir.path());
        assert!(s.files.is_empty());
        assert!(warn.unwrap().contains("moved aside"));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("state.json.corrupt-")),
            "{names:?}"
        );
    }

    #[test]
    fn second_lock_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = StateLock::acquire(dir.path()).unwrap();
        match StateLock::acquire(dir.path()) {
            Err(LockError::Held { pid, one_shot, .. }) => {
                assert_eq!(pid, Some(std::process::id()));
                assert!(!one_shot, "a daemon's lock");
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        let _held = StateLock::acquire_one_shot(dir.path()).unwrap();
        match StateLock::acquire(dir.path()) {
            Err(LockError::Held { pid, one_shot, .. }) => {
                assert_eq!(pid, Some(std::process::id()));
                assert!(one_shot, "a one-shot rotate's lock");
            }
            other => panic!("{other:?}"),
        }
    }
}
