//! Who holds a file: the facts the `auto` strategy decides on, read from /proc.
//!
//! * writers: processes with a descriptor open for writing on the inode
//!   (`/proc/PID/fd/*` stat'ed to (dev, ino), `/proc/PID/fdinfo/*` for the
//!   access mode). Readers such as a shipper holding the file do not count.
//! * locks: `/proc/locks` lists flock, POSIX (fcntl), OFD locks and leases by
//!   device and inode, whoever holds them.
//!
//! Processes this daemon cannot inspect (other users' when not root) are
//! invisible; the result is then a lower bound, and a failed rename still
//! falls back to copy-truncate. This module only reads /proc.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;

/// A process holding a file open for writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub pid: u32,
    pub comm: String,
}

/// A lock on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// FLOCK, POSIX, OFDLCK, LEASE or DELEG.
    pub kind: String,
    pub pid: Option<u32>,
}

/// What /proc says about a set of files, keyed by (dev, ino).
#[derive(Debug, Default)]
pub struct Holders {
    pub writers: HashMap<(u64, u64), Vec<Writer>>,
    pub locks: HashMap<(u64, u64), Vec<Lock>>,
}

impl Holders {
    /// Scan /proc once for the given files.
    pub fn scan(files: &HashSet<(u64, u64)>) -> Holders {
        let mut h = Holders::default();
        if files.is_empty() {
            return h;
        }
        h.locks = scan_locks(files);
        let me = std::process::id();
        let Ok(procs) = fs::read_dir("/proc") else {
            return h;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            let Ok(fds) = fs::read_dir(p.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let Ok(meta) = fs::metadata(fd.path()) else {
                    continue;
                };
                let key = (meta.dev(), meta.ino());
                if !files.contains(&key) {
                    continue;
                }
                let info = p.path().join("fdinfo").join(fd.file_name());
                if !is_write_mode(&fs::read_to_string(info).unwrap_or_default()) {
                    continue;
                }
                let comm = fs::read_to_string(p.path().join("comm"))
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let list = h.writers.entry(key).or_default();
                if !list.iter().any(|w| w.pid == pid) {
                    list.push(Writer { pid, comm });
                }
            }
        }
        h
    }

    pub fn writers_of(&self, dev: u64, ino: u64) -> &[Writer] {
        self.writers.get(&(dev, ino)).map_or(&[], Vec::as_slice)
    }

    pub fn locks_on(&self, dev: u64, ino: u64) -> &[Lock] {
        self.locks.get(&(dev, ino)).map_or(&[], Vec::as_slice)
    }
}

/// A running process as the reopen hook check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    /// Its command line (arguments joined by spaces), or `[comm]` for a
    /// kernel thread or a process that hides it.
    pub cmdline: String,
    /// It and every descendant (a master process and its workers, a
    /// supervisor and its child).
    pub tree: Vec<u32>,
}

