//! `logwarden witness`: the central side's check of shipped journals
//! ([`crate::journal::witness`]), with its state kept in a file between
//! runs (written atomically). Needs no config.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::journal::witness::{State, Witness};
use crate::sys::clock::Clock;

/// What `witness` was asked for.
pub(super) struct Ask<'a> {
    pub state: &'a Path,
    pub keys: &'a [String],
    pub max_silence: std::time::Duration,
    pub json: bool,
    pub inputs: &'a [PathBuf],
}

pub(super) fn run(ask: &Ask<'_>) -> ExitCode {
    match run_inner(ask) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("logwarden witness: {e}");
            ExitCode::from(2)
        }
    }
}

fn keys(given: &[String]) -> Result<BTreeMap<String, String>, String> {
    given
        .iter()
        .map(|kv| {
            let (host, key) = kv
                .split_once('=')
                .ok_or_else(|| format!("--public-key takes HOST=KEY, got {kv:?}"))?;
            let vk = crate::journal::sign::parse_public(key)?;
            Ok((host.to_string(), crate::sys::digest::hex(vk.as_bytes())))
        })
        .collect()
}

fn run_inner(ask: &Ask<'_>) -> Result<usize, String> {
    let clock = Clock::from_env()?;
    let state: State = match std::fs::read(ask.state) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", ask.state.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
        Err(e) => return Err(format!("{}: {e}", ask.state.display())),
    };
    let mut w = Witness::new(state, &keys(ask.keys)?);
    let stdin = [PathBuf::from("-")];
    let inputs = if ask.inputs.is_empty() {
        &stdin[..]
    } else {
        ask.inputs
    };
    for input in inputs {
        let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let f = std::fs::File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
            Box::new(std::io::BufReader::new(f))
        };
        for line in reader.split(b'\n') {
            let line = line.map_err(|e| format!("{}: {e}", input.display()))?;
            w.feed(&line);
        }
    }
    let max = chrono::Duration::from_std(ask.max_silence).map_err(|e| e.to_string())?;
    w.silence(clock.now(), max);
    let dir = ask
        .state
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = ask
        .state
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("--state must name a file")?;
    let json = serde_json::to_vec_pretty(&w.state).map_err(|e| e.to_string())?;
    crate::state::write_atomic(dir, &format!(".{name}.tmp"), name, &json)
        .map_err(|e| format!("{}: {e}", ask.state.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for f in &w.findings {
        let _ = if ask.json {
            writeln!(out, "{}", serde_json::to_string(f).unwrap_or_default())
        } else {
            writeln!(out, "{f}")
        };
    }
    if w.findings.is_empty() && !ask.json {
        let _ = writeln!(
            out,
            "ok: {} record(s), {} host(s): {}",
            w.lines,
            w.state.hosts.len(),
            w.state
                .hosts
                .iter()
                .map(|(h, s)| format!("{h} at tip _seq {}", s.tip_seq))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(w.findings.len())
}
