//! Reopen hooks: whether a hook can make a file's writers reopen it, and
//! firing it.
//!
//! A hook is trusted only when it can work. Before a cut that relies on it,
//! [`Check::gather`] reads the facts (the pidfile, whether its process is
//! alive, the process and its descendants; for a command, whether the
//! program exists and is executable) and [`judge`] decides, purely, against
//! the file's writers: fire, or not and why. `auto` copy-truncates when the
//! verdict is [`Verdict::Unusable`]; an explicit `rename` renames but does not
//! fire. A signal is only ever sent to a process that, or one of whose
//! descendants, holds the file open for writing: a stale pidfile whose pid
//! was reused, or a pidfile of the wrong service, never gets a process
//! killed by a SIGUSR1 it does not handle.
//!
//! This module reads /proc and the pidfile, sends the signal or runs the
//! command; it never journals (callers do, from the verdict and outcome).

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::config::Reopen;
use crate::sys::holders::{self, Process, Writer};

/// What the pidfile holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidFile {
    Missing,
    Unreadable(String),
    NotAPid(String),
    /// A pid, and the process if it is running.
    Pid(i64, Option<Process>),
}

/// The facts a verdict is drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    Signal {
        signal: i32,
        name: String,
        pidfile: PathBuf,
        pid: PidFile,
    },
    Command {
        argv: Vec<String>,
        /// The program's resolved path, or why it cannot run.
        program: Result<PathBuf, String>,
    },
}

/// Whether to fire a hook after a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Fire: signal this process (signal hooks) or run the command.
    Fire(Option<Process>),
    /// Nothing to tell: no process holds the file open for writing, and a
    /// signal would reach a process that does not hold it.
    NotNeeded,
    /// The hook cannot make the writers reopen; `why` starts with
    /// "reopen hook unusable" and names the fix where one is known.
    Unusable(String),
}

/// A hook's facts and the verdict for one file (taken right before its cut).
#[derive(Debug, Clone)]
pub struct Check {
    pub facts: Facts,
    pub verdict: Verdict,
}

impl Check {
    /// Read the facts of `hook` and judge them against `writers` of `file`.
    pub fn gather(hook: &Reopen, file: &Path, writers: &[Writer]) -> Check {
        let facts = Facts::read(hook);
        let verdict = judge(&facts, file, writers);
        Check { facts, verdict }
    }

    /// Fire the hook if the verdict says so: `None` when nothing was done,
    /// else what was done, or why it failed.
    pub fn fire(&self) -> Option<Result<String, String>> {
        match (&self.verdict, &self.facts) {
            (Verdict::Fire(Some(p)), Facts::Signal { signal, name, .. }) => {
                Some(send(p, *signal, name))
            }
            (Verdict::Fire(_), Facts::Command { argv, .. }) => Some(
                run_command(argv)
                    .map(|()| format!("ran {}", argv.join(" ")))
                    .map_err(|e| format!("reopen hook failed: {e}")),
            ),
            _ => None,
        }
    }
}

impl Facts {
    /// Read the pidfile and /proc (signal), or look the program up (command).
    pub fn read(hook: &Reopen) -> Facts {
        match hook {
            Reopen::Signal {
                signal,
                name,
                pidfile,
            } => {
                let pid = match std::fs::read_to_string(pidfile) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => PidFile::Missing,
                    Err(e) => PidFile::Unreadable(e.to_string()),
                    Ok(text) => match text.trim().parse::<i64>() {
                        Ok(pid) => {
                            let proc = u32::try_from(pid)
                                .ok()
                                .filter(|p| *p > 1)
                                .and_then(holders::process);
                            PidFile::Pid(pid, proc)
                        }
                        Err(_) => PidFile::NotAPid(text.trim().chars().take(40).collect()),
                    },
                };
                Facts::Signal {
                    signal: *signal,
                    name: name.clone(),
                    pidfile: pidfile.clone(),
                    pid,
                }
            }
            Reopen::Command(argv) => Facts::Command {
                argv: argv.clone(),
                program: find_program(&argv[0]),
            },
        }
    }
}

