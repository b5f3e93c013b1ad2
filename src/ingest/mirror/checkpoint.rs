//! The tail checkpoint, `state_dir/tail.json`: for every mirror, its inode
//! and the length known durable; for every source inode being read, its
//! identity, fingerprint and the offset up to which its lines are in that
//! mirror. One file, written atomically (temp, fsync, rename, fsync dir) only
//! after the mirror bytes it describes were fsynced, so it is always a
//! consistent snapshot: at start every mirror is cut back to its length and
//! every input resumes at its offset, and each line lands exactly once.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub const FILE: &str = "tail.json";
const TMP: &str = ".tail.json.tmp";
const VERSION: u32 = 1;

/// A mirror file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorCk {
    pub dev: u64,
    pub ino: u64,
    /// Bytes known durable; anything after them is cut at start.
    pub len: u64,
}

/// A removal of the file's first `k` bytes that may or may not have happened
/// (written before a collapse or truncate, cleared after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub k: u64,
    /// Fingerprint the file starts with if the removal happened.
    pub fp_len: u64,
    pub fp: String,
}

/// A source inode being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCk {
    /// The live file name whose mirror it feeds.
    pub base: String,
    /// Its name when last seen (an archive name while a renamed file drains).
    pub name: String,
    pub dev: u64,
    pub ino: u64,
    pub fp_len: u64,
    pub fp: String,
    pub offset: u64,
    /// Set once it was renamed away and is being drained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draining_since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<Shift>,
    /// Lines masked so far in an open private-key block at `offset`
    /// (the redactor's [`crate::redact::Carry`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pem_lines: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One source's part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCk {
    /// By mirror (= live file) name.
    pub mirrors: BTreeMap<String, MirrorCk>,
    pub inputs: Vec<InputCk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub sources: BTreeMap<String, SourceCk>,
}

impl Default for Checkpoint {
    fn default() -> Checkpoint {
        Checkpoint {
            version: VERSION,
            sources: BTreeMap::new(),
        }
    }
}

impl Checkpoint {
    /// Load; a missing file is an empty checkpoint. A file that does not
    /// parse is moved aside (never trusted) and reported.
    pub fn load(state_dir: &Path) -> (Checkpoint, Option<String>) {
        let path = state_dir.join(FILE);
        let _ = fs::remove_file(state_dir.join(TMP));
        match fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Checkpoint::default(), None),
            Err(e) => (
                Checkpoint::default(),
                Some(format!("cannot read {}: {e}", path.display())),
            ),
            Ok(bytes) => match serde_json::from_slice::<Checkpoint>(&bytes) {
                Ok(c) if c.version == VERSION => (c, None),
                other => {
                    let why = match other {
                        Ok(c) => format!("unknown version {}", c.version),
                        Err(e) => e.to_string(),
                    };
                    let aside = state_dir.join(format!(
                        "{FILE}.corrupt-{}",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S")
                    ));
                    let _ = fs::rename(&path, &aside);
                    (
                        Checkpoint::default(),
                        Some(format!(
                            "{} does not parse ({why}); moved aside to {}; sources are read from their start",
                            path.display(),
                            aside.display()
                        )),
                    )
                }
            },
        }
    }

    /// Load for reading only (the housekeeper): nothing is moved aside.
    pub fn load_readonly(state_dir: &Path) -> (Checkpoint, bool) {
        match fs::read(state_dir.join(FILE)) {
            Ok(bytes) => match serde_json::from_slice::<Checkpoint>(&bytes) {
                Ok(c) => (c, true),
                Err(_) => (Checkpoint::default(), false),
            },
            Err(_) => (Checkpoint::default(), false),
        }
    }

    /// Save atomically.
    pub fn save(&self, state_dir: &Path) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(self).map_err(io::Error::other)?;
        bytes.push(b'\n');
        crate::state::write_atomic(state_dir, TMP, FILE, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_is_moved_aside() {
        let d = tempfile::tempdir().unwrap();
        let mut c = Checkpoint::default();
        c.sources
            .entry("s".into())
            .or_default()
            .inputs
            .push(InputCk {
                base: "a.log".into(),
                name: "a.log".into(),
                dev: 1,
                ino: 2,
                fp_len: 0,
                fp: String::new(),
                offset: 10,
                draining_since: None,
                shift: None,
                pem_lines: 3,
            });
        c.save(d.path()).unwrap();
        assert_eq!(Checkpoint::load(d.path()), (c, None));
        fs::write(d.path().join(FILE), b"{oops").unwrap();
        let (c, warn) = Checkpoint::load(d.path());
        assert!(c.sources.is_empty());
        assert!(warn.unwrap().contains("moved aside"));
    }
}
