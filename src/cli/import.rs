//! `logwarden import-logrotate`: logrotate's config as drop-ins (see
//! [`crate::logrotate::convert`]), written atomically, and with `--state`
//! each imported file's last rotation seeded as its last cut.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};

use crate::config::Config;
use crate::logrotate::convert::{self, DropIn};
use crate::state::{self, FileState, State, StateLock};

/// `import-logrotate` as parsed: here `-c/--config` (the global flag)
/// names logrotate's config, default /etc/logrotate.conf, and logwarden's
/// is `--logwarden-config`.
pub(super) fn from_cli(cli: &super::Cli, matches: &clap::ArgMatches) -> ExitCode {
    let super::Command::ImportLogrotate {
        out,
        state,
        logwarden_config,
        dry_run,
    } = &cli.command
    else {
        return ExitCode::from(2);
    };
    let given = matches
        .subcommand()
        .and_then(|(_, m)| m.value_source("config"))
        .or_else(|| matches.value_source("config"))
        == Some(clap::parser::ValueSource::CommandLine);
    let conf = if given {
        cli.config.clone()
    } else {
        crate::logrotate::DEFAULT_CONF.into()
    };
    run(&conf, out, state.as_deref(), logwarden_config, *dry_run)
}

fn run(
    conf: &Path,
    out: &Path,
    status: Option<&Path>,
    logwarden_config: &Path,
    dry_run: bool,
) -> ExitCode {
    let parsed = match crate::logrotate::parse::read(conf) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logwarden import-logrotate: {e}");
            return ExitCode::from(1);
        }
    };
    let imp = convert::convert(&parsed);
    let mut failed = false;
    for d in &imp.dropins {
        let path = out.join(&d.name);
        if dry_run {
            println!("==> {} <==\n{}", path.display(), d.text);
            continue;
        }
        match write(out, d) {
            Ok(()) => println!("wrote {} ({} source(s))", path.display(), d.sources.len()),
            Err(e) => {
                eprintln!(
                    "logwarden import-logrotate: cannot write {}: {e}",
                    path.display()
                );
                failed = true;
            }
        }
    }
    if let Some(status) = status {
        match seed(status, &imp.dropins, logwarden_config, dry_run) {
            Ok(n) => println!(
                "{} {n} file(s)' last rotation from {} as their last cut",
                if dry_run { "would seed" } else { "seeded" },
                status.display()
            ),
            Err(e) => {
                eprintln!("logwarden import-logrotate: --state: {e}");
                failed = true;
            }
        }
    }
    if !imp.unfaithful.is_empty() {
        eprintln!(
            "logwarden import-logrotate: {} item(s) not imported faithfully:",
            imp.unfaithful.len()
        );
        for n in &imp.unfaithful {
            eprintln!("  {n}");
        }
        failed = true;
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write(out: &Path, d: &DropIn) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    state::write_atomic(out, &format!(".{}.tmp", d.name), &d.name, d.text.as_bytes())?;
    // Drop-ins are read by the daemon and by `check`: readable, not secret.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(out.join(&d.name), std::fs::Permissions::from_mode(0o644))
}

/// logrotate's status file: path -> last rotation (local time).
fn read_status(path: &Path) -> Result<Vec<(PathBuf, DateTime<Utc>)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text
        .lines()
        .skip_while(|l| l.starts_with("logrotate state"))
    {
        let Some(words) = shlex::split(line) else {
            continue;
        };
        let [file, when] = words.as_slice() else {
            continue;
        };
        if let Some(t) = status_time(when) {
            out.push((PathBuf::from(file), t));
        }
    }
    Ok(out)
}

/// `2026-12-7-0:0:0` (logrotate writes no padding), local time.
fn status_time(s: &str) -> Option<DateTime<Utc>> {
    let n: Vec<u32> = s
        .split(['-', ':'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [y, mo, d, h, mi, sec] = n.as_slice() else {
        return None;
    };
    let naive =
        NaiveDate::from_ymd_opt(i32::try_from(*y).ok()?, *mo, *d)?.and_hms_opt(*h, *mi, *sec)?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Seeds logwarden's state with the last rotation of every imported file
/// logrotate's status names, where logwarden has no entry yet. Returns how
/// many.
fn seed(status: &Path, dropins: &[DropIn], cfg: &Path, dry_run: bool) -> Result<usize, String> {
    let entries = read_status(status)?;
    let cfg = Config::load(cfg).map_err(|p| format!("logwarden's config: {p}"))?;
    let mut seeds = Vec::new();
    for d in dropins {
        for (name, dir, include) in &d.sources {
            for (file, when) in &entries {
                let (Some(parent), Some(fname)) =
                    (file.parent(), file.file_name().and_then(|n| n.to_str()))
                else {
                    continue;
                };
                let hit = parent == dir
                    && include.iter().any(|g| {
                        globset::Glob::new(g).is_ok_and(|g| g.compile_matcher().is_match(fname))
                    });
                if hit && file.exists() {
                    seeds.push((state::key(name, fname), *when));
                }
            }
        }
    }
    if dry_run {
        return Ok(seeds.len());
    }
    state::ensure_dir(&cfg.state_dir).map_err(|e| e.to_string())?;
    let _lock = StateLock::acquire_one_shot(&cfg.state_dir).map_err(|e| e.to_string())?;
    let (mut st, _) = State::load(&cfg.state_dir);
    let mut n = 0;
    for (key, when) in seeds {
        st.files.entry(key).or_insert_with(|| {
            n += 1;
            FileState {
                anchor: when,
                last_cut: Some(when),
                last_strategy: None,
                last_reason: Some("seeded from logrotate's status file".into()),
            }
        });
    }
    st.save(&cfg.state_dir).map_err(|e| e.to_string())?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_times() {
        assert!(status_time("2026-12-7-0:0:0").is_some());
        assert!(status_time("2026-12-07-13:05:59").is_some());
        assert!(status_time("2026-13-07-0:0:0").is_none());
        assert!(status_time("garbage").is_none());
    }
}
