//! `SafeDir`: an open directory and the only file operations logwarden does
//! inside a watched directory. Every operation is relative to the directory's
//! fd and refuses symlinks (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`), so a name
//! swapped for a link between a check and an act cannot redirect a rename,
//! a truncate or a delete outside the directory. Opening never blocks on a
//! FIFO (`O_NONBLOCK`) and every opened file is checked to be a regular file.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags, RenameFlags};

/// File metadata as logwarden needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    /// Last status change, seconds since the epoch (a rename updates it).
    pub ctime: i64,
    pub mtime: i64,
    /// Allocated 512-byte blocks (a file with punched holes has fewer).
    pub blocks: u64,
}

/// The kind of a directory entry, for deciding what to skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Symlink,
    Dir,
    Other,
}

impl Meta {
    pub fn kind(&self) -> Kind {
        match self.mode & libc::S_IFMT {
            libc::S_IFREG => Kind::Regular,
            libc::S_IFLNK => Kind::Symlink,
            libc::S_IFDIR => Kind::Dir,
            _ => Kind::Other,
        }
    }

    /// The bytes that hold data: the size, less punched holes (mirror mode
    /// punches out what it drained on filesystems without collapse-range).
    /// (A file system that reports no blocks at all is taken at its size.)
    pub fn used(&self) -> u64 {
        if self.blocks == 0 {
            self.size
        } else {
            self.size.min(self.blocks.saturating_mul(512))
        }
    }

    /// Permission bits only.
    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }

    /// Whether another `Meta` is the same file: device, inode and type (a
    /// freed inode number is reused at once, e.g. by a symlink swapped in).
    pub fn same_file(&self, other: &Meta) -> bool {
        self.dev == other.dev && self.ino == other.ino && self.kind() == other.kind()
    }
}

impl From<rfs::Stat> for Meta {
    fn from(st: rfs::Stat) -> Meta {
        Meta {
            dev: st.st_dev,
            ino: st.st_ino,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            nlink: st.st_nlink,
            ctime: st.st_ctime,
            mtime: st.st_mtime,
            blocks: u64::try_from(st.st_blocks).unwrap_or(0),
        }
    }
}

/// Stat an open file.
pub fn fstat(fd: impl AsFd) -> io::Result<Meta> {
    Ok(rfs::fstat(fd)?.into())
}

/// An open directory.
#[derive(Debug)]
pub struct SafeDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl SafeDir {
    /// Open `path` as a directory. The path itself may pass through symlinks
    /// (it comes from the config, which root wrote); what is inside may not.
    pub fn open(path: &Path) -> io::Result<SafeDir> {
        let fd = rfs::open(
            path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(SafeDir {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The full path of an entry, for messages and the journal.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Metadata of the directory itself.
    pub fn meta(&self) -> io::Result<Meta> {
        fstat(&self.fd)
    }

    /// Metadata of an entry, not following a symlink.
    pub fn stat(&self, name: &str) -> io::Result<Meta> {
        Ok(rfs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?.into())
    }

    /// Whether an entry exists (of any kind, links included).
    pub fn exists(&self, name: &str) -> bool {
        self.stat(name).is_ok()
    }

    /// Entry names, unsorted. `.` and `..` and names that are not UTF-8 are left out.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut dir = rfs::Dir::read_from(&self.fd)?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = OsString::from_vec(entry.file_name().to_bytes().to_vec());
            if let Ok(name) = name.into_string() {
                if name != "." && name != ".." {
                    out.push(name);
                }
            }
        }
        Ok(out)
    }

    fn open_file(&self, name: &str, flags: OFlags, mode: u32) -> io::Result<File> {
        let fd = rfs::openat(
            &self.fd,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
            Mode::from_raw_mode(mode),
        )?;
        let meta = fstat(&fd)?;
        if meta.kind() != Kind::Regular {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                self.join(name).display()
            )));
        }
        // The descriptor was opened non-blocking only to never hang on a FIFO;
        // regular files ignore the flag, but clear it for clarity.
        let fl = rustix::fs::fcntl_getfl(&fd)?;
        rustix::fs::fcntl_setfl(&fd, fl - OFlags::NONBLOCK)?;
        Ok(File::from(fd))
    }

    /// Open a regular file for reading.
    pub fn open_read(&self, name: &str) -> io::Result<File> {
        self.open_file(name, OFlags::RDONLY, 0)
    }

    /// Open a regular file for reading and writing (truncate, collapse).
    pub fn open_rw(&self, name: &str) -> io::Result<File> {
        self.open_file(name, OFlags::RDWR, 0)
    }

    /// Create a new file, open for reading and writing; fails if the name
    /// exists (no overwrite, no link follow).
    pub fn create_new(&self, name: &str, mode: u32) -> io::Result<File> {
        self.open_file(name, OFlags::RDWR | OFlags::CREATE | OFlags::EXCL, mode)
    }

    /// Rename within the directory, never replacing an existing name.
    pub fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()> {
        Ok(rfs::renameat_with(
            &self.fd,
            from,
            &self.fd,
            to,
            RenameFlags::NOREPLACE,
        )?)
    }

    /// Remove a file (not a directory).
    pub fn unlink(&self, name: &str) -> io::Result<()> {
        Ok(rfs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Whether the directory is append-only (`chattr +a`): entries can be
    /// created in it but not renamed or removed.
    pub fn append_only(&self) -> bool {
        rustix::fs::ioctl_getflags(&self.fd).is_ok_and(|f| f.contains(rustix::fs::IFlags::APPEND))
    }

    /// Make the directory's entries (renames, creates, unlinks) durable.
    pub fn sync(&self) -> io::Result<()> {
        Ok(rfs::fsync(&self.fd)?)
    }
}

/// Give a file the owner and permission bits of `like` (best effort for the
/// owner: an unprivileged daemon cannot chown, and then keeps its own).
pub fn copy_owner_and_mode(file: &File, like: &Meta) -> io::Result<()> {
    set_owner_and_mode(file, like.uid, like.gid, like.perm() & 0o777)
}

/// Give `file` this owner (best effort: only root may) and mode.
pub fn set_owner_and_mode(file: &File, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    let _ = rfs::fchown(
        file,
        Some(rfs::Uid::from_raw(uid)),
        Some(rfs::Gid::from_raw(gid)),
    );
    rfs::fchmod(file, Mode::from_raw_mode(mode))?;
    Ok(())
}
