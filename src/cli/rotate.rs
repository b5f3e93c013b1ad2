//! `logwarden rotate`: one cut now, by this process or by asking the
//! running daemon.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::journal::Journal;
use crate::runtime::engine::{self, Force};
use crate::state::{self, LockError, StateLock};
use crate::sys::clock::Clock;

use super::spinner;

/// How long `logwarden rotate` waits for another one-shot `rotate` holding
/// the state lock before it gives up.
const ROTATE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

pub(super) fn rotate_now(
    cfg: &Config,
    clock: &Clock,
    source: Option<String>,
    dry_run: bool,
    wait: Option<std::time::Duration>,
) -> ExitCode {
    if let Some(name) = &source {
        if cfg.source(name).is_none() {
            let known: Vec<_> = cfg.sources.iter().map(|s| s.name.as_str()).collect();
            eprintln!(
                "logwarden: no source named {name:?} in {}; known: {}",
                cfg.path.display(),
                known.join(", ")
            );
            return ExitCode::from(1);
        }
    }
    let force = source.clone().map_or(Force::All, Force::Source);
    if dry_run {
        let journal = Arc::new(Mutex::new(Journal::log_only()));
        let (report, house) = engine::one_shot(cfg, &journal, clock.now(), &force, true);
        print_lines(&report.lines);
        print_lines(&house.lines);
        if report.lines.is_empty() && house.lines.is_empty() {
            println!("nothing to do");
        }
        return ExitCode::SUCCESS;
    }
    if let Err(e) = state::ensure_dir(&cfg.state_dir) {
        eprintln!(
            "logwarden: cannot create state_dir {}: {e}",
            cfg.state_dir.display()
        );
        return ExitCode::from(1);
    }
    // A daemon holding the lock is asked to rotate (SIGUSR1). Another one-shot
    // `rotate` holding it is waited for instead: it has no SIGUSR1 handler, so
    // the signal would kill it mid-cut. This run then does its own pass, which
    // cuts only what was written meanwhile.
    let waiting_since = std::time::Instant::now();
    let mut said = false;
    let _lock = loop {
        match StateLock::acquire_one_shot(&cfg.state_dir) {
            Ok(l) => break l,
            Err(LockError::Held {
                pid: Some(pid),
                one_shot: false,
                ..
            }) => return ask_daemon(&cfg.state_dir, pid, source.as_deref(), wait),
            // A one-shot holder, or one that has not written its pid yet.
            Err(LockError::Held { pid, .. }) if waiting_since.elapsed() < ROTATE_LOCK_WAIT => {
                if let (Some(pid), false) = (pid, said) {
                    println!("waiting for another logwarden rotate (pid {pid}) to finish");
                    said = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => {
                eprintln!("logwarden: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let journal = match Journal::open(&cfg.state_dir) {
        Ok(mut j) => {
            j.set_max_size(cfg.journal_max_size);
            j.set_host(&cfg.host);
            j.set_forward_secure(cfg.forward_secure);
            Arc::new(Mutex::new(j))
        }
        Err(e) => {
            eprintln!(
                "logwarden: cannot open the journal in {}: {e}",
                cfg.state_dir.display()
            );
            return ExitCode::from(1);
        }
    };
    let bar = spinner("cutting, compressing and sweeping", false);
    let (report, house) = engine::one_shot(cfg, &journal, clock.now(), &force, false);
    bar.finish_and_clear();
    print_lines(&report.lines);
    print_lines(&house.lines);
    if report.cuts == 0 {
        println!("nothing to cut (no matching non-empty file)");
    }
    if report.errors + house.errors > 0 {
        eprintln!(
            "logwarden: {} error(s); see {}",
            report.errors + house.errors,
            engine::journal_path(cfg).display()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn print_lines(lines: &[String]) {
    for l in lines {
        println!("{l}");
    }
}

fn ask_daemon(
    state_dir: &Path,
    pid: u32,
    source: Option<&str>,
    wait: Option<std::time::Duration>,
) -> ExitCode {
    let req = state_dir.join(crate::runtime::daemon::ROTATE_REQUEST);
    let id = crate::sys::rand::random32()
        .map(|b| crate::sys::digest::hex(&b[..8]))
        .unwrap_or_else(|_| {
            format!(
                "{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
            )
        });
    let from = recent_records(state_dir)
        .last()
        .and_then(|v| v["_seq"].as_u64())
        .unwrap_or(0);
    if let Err(e) = std::fs::write(&req, format!("{}\n{id}\n", source.unwrap_or("*"))) {
        eprintln!("logwarden: cannot write {}: {e}", req.display());
        return ExitCode::from(1);
    }
    let Ok(pid_i) = i32::try_from(pid) else {
        return ExitCode::from(1);
    };
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid_i, libc::SIGUSR1) } != 0 {
        eprintln!(
            "logwarden: cannot signal the running daemon (pid {pid}): {}",
            std::io::Error::last_os_error()
        );
        return ExitCode::from(1);
    }
    println!(
        "asked the running daemon (pid {pid}) to rotate {}",
        source.unwrap_or("all sources")
    );
    let Some(timeout) = wait else {
        return ExitCode::SUCCESS;
    };
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let records = recent_records(state_dir);
        let new: Vec<&serde_json::Value> = records
            .iter()
            .filter(|v| v["_seq"].as_u64().is_some_and(|s| s > from))
            .collect();
        let answered = new
            .iter()
            .any(|v| v["action"] == "rotate.request" && v["new"].as_str() == Some(id.as_str()));
        if answered {
            let cuts: Vec<&&serde_json::Value> =
                new.iter().filter(|v| v["action"] == "rotate").collect();
            for v in &cuts {
                println!(
                    "rotate {} -> {} ({}: {})",
                    v["resource"]["path"].as_str().unwrap_or("?"),
                    v["new"].as_str().unwrap_or("?"),
                    v["strategy"].as_str().unwrap_or("?"),
                    v["reason"].as_str().unwrap_or("")
                );
            }
            if cuts.is_empty() {
                println!("nothing to cut (no matching non-empty file)");
            }
            return ExitCode::SUCCESS;
        }
        if std::time::Instant::now() >= deadline {
            eprintln!(
                "logwarden: the daemon (pid {pid}) did not answer within {}; it may still cut (see logwarden journal --action rotate)",
                humantime::format_duration(timeout)
            );
            return ExitCode::from(1);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The records of the two newest journal files (the live one and the one
/// it may just have been archived to), oldest first.
fn recent_records(state_dir: &Path) -> Vec<serde_json::Value> {
    let files = crate::journal::files(state_dir);
    let mut out = Vec::new();
    for path in &files[files.len().saturating_sub(2)..] {
        if let Ok(bytes) = crate::journal::read(path) {
            out.extend(
                bytes
                    .split(|b| *b == b'\n')
                    .filter_map(|l| serde_json::from_slice(l).ok()),
            );
        }
    }
    out
}