/// Decide whether a hook may be fired for `file`, written by `writers`. Pure.
///
/// A command hook fires whenever its program can run (what it reaches is
/// its own business, as with logrotate's `postrotate`). A signal hook fires
/// only at a live process (pid > 1) that, or a descendant of which, is one
/// of the writers; with no writer there is nothing to reopen.
pub fn judge(facts: &Facts, file: &Path, writers: &[Writer]) -> Verdict {
    let unusable = |why: String| Verdict::Unusable(format!("reopen hook unusable: {why}"));
    match facts {
        Facts::Command { program, .. } => match program {
            Ok(_) => Verdict::Fire(None),
            Err(why) => unusable(why.clone()),
        },
        Facts::Signal { pidfile, pid, .. } => {
            let pf = pidfile.display();
            let proc = match pid {
                PidFile::Missing => return unusable(format!("{pf} missing")),
                PidFile::Unreadable(e) => return unusable(format!("cannot read {pf}: {e}")),
                PidFile::NotAPid(t) => {
                    return unusable(format!("{pf} does not hold a pid ({t:?})"))
                }
                PidFile::Pid(p, _) if *p <= 1 => {
                    return unusable(format!("{pf} holds pid {p}; refusing to signal it"))
                }
                PidFile::Pid(p, None) => {
                    return unusable(format!(
                        "{pf} names pid {p}, which is not running (a stale pidfile)"
                    ))
                }
                PidFile::Pid(_, Some(proc)) => proc,
            };
            if writers.is_empty() {
                return Verdict::NotNeeded;
            }
            if writers.iter().any(|w| proc.tree.contains(&w.pid)) {
                return Verdict::Fire(Some(proc.clone()));
            }
            unusable(format!(
                "refused to signal pid {} ({}) from {pf}: neither it nor its children hold {} open for writing ({} do{})",
                proc.pid,
                proc.cmdline,
                file.display(),
                describe(writers),
                if writers.len() == 1 { "es" } else { "" },
            ))
        }
    }
}

/// Whether a cut's journaled reason says its reopen hook could not be used
/// or failed (such a cut does not clear the source's last reopen error).
pub fn is_hook_problem(reason: &str) -> bool {
    reason.contains("reopen hook unusable") || reason.contains("reopen hook failed")
}

/// `pid 12 (nginx), pid 13 (nginx)` for a message.
pub fn describe(writers: &[Writer]) -> String {
    let v: Vec<String> = writers
        .iter()
        .map(|w| format!("pid {} ({})", w.pid, holders::cmdline(w.pid)))
        .collect();
    v.join(", ")
}

/// What to change when a hook is unusable.
pub fn fix(facts: &Facts) -> &'static str {
    match facts {
        Facts::Signal { .. } => "point pidfile at the file the writing service keeps its pid in, or set strategy = \"copytruncate\"",
        Facts::Command { .. } => "install the program or fix its path, or set strategy = \"copytruncate\"",
    }
}

fn send(p: &Process, signal: i32, name: &str) -> Result<String, String> {
    let Ok(pid) = i32::try_from(p.pid) else {
        return Err(format!("pid {} is out of range", p.pid));
    };
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } != 0 {
        let e = io::Error::last_os_error();
        return Err(format!(
            "reopen hook failed: cannot send SIG{name} to pid {pid} ({}): {e}",
            p.cmdline
        ));
    }
    Ok(format!("sent SIG{name} to pid {pid} ({})", p.cmdline))
}

/// How long a reopen command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

