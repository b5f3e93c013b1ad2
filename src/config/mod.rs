//! The configuration: one TOML file plus drop-ins, read in two stages.
//!
//! Stage one (`raw`) parses and shape-checks the TOML, keeping spans. Stage two
//! (this module) interprets every value (durations, sizes, schedules, time
//! zones, globs, users) and layers `[defaults]` under each `[[source]]`.
//! Every problem becomes a [`Problem`] naming file, line and column, with a hint
//! when there is an obvious fix; all problems are collected, not just the first.
//!
//! Loading reads the config files and nothing else: whether a source directory
//! exists or is safe is decided later, by `discover`, so `check` can run on a
//! machine that does not have the directories yet.

pub mod raw;
mod resolve;
pub mod units;
pub mod version;

use resolve::Cx;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use globset::{Glob, GlobSet, GlobSetBuilder};
use toml::Spanned;

use crate::policy::schedule::{parse_weekday, Schedule, Zone};
use raw::{RawDropIn, RawMain, RawPolicy, RawSource, RawWeekday, S};

/// Where `-c` points when it is not given.
pub const DEFAULT_PATH: &str = "/etc/logwarden/logwarden.toml";

/// Keys whose values are masked when `[redact] keys` is not given.
pub use crate::redact::DEFAULT_KEYS as DEFAULT_REDACT_KEYS;
/// `[redact]`, resolved: the redactor's own settings type.
pub use crate::redact::{Mask, Redact};

/// One thing wrong with the config, located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found while loading; displays one per line.
#[derive(Debug, Clone)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// What happens to a source's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tail into a redacted mirror; the raw file is only rotated to bound it.
    Mirror,
    /// logrotate-style: rotate, compress and retain the raw file, no tailing.
    Rotate,
}

/// How a file is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyCfg {
    Auto,
    Rename,
    CopyTruncate,
}

/// How a writer is told to reopen its log after a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reopen {
    /// Send `signal` to the pid read from `pidfile`.
    Signal {
        signal: i32,
        name: String,
        pidfile: PathBuf,
    },
    /// Run a command (argv, no shell).
    Command(Vec<String>),
}

/// The user and group to act as in an otherwise unsafe directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Su {
    pub user: String,
    pub group: String,
    pub uid: u32,
    pub gid: u32,
}

/// The rotation policy of one source, after layering `[defaults]`.
#[derive(Debug, Clone)]
pub struct Policy {
    pub schedule: Schedule,
    pub zone: Zone,
    pub max_size: Option<u64>,
    /// A scheduled cut waits (stays pending) until the file holds this much.
    pub min_size: Option<u64>,
    pub strategy: StrategyCfg,
    pub compress: bool,
    pub delay_compress: bool,
    pub max_age: Option<Duration>,
    pub max_archives: Option<usize>,
    pub max_total_size: Option<u64>,
    /// After a rename, re-create the file (`None`: do not).
    pub create: Option<Create>,
    /// How long a renamed file is left uncompressed while a writer still holds it.
    pub writer_grace: Duration,
    /// Mirror mode: how long a cut mirror stays uncompressed for the
    /// shipper to finish it (`None`: one period of the schedule).
    pub ship_grace: Option<Duration>,
    pub mode: Mode,
    pub su: Option<Su>,
}

/// How a file renamed away is re-created (`create = true`): with the old
/// file's mode and owner, or those given (`create_mode`, `create_owner`,
/// `create_group`, as logrotate's `create mode owner group`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Create {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Where logrotate's main config usually is (`logrotate_config`).
pub const DEFAULT_LOGROTATE: &str = "/etc/logrotate.conf";

/// One `[[source]]`, resolved.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub dir: PathBuf,
    pub include: GlobSet,
    pub include_text: Vec<String>,
    pub exclude: GlobSet,
    pub output_dir: Option<PathBuf>,
    /// The file and position (line, column) of `output_dir`, for problems
    /// found across sources.
    pub file: PathBuf,
    pub output_dir_at: (usize, usize),
    pub raw_max_age: Option<Duration>,
    /// How long a last line without its newline is held before it is
    /// mirrored with a marker.
    pub partial_timeout: Duration,
    /// Who owns the mirror files created (`output_owner = { user, group }`);
    /// by default the daemon's user.
    pub output_owner: Option<Su>,
    pub reopen: Option<Reopen>,
    pub policy: Policy,
}

impl Policy {
    /// How long a cut mirror stays uncompressed for the shipper at `now`:
    /// `ship_grace`, or one period of the schedule (the one containing `now`).
    pub fn effective_ship_grace(&self, now: chrono::DateTime<chrono::Utc>) -> Duration {
        self.ship_grace.unwrap_or_else(|| {
            if self.schedule == Schedule::Unscheduled {
                return Duration::from_secs(86_400);
            }
            let start = self.schedule.period_start(self.zone, now);
            (self.schedule.next_cut(self.zone, now) - start)
                .to_std()
                .unwrap_or_default()
        })
    }
}

