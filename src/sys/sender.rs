//! Who sent a signal: the sender's pid and uid from the signal's siginfo,
//! and its command line and parent read from /proc at once in the handler
//! (a `kill` run by `systemctl reload` is gone a moment later). The handler
//! only uses async-signal-safe calls (open, read, close) and atomics; the
//! bytes are made into words later, outside it.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU8, AtomicUsize, Ordering};

const BUF: usize = 512;

struct Slot {
    seen: AtomicBool,
    pid: AtomicI32,
    uid: AtomicU32,
    cmdline: [AtomicU8; BUF],
    cmdline_len: AtomicUsize,
    stat: [AtomicU8; BUF],
    stat_len: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU8 = AtomicU8::new(0);

static HUP: Slot = Slot {
    seen: AtomicBool::new(false),
    pid: AtomicI32::new(0),
    uid: AtomicU32::new(0),
    cmdline: [ZERO; BUF],
    cmdline_len: AtomicUsize::new(0),
    stat: [ZERO; BUF],
    stat_len: AtomicUsize::new(0),
};

/// Reads `/proc/<pid>/<what>` into `out` (async-signal-safe). Returns the
/// length read.
fn read_proc(pid: i32, what: &[u8], out: &mut [u8; BUF]) -> usize {
    // "/proc/" + up to 10 digits + "/" + what + NUL, built without allocating.
    let mut path = [0u8; 64];
    let mut n = 0;
    for &b in b"/proc/" {
        path[n] = b;
        n += 1;
    }
    let mut digits = [0u8; 10];
    let mut d = 0;
    let mut p = pid.unsigned_abs();
    loop {
        digits[d] = b'0' + (p % 10) as u8;
        d += 1;
        p /= 10;
        if p == 0 || d == digits.len() {
            break;
        }
    }
    while d > 0 {
        d -= 1;
        path[n] = digits[d];
        n += 1;
    }
    path[n] = b'/';
    n += 1;
    for &b in what.iter().take(path.len() - n - 1) {
        path[n] = b;
        n += 1;
    }
    path[n] = 0;
    // SAFETY: `path` is NUL-terminated; open/read/close are
    // async-signal-safe and `out` is ours.
    unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return 0;
        }
        let r = libc::read(fd, out.as_mut_ptr().cast(), BUF);
        libc::close(fd);
        usize::try_from(r).unwrap_or(0)
    }
}

fn store(dst: &[AtomicU8; BUF], len: &AtomicUsize, src: &[u8; BUF], n: usize) {
    for (d, s) in dst.iter().zip(src.iter()).take(n) {
        d.store(*s, Ordering::Relaxed);
    }
    len.store(n, Ordering::Release);
}

fn on_signal(info: &libc::siginfo_t) {
    // SAFETY: for a signal sent by kill(2) or sigqueue(2) these fields are set.
    let (pid, uid) = unsafe { (info.si_pid(), info.si_uid()) };
    HUP.pid.store(pid, Ordering::Relaxed);
    HUP.uid.store(uid, Ordering::Relaxed);
    let mut buf = [0u8; BUF];
    let n = read_proc(pid, b"cmdline", &mut buf);
    store(&HUP.cmdline, &HUP.cmdline_len, &buf, n);
    let n = read_proc(pid, b"stat", &mut buf);
    store(&HUP.stat, &HUP.stat_len, &buf, n);
    HUP.seen.store(true, Ordering::Release);
}

/// Starts recording the sender of every SIGHUP (beside the daemon's own
/// handling of it).
pub fn watch_hup() -> std::io::Result<()> {
    // SAFETY: the action only touches atomics and async-signal-safe calls.
    unsafe { signal_hook_registry::register_sigaction(libc::SIGHUP, on_signal) }?;
    Ok(())
}

fn load(src: &[AtomicU8; BUF], len: &AtomicUsize) -> Vec<u8> {
    let n = len.load(Ordering::Acquire).min(BUF);
    src.iter()
        .take(n)
        .map(|b| b.load(Ordering::Relaxed))
        .collect()
}

/// The last SIGHUP's sender in words, e.g. `signal SIGHUP from pid 812
/// uid 0 (/bin/kill -HUP 4242), child of pid 1 (systemd)`; `None` if no
/// SIGHUP was seen since start.
pub fn last_hup() -> Option<String> {
    if !HUP.seen.swap(false, Ordering::AcqRel) {
        return None;
    }
    let pid = HUP.pid.load(Ordering::Relaxed);
    let uid = HUP.uid.load(Ordering::Relaxed);
    let cmd: String = String::from_utf8_lossy(&load(&HUP.cmdline, &HUP.cmdline_len))
        .split('\0')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let stat = String::from_utf8_lossy(&load(&HUP.stat, &HUP.stat_len)).into_owned();
    let mut s = format!("signal SIGHUP from pid {pid} uid {uid}");
    if !cmd.is_empty() {
        s.push_str(&format!(" ({cmd})"));
    }
    if let Some(ppid) = parent(&stat) {
        let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).unwrap_or_default();
        s.push_str(&format!(", child of pid {ppid}"));
        if !comm.trim().is_empty() {
            s.push_str(&format!(" ({})", comm.trim()));
        }
        if ppid == 1 {
            s.push_str(": systemd (systemctl reload)");
        }
    }
    Some(s)
}

/// The parent pid in a `/proc/<pid>/stat` line (after the `(comm)`).
fn parent(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_a_stat_line() {
        assert_eq!(parent("812 (kill) R 1 812 812 0 -1"), Some(1));
        assert_eq!(parent("9 (a b) c) S 77 9 9"), Some(77));
        assert_eq!(parent("garbage"), None);
    }
}