/// The process `pid` and its tree, if it is running (a zombie is not).
pub fn process(pid: u32) -> Option<Process> {
    let (state, _) = stat_of(pid)?;
    if state == 'Z' || state == 'X' {
        return None;
    }
    let mut parents: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(procs) = fs::read_dir("/proc") {
        for p in procs.flatten() {
            let Some(child) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((_, ppid)) = stat_of(child) {
                parents.entry(ppid).or_default().push(child);
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        if let Some(kids) = parents.get(&tree[i]) {
            tree.extend(
                kids.iter()
                    .filter(|k| !tree.contains(k))
                    .copied()
                    .collect::<Vec<_>>(),
            );
        }
        i += 1;
    }
    Some(Process {
        pid,
        cmdline: cmdline(pid),
        tree,
    })
}

/// `pid`'s command line for a message (`[comm]` when it has none).
pub fn cmdline(pid: u32) -> String {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if text.is_empty() {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        return format!("[{}]", comm.trim());
    }
    let mut line = text.join(" ");
    if line.len() > 200 {
        let mut end = 200;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

/// The state letter and parent pid from `/proc/PID/stat` (the command name
/// in parentheses may itself hold spaces and parentheses: parse after the last `)`).
fn stat_of(pid: u32) -> Option<(char, u32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<(char, u32)> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether an fdinfo text says the descriptor was opened for writing.
fn is_write_mode(fdinfo: &str) -> bool {
    fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & 0o3 != 0)
}

pub fn scan_locks(files: &HashSet<(u64, u64)>) -> HashMap<(u64, u64), Vec<Lock>> {
    let text = fs::read_to_string("/proc/locks").unwrap_or_default();
    parse_locks(&text, files)
}

/// Parse /proc/locks. Lines look like
/// `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF` or, for a blocked
/// waiter, `1: -> FLOCK ...`. The device is `major:minor` in hex.
fn parse_locks(text: &str, files: &HashSet<(u64, u64)>) -> HashMap<(u64, u64), Vec<Lock>> {
    let mut out: HashMap<(u64, u64), Vec<Lock>> = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().filter(|f| *f != "->").collect();
        if fields.len() < 6 {
            continue;
        }
        let kind = fields[1].to_string();
        let pid = fields[4].parse::<u32>().ok();
        let mut id = fields[5].split(':');
        let (Some(maj), Some(min), Some(ino)) = (id.next(), id.next(), id.next()) else {
            continue;
        };
        let (Ok(maj), Ok(min), Ok(ino)) = (
            u32::from_str_radix(maj, 16),
            u32::from_str_radix(min, 16),
            ino.parse::<u64>(),
        ) else {
            continue;
        };
        let dev = libc::makedev(maj, min);
        if files.contains(&(dev, ino)) {
            out.entry((dev, ino)).or_default().push(Lock { kind, pid });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_locks() {
        let dev = libc::makedev(0xfd, 0x01);
        let files: HashSet<_> = [(dev, 5678)].into();
        let text = "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF\n\
                    2: POSIX  ADVISORY  WRITE 99 fd:01:1111 0 EOF\n\
                    3: -> FLOCK  ADVISORY  WRITE 77 fd:01:5678 0 EOF\n\
                    4: LEASE  ACTIVE    READ 42 fd:01:5678 0 EOF\n";
        let got = parse_locks(text, &files);
        let kinds: Vec<_> = got[&(dev, 5678)]
            .iter()
            .map(|l| (l.kind.as_str(), l.pid))
            .collect();
        assert_eq!(
            kinds,
            [
                ("FLOCK", Some(1234)),
                ("FLOCK", Some(77)),
                ("LEASE", Some(42))
            ]
        );
    }

    #[test]
    fn proc_stat_with_odd_command_names() {
        assert_eq!(parse_stat("42 (nginx) S 1 42 42 0"), Some(('S', 1)));
        assert_eq!(parse_stat("7 (a) b) (c) Z 99 7"), Some(('Z', 99)));
        assert_eq!(parse_stat("7 (x"), None);
    }

    #[test]
    fn a_process_tree_holds_its_children() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let me = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut p = process(me).unwrap();
        while p.tree.len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            p = process(me).unwrap();
        }
        for pid in p.tree.iter().rev() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
        child.wait().unwrap();
        assert_eq!(p.tree.len(), 2, "{p:?}");
        assert!(p.cmdline.starts_with("sh -c"), "{p:?}");
        assert!(process(me).is_none(), "a reaped process is not running");
    }

    #[test]
    fn fdinfo_access_mode() {
        assert!(is_write_mode("pos:\t0\nflags:\t02102001\nmnt_id:\t1\n"));
        assert!(is_write_mode("flags:\t0100002\n"));
        assert!(!is_write_mode("pos:\t0\nflags:\t0100000\n"));
        assert!(!is_write_mode(""));
    }

    #[test]
    fn sees_a_real_writer_and_a_real_flock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"x\n").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let key = (meta.dev(), meta.ino());
        let files: HashSet<_> = [key].into();
        // A child process holding the file for appending and flock'ed.
        let mut child = std::process::Command::new("flock")
            .arg(&path)
            .args([
                "sh",
                "-c",
                &format!("exec 3>>'{}'; sleep 30", path.display()),
            ])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut h = Holders::scan(&files);
        while (h.writers_of(key.0, key.1).is_empty() || h.locks_on(key.0, key.1).is_empty())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
            h = Holders::scan(&files);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!h.writers_of(key.0, key.1).is_empty(), "writer not seen");
        assert_eq!(h.locks_on(key.0, key.1)[0].kind, "FLOCK");
    }
}