impl Source {
    /// Whether a directory entry's name is one of this source's live files.
    /// Archive names and logwarden's temporary files never are, whatever the glob.
    pub fn matches(&self, file_name: &str) -> bool {
        !file_name.starts_with('.')
            && crate::policy::archive::parse_any(file_name).is_none()
            && !crate::policy::archive::is_logrotate_archive(file_name)
            && self.include.is_match(file_name)
            && !self.exclude.is_match(file_name)
    }
}

/// A mirror must not land in a watched directory (it would be tailed into
/// itself) nor share its directory with another source's mirrors.
fn mirror_dirs_are_distinct(sources: &[Source], state_dir: &Path, problems: &mut Vec<Problem>) {
    let out = |s: &Source| {
        s.output_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("mirror").join(&s.name))
    };
    let mirrors: Vec<&Source> = sources
        .iter()
        .filter(|s| s.policy.mode == Mode::Mirror)
        .collect();
    for (i, s) in mirrors.iter().enumerate() {
        let o = out(s);
        let mut push = |message: String, hint: &str| {
            problems.push(Problem {
                file: s.file.clone(),
                line: s.output_dir_at.0,
                col: s.output_dir_at.1,
                message,
                hint: Some(hint.into()),
            })
        };
        if let Some(w) = sources.iter().find(|w| w.dir == o) {
            push(
                format!(
                    "source {:?}: output_dir {} is the watched directory of source {:?}; the mirror would be tailed into itself",
                    s.name,
                    o.display(),
                    w.name
                ),
                "put mirrors in their own directory, e.g. /var/log/logwarden/<source>",
            );
        }
        if let Some(o2) = mirrors[..i].iter().find(|m| out(m) == o) {
            push(
                format!(
                    "source {:?}: output_dir {} is also the output_dir of source {:?}",
                    s.name,
                    o.display(),
                    o2.name
                ),
                "give every mirror-mode source its own output_dir",
            );
        }
    }
}

/// The whole resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The main file, as given.
    pub path: PathBuf,
    /// The main file and every drop-in that was read, for reload-on-save.
    pub files: Vec<PathBuf>,
    /// Their exact text as read (audit: [`version`]).
    pub texts: Vec<(PathBuf, String)>,
    /// The directories whose changes may add or change a drop-in.
    pub watch_dirs: Vec<PathBuf>,
    pub state_dir: PathBuf,
    pub log_level: Option<String>,
    pub rescan_interval: Duration,
    /// This host's name in journal records (`host`; the host name).
    pub host: String,
    /// logrotate's config, checked at start and on reload for files both
    /// would rotate (`None`: `logrotate_config = "none"`).
    pub logrotate_config: Option<PathBuf>,
    /// The live journal file is archived (chained on) past this size.
    pub journal_max_size: u64,
    /// Archived journal files older than this are deleted (oldest first,
    /// each deletion journaled); unset keeps them all.
    pub journal_max_age: Option<Duration>,
    /// A new checkpoint signing key every UTC day (forward security).
    pub forward_secure: bool,
    pub redact: Redact,
    pub metrics: MetricsOut,
    pub sources: Vec<Source>,
}

/// `[metrics]`: where the Prometheus exposition goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsOut {
    /// A node_exporter textfile-collector file, rewritten atomically.
    pub textfile: Option<PathBuf>,
    /// Serve `/metrics` and `/healthz` here (a bare port means loopback).
    pub listen: Option<std::net::SocketAddr>,
}

