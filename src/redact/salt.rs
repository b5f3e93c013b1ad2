//! The salt for `mask = "sha256"`: 32 random bytes kept in the state
//! directory, so a secret hashes the same across restarts on this host and
//! differently on every other.

use std::io::{self, Read, Write};
use std::path::Path;

/// Reads the salt `<state_dir>/redact.salt`, or creates it: 32 random bytes
/// (getrandom(2), else `/dev/urandom`), `O_CREAT|O_EXCL`, mode 0600, fsynced
/// (file and directory).
///
/// An existing salt file that is not exactly 32 bytes, not a regular file, or
/// readable by group or others is refused with an error that says so. (A
/// crash between creating and writing the file leaves an empty file, which is
/// then refused: delete it to get a new salt.)
pub fn load_or_create_salt(state_dir: &Path) -> io::Result<[u8; 32]> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let path = state_dir.join("redact.salt");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut f) => {
            let salt = crate::sys::rand::random32()?;
            f.write_all(&salt)?;
            f.sync_all()?;
            if let Ok(dir) = std::fs::File::open(state_dir) {
                // Best effort: make the new directory entry durable.
                let _ = dir.sync_all();
            }
            Ok(salt)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let mut f = std::fs::File::open(&path)?;
            let meta = f.metadata()?;
            if !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("salt file {} is not a regular file", path.display()),
                ));
            }
            if meta.mode() & 0o044 != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "salt file {} is readable by group or others (mode {:o}); \
                         run `chmod 600` on it",
                        path.display(),
                        meta.mode() & 0o7777
                    ),
                ));
            }
            if meta.len() != 32 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "salt file {} has {} bytes, expected exactly 32; \
                         delete it to create a new salt (masks will change)",
                        path.display(),
                        meta.len()
                    ),
                ));
            }
            let mut salt = [0u8; 32];
            f.read_exact(&mut salt)?;
            let mut extra = [0u8; 1];
            if f.read(&mut extra)? != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("salt file {} grew while being read", path.display()),
                ));
            }
            Ok(salt)
        }
        Err(e) => Err(e),
    }
}
