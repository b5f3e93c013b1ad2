//! `logwarden config history` and `config show`: the config versions the
//! journal's `startup` and `config.reload` records name, and their exact
//! text as kept under `state_dir/config/`.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::ConfigCommand;
use crate::config::version::{self, FileRef};
use crate::config::Config;
use crate::sys::clock::Clock;

/// A config version as one journal record names it.
struct Seen {
    ts: String,
    status: String,
    version: String,
    actor: String,
    changes: Vec<String>,
    files: Vec<FileRef>,
}

fn seen(cfg: &Config) -> Result<Vec<Seen>, String> {
    let mut out = Vec::new();
    for path in crate::journal::files(&cfg.state_dir) {
        let bytes = match crate::journal::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let Some(version) = v.get("config_version").and_then(|x| x.as_str()) else {
                continue;
            };
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            out.push(Seen {
                ts: s("ts"),
                status: s("status"),
                version: version.to_string(),
                actor: s("actor"),
                changes: v
                    .get("changes")
                    .and_then(|c| serde_json::from_value(c.clone()).ok())
                    .unwrap_or_default(),
                files: v
                    .get("config")
                    .and_then(|c| serde_json::from_value(c.clone()).ok())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

fn at(t: &str, clock: &Clock) -> Result<DateTime<Utc>, String> {
    crate::journal::parse_time(t, clock.now())
}

fn ts_of(s: &Seen) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&s.ts)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(super) fn run(cfg: &Config, clock: &Clock, cmd: ConfigCommand) -> ExitCode {
    let result = seen(cfg).and_then(|all| match cmd {
        ConfigCommand::History { since } => {
            history(&all, since.map(|t| at(&t, clock)).transpose()?)
        }
        ConfigCommand::Show { hash, at: when } => {
            let pick = match (hash, when) {
                (Some(h), _) => by_hash(&all, &h)?,
                (None, Some(t)) => in_force(&all, at(&t, clock)?)?,
                (None, None) => return Err("name a version (HASH) or --at T".into()),
            };
            show(cfg, pick)
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logwarden config: {e}");
            ExitCode::from(1)
        }
    }
}

fn history(all: &[Seen], since: Option<DateTime<Utc>>) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let _ = writeln!(
        w,
        "{:<20} {:<12} {:<8} {:<50} CHANGES",
        "TIME (UTC)", "VERSION", "STATUS", "ACTOR"
    );
    for s in all {
        if since.is_some_and(|t| ts_of(s).is_some_and(|x| x < t)) {
            continue;
        }
        let status = if s.status == "ok" {
            "in force"
        } else {
            "refused"
        };
        let _ = writeln!(
            w,
            "{:<20} {:<12} {:<8} {:<50} {}",
            s.ts.get(..19).unwrap_or(&s.ts).replace('T', " "),
            s.version.get(..12).unwrap_or(&s.version),
            status,
            s.actor,
            if s.changes.is_empty() {
                "-".to_string()
            } else {
                s.changes.join("; ")
            }
        );
    }
    w.flush().map_err(|e| e.to_string())
}

fn by_hash<'a>(all: &'a [Seen], prefix: &str) -> Result<&'a Seen, String> {
    let mut hits: Vec<&Seen> = all
        .iter()
        .filter(|s| s.version.starts_with(prefix))
        .collect();
    hits.dedup_by(|a, b| a.version == b.version);
    let distinct: std::collections::BTreeSet<&str> =
        hits.iter().map(|s| s.version.as_str()).collect();
    match (hits.last(), distinct.len()) {
        (Some(s), 1) if !prefix.is_empty() => Ok(s),
        (_, 0) | (None, _) => Err(format!(
            "no config version {prefix:?} in the journal (see `logwarden config history`)"
        )),
        _ => Err(format!(
            "{prefix:?} names {} versions; give more of the hash",
            distinct.len()
        )),
    }
}

/// The version in force at `t`: the last one a start or an accepted reload
/// took at or before it.
fn in_force(all: &[Seen], t: DateTime<Utc>) -> Result<&Seen, String> {
    all.iter()
        .rfind(|s| s.status == "ok" && ts_of(s).is_some_and(|x| x <= t))
        .ok_or_else(|| format!("no config version was in force at {t}"))
}

fn show(cfg: &Config, s: &Seen) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let several = s.files.len() > 1;
    for f in &s.files {
        let text = version::text_of(&cfg.state_dir, &f.sha256)
            .map_err(|e| format!("the text of {} ({}) is not kept: {e}", f.path, f.sha256))?;
        if several {
            let _ = writeln!(w, "# ==> {} (sha256 {}) <==", f.path, f.sha256);
        }
        w.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(())
}