impl Config {
    /// Read and resolve the config at `path` and its drop-ins.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        let mut cx = Cx::default();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Problems(vec![Problem {
                file: path.to_path_buf(),
                line: 1,
                col: 1,
                message: format!("cannot read config: {e}"),
                hint: Some("pass the config file with -c FILE".into()),
            }])
        })?;
        let base = config_base(path);
        let Some(main) = cx.parse::<RawMain>(path, &text) else {
            return Err(Problems(cx.problems));
        };
        let mut found = Found {
            files: vec![path.to_path_buf()],
            texts: vec![(path.to_path_buf(), text.clone())],
            watch_dirs: vec![base.clone()],
            sources: Vec::new(),
        };
        for s in main.source {
            found.sources.push((path.to_path_buf(), text.clone(), s));
        }
        for pattern in main.include.iter().flatten() {
            include(&mut cx, path, &text, &base, pattern, &mut found);
        }
        let state_dir = cx
            .opt(path, &text, &main.state_dir, |s| Ok(absolute(&base, s)))
            .unwrap_or_else(|| PathBuf::from("/var/lib/logwarden"));
        let log_level = cx.opt(path, &text, &main.log_level, |s| log_level(s));
        let rescan_interval = cx
            .opt(path, &text, &main.rescan_interval, |s| {
                positive(units::duration(s)?)
            })
            .unwrap_or(Duration::from_secs(60));
        let logrotate_config = cx
            .opt(path, &text, &main.logrotate_config, |s| {
                Ok((s != "none").then(|| absolute(&base, s)))
            })
            .unwrap_or_else(|| Some(PathBuf::from(DEFAULT_LOGROTATE)));
        let host = cx
            .opt(path, &text, &main.host, |s| {
                if s.is_empty() || s.chars().any(|c| c.is_control()) {
                    Err("host must be a non-empty name without control characters".to_string())
                } else {
                    Ok(s.clone())
                }
            })
            .unwrap_or_else(crate::sys::ids::host_name);
        let journal_max_size = cx
            .opt(path, &text, &main.journal_max_size, |s| journal_max_size(s))
            .unwrap_or(64 << 20);
        let journal_max_age = cx.opt(path, &text, &main.journal_max_age, |s| journal_max_age(s));
        let redact = cx.redact(path, &text, main.redact.unwrap_or_default());
        let metrics = cx.metrics(path, &text, &base, main.metrics.unwrap_or_default());
        let defaults = main.defaults.unwrap_or_default();
        // Validate [defaults] on their own, in the main file, so a bad default is
        // reported once, at its own position, even if no source uses it.
        let before = cx.problems.len();
        cx.policy(path, &text, defaults.overlay(RawPolicy::default()));
        if cx.problems.len() != before {
            return Err(Problems(cx.problems));
        }
        let sources = resolve_sources(&mut cx, &base, &defaults, found.sources);
        mirror_dirs_are_distinct(&sources, &state_dir, &mut cx.problems);
        if !cx.problems.is_empty() {
            return Err(Problems(cx.problems));
        }
        Ok(Config {
            path: path.to_path_buf(),
            files: found.files,
            texts: found.texts,
            watch_dirs: found.watch_dirs,
            state_dir,
            log_level,
            rescan_interval,
            logrotate_config,
            host,
            journal_max_size,
            journal_max_age,
            forward_secure: main.forward_secure.map(|b| *b.get_ref()).unwrap_or(false),
            redact,
            metrics,
            sources,
        })
    }

    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// Whether any source is tailed into a mirror (so a pipeline is wanted).
    pub fn has_mirror_sources(&self) -> bool {
        self.sources.iter().any(|s| s.policy.mode == Mode::Mirror)
    }
}

/// What the main file and its drop-ins contribute: the files read, the
/// directories to watch for edits, and each `[[source]]` with its file and
/// that file's text (for positions).
struct Found {
    files: Vec<PathBuf>,
    /// The exact text of every file read, in reading order.
    texts: Vec<(PathBuf, String)>,
    watch_dirs: Vec<PathBuf>,
    sources: Vec<(PathBuf, String, RawSource)>,
}

/// The directory relative paths in `path` are relative to, made absolute
/// once so the daemon does not depend on its working directory.
fn config_base(path: &Path) -> PathBuf {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &base
    })
    .unwrap_or(base)
}

/// One `include` glob of the main file: its drop-ins read and parsed.
fn include(
    cx: &mut Cx,
    path: &Path,
    text: &str,
    base: &Path,
    pattern: &Spanned<String>,
    found: &mut Found,
) {
    let at = cx.at(path, text, pattern);
    let (dir, matched) = match expand_include(base, pattern.get_ref()) {
        Ok(m) => m,
        Err(message) => {
            cx.push(
                at,
                message,
                Some("write a glob such as \"conf.d/*.toml\"".into()),
            );
            return;
        }
    };
    if !found.watch_dirs.contains(&dir) {
        found.watch_dirs.push(dir);
    }
    for file in matched {
        let dtext = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                cx.push(
                    at.clone(),
                    format!("cannot read drop-in {}: {e}", file.display()),
                    None,
                );
                continue;
            }
        };
        if let Some(d) = cx.parse::<RawDropIn>(&file, &dtext) {
            for s in d.source {
                found.sources.push((file.clone(), dtext.clone(), s));
            }
        }
        found.texts.push((file.clone(), dtext));
        found.files.push(file);
    }
}