fn run_command(argv: &[String]) -> io::Result<()> {
    let mut child = Command::new(&argv[0]).args(&argv[1..]).spawn()?;
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "{} exited with {status}",
                    argv[0]
                )))
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "{} did not finish in {} s",
                argv[0],
                COMMAND_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resolve a program as `execvp` would (a name without `/` is looked up in
/// `PATH`), and check it is an executable regular file.
fn find_program(name: &str) -> Result<PathBuf, String> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return match std::fs::metadata(&p) {
            Err(_) => Err(format!("{name} not found")),
            Ok(_) if !executable(&p) => Err(format!("{name} is not an executable file")),
            Ok(_) => Ok(p),
        };
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    let mut seen = HashSet::new();
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        if !seen.insert(dir) {
            continue;
        }
        let p = Path::new(dir).join(name);
        if executable(&p) {
            return Ok(p);
        }
    }
    Err(format!("{name} not found in PATH ({path})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(pid: PidFile) -> Facts {
        Facts::Signal {
            signal: libc::SIGUSR1,
            name: "USR1".into(),
            pidfile: "/run/nginx.pid".into(),
            pid,
        }
    }

    fn proc(pid: u32, tree: &[u32]) -> Process {
        Process {
            pid,
            cmdline: "nginx: master process".into(),
            tree: tree.to_vec(),
        }
    }

    fn w(pid: u32) -> Writer {
        Writer {
            pid,
            comm: "x".into(),
        }
    }

    #[test]
    fn verdicts() {
        let file = Path::new("/var/log/nginx/access.log");
        let fire = |v: &Verdict| matches!(v, Verdict::Fire(_));
        let why = |v: Verdict| match v {
            Verdict::Unusable(w) => w,
            other => panic!("not unusable: {other:?}"),
        };
        // (facts, writers, expected: Ok(fire?) or Err(substring of why))
        let cases: Vec<(Facts, Vec<Writer>, Result<bool, &str>)> = vec![
            (
                signal(PidFile::Missing),
                vec![w(7)],
                Err("/run/nginx.pid missing"),
            ),
            (
                signal(PidFile::NotAPid("abc".into())),
                vec![w(7)],
                Err("does not hold a pid"),
            ),
            (
                signal(PidFile::Pid(1, None)),
                vec![w(7)],
                Err("holds pid 1; refusing"),
            ),
            (
                signal(PidFile::Pid(-5, None)),
                vec![w(7)],
                Err("holds pid -5; refusing"),
            ),
            (
                signal(PidFile::Pid(99, None)),
                vec![w(7)],
                Err("not running (a stale pidfile)"),
            ),
            // The master holds it.
            (
                signal(PidFile::Pid(7, Some(proc(7, &[7, 8])))),
                vec![w(7)],
                Ok(true),
            ),
            // A worker holds it.
            (
                signal(PidFile::Pid(7, Some(proc(7, &[7, 8])))),
                vec![w(8)],
                Ok(true),
            ),
            // Someone else holds it: refused, naming the pid and its command line.
            (
                signal(PidFile::Pid(7, Some(proc(7, &[7, 8])))),
                vec![w(4242)],
                Err("refused to signal pid 7 (nginx: master process)"),
            ),
            // Nobody holds it: nothing to reopen.
            (
                signal(PidFile::Pid(7, Some(proc(7, &[7])))),
                vec![],
                Ok(false),
            ),
            (
                Facts::Command {
                    argv: vec!["/x".into()],
                    program: Err("/x not found".into()),
                },
                vec![w(7)],
                Err("reopen hook unusable: /x not found"),
            ),
            (
                Facts::Command {
                    argv: vec!["/bin/true".into()],
                    program: Ok("/bin/true".into()),
                },
                vec![],
                Ok(true),
            ),
        ];
        for (facts, writers, want) in cases {
            let v = judge(&facts, file, &writers);
            match want {
                Ok(true) => assert!(fire(&v), "{facts:?} {writers:?}: {v:?}"),
                Ok(false) => assert_eq!(v, Verdict::NotNeeded, "{facts:?}"),
                Err(s) => {
                    let got = why(v);
                    assert!(got.starts_with("reopen hook unusable: "), "{got}");
                    assert!(got.contains(s), "{facts:?}: {got}");
                }
            }
        }
    }

    #[test]
    fn programs_are_found_as_execvp_would() {
        assert!(find_program("sh").is_ok());
        assert!(find_program("/bin/sh").is_ok());
        assert!(find_program("/nonexistent/reopen")
            .unwrap_err()
            .contains("not found"));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("reopen.sh");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        let err = find_program(plain.to_str().unwrap()).unwrap_err();
        assert!(err.contains("not an executable"), "{err}");
        assert!(find_program("no-such-program-here").is_err());
    }
}