/// Every `[[source]]`, resolved against `[defaults]`; names must be unique.
fn resolve_sources(
    cx: &mut Cx,
    base: &Path,
    defaults: &RawPolicy,
    sources: Vec<(PathBuf, String, RawSource)>,
) -> Vec<Source> {
    let mut names = BTreeSet::new();
    let mut resolved = Vec::new();
    for (file, ftext, s) in sources {
        // Paths resolve against the file's directory, made absolute
        // (inotify reports absolute paths; `-c c.toml` has parent "").
        let base = match file.parent() {
            Some(d) if d.is_absolute() => d.to_path_buf(),
            Some(d) if !d.as_os_str().is_empty() => {
                std::fs::canonicalize(d).unwrap_or_else(|_| base.join(d))
            }
            _ => base.to_path_buf(),
        };
        if let Some(src) = cx.source(&file, &ftext, &base, defaults, s) {
            if !names.insert(src.name.clone()) {
                cx.problems.push(Problem {
                    file: file.clone(),
                    line: 1,
                    col: 1,
                    message: format!("source name {:?} is used twice", src.name),
                    hint: Some("give every [[source]] a unique name".into()),
                });
            }
            resolved.push(src);
        }
    }
    resolved
}

/// `log_level`: each part must be a level or `target=level`. (A bare word
/// is a target name to EnvFilter, so `loud` would mean "everything from a
/// module named loud" and a misspelt level would silently log nothing.)
fn log_level(s: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    if let Some(part) = s
        .split(',')
        .map(str::trim)
        .find(|p| !p.contains('=') && !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(p)))
    {
        return Err(format!(
            "invalid log_level {s:?}: {part:?} is not a level; use error, warn, info, debug or trace (or target=level directives)"
        ));
    }
    tracing_subscriber::EnvFilter::try_new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("invalid log_level {s:?}: {e}; use error, warn, info, debug or trace"))
}

fn journal_max_size(s: &str) -> Result<u64, String> {
    let n = units::size(s)?;
    if n < 4096 {
        return Err("journal_max_size must be at least 4KiB".into());
    }
    Ok(n)
}

fn journal_max_age(s: &str) -> Result<Duration, String> {
    let d = positive(units::duration(s)?)?;
    if d < Duration::from_secs(86400) {
        return Err(
            "journal_max_age must be at least 1d: the journal outlives what it vouches for".into(),
        );
    }
    Ok(d)
}

fn positive(d: Duration) -> Result<Duration, String> {
    if d.is_zero() {
        Err("must be longer than zero".into())
    } else {
        Ok(d)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `p` made absolute against `base`, with `.` and `..` folded lexically
/// (symlinks in the configured path are the admin's choice and kept).
fn absolute(base: &Path, p: &str) -> PathBuf {
    use std::path::Component;
    let joined = base.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory of an include glob and the files it matches now, sorted.
/// A directory that does not exist matches nothing (drop-in dirs are optional).
fn expand_include(base: &Path, pattern: &str) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let full = absolute(base, pattern);
    let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = full
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return Err(format!(
            "include {pattern:?}: only the file name may hold a glob"
        ));
    }
    let glob = Glob::new(name)
        .map_err(|e| format!("include {pattern:?}: {}", e.kind()))?
        .compile_matcher();
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let n = entry.file_name();
            if glob.is_match(&n) && entry.file_type().is_ok_and(|t| t.is_file()) {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok((dir, out))
}

fn reopen(base: &Path, r: &raw::RawReopen) -> Result<Reopen, String> {
    match (&r.signal, &r.pidfile, &r.command) {
        (Some(sig), Some(pidfile), None) => {
            let name = sig.trim_start_matches("SIG").to_ascii_uppercase();
            let signal = match name.as_str() {
                "HUP" => libc::SIGHUP,
                "USR1" => libc::SIGUSR1,
                "USR2" => libc::SIGUSR2,
                "INT" => libc::SIGINT,
                "TERM" => libc::SIGTERM,
                "CONT" => libc::SIGCONT,
                _ => {
                    return Err(format!(
                        "unsupported reopen signal {sig:?}; use HUP, USR1 or USR2"
                    ))
                }
            };
            Ok(Reopen::Signal {
                signal,
                name,
                pidfile: absolute(base, pidfile),
            })
        }
        (None, None, Some(cmd)) if !cmd.is_empty() => Ok(Reopen::Command(cmd.clone())),
        (None, None, Some(_)) => Err("reopen command is empty".into()),
        _ => Err("reopen needs either signal and pidfile, or command".into()),
    }
}

fn resolve_su(s: &raw::RawSu) -> Result<Su, String> {
    let uid =
        crate::sys::ids::uid_of(&s.user).ok_or_else(|| format!("unknown user {:?}", s.user))?;
    let gid =
        crate::sys::ids::gid_of(&s.group).ok_or_else(|| format!("unknown group {:?}", s.group))?;
    Ok(Su {
        user: s.user.clone(),
        group: s.group.clone(),
        uid,
        gid,
    })
}

#[cfg(test)]
mod tests;
