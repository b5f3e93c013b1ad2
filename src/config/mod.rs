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
pub mod units;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use globset::{Glob, GlobSet, GlobSetBuilder};
use toml::Spanned;

use crate::schedule::{Schedule, Zone};
use raw::{RawDropIn, RawMain, RawPolicy, RawSource, S};

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
    pub strategy: StrategyCfg,
    pub compress: bool,
    pub delay_compress: bool,
    pub max_age: Option<Duration>,
    pub max_archives: Option<usize>,
    pub max_total_size: Option<u64>,
    pub create: bool,
    /// How long a renamed file is left uncompressed while a writer still holds it.
    pub writer_grace: Duration,
    /// Mirror mode: how long a cut mirror stays uncompressed for the
    /// shipper to finish it (`None`: one period of the schedule).
    pub ship_grace: Option<Duration>,
    pub mode: Mode,
    pub su: Option<Su>,
}

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

impl Source {
    /// Whether a directory entry's name is one of this source's live files.
    /// Archive names and logwarden's temporary files never are, whatever the glob.
    pub fn matches(&self, file_name: &str) -> bool {
        !file_name.starts_with('.')
            && crate::archive::parse_any(file_name).is_none()
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
    /// The directories whose changes may add or change a drop-in.
    pub watch_dirs: Vec<PathBuf>,
    pub state_dir: PathBuf,
    pub log_level: Option<String>,
    pub rescan_interval: Duration,
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
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return Err(Problems(vec![Problem {
                    file: path.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: format!("cannot read config: {e}"),
                    hint: Some("pass the config file with -c FILE".into()),
                }]))
            }
        };
        // Relative paths are relative to the config file's directory, made
        // absolute once so the daemon does not depend on its working directory.
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::fs::canonicalize(if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &base
        })
        .unwrap_or(base);
        let main: Option<RawMain> = cx.parse(path, &text);
        let Some(main) = main else {
            return Err(Problems(cx.problems));
        };
        let mut files = vec![path.to_path_buf()];
        let mut watch_dirs = vec![base.clone()];
        let mut sources: Vec<(PathBuf, String, RawSource)> = Vec::new();
        for s in main.source {
            sources.push((path.to_path_buf(), text.clone(), s));
        }
        for pattern in main.include.iter().flatten() {
            let at = cx.at(path, &text, pattern);
            let (dir, matched) = match expand_include(&base, pattern.get_ref()) {
                Ok(found) => found,
                Err(message) => {
                    cx.push(
                        at,
                        message,
                        Some("write a glob such as \"conf.d/*.toml\"".into()),
                    );
                    continue;
                }
            };
            if !watch_dirs.contains(&dir) {
                watch_dirs.push(dir);
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
                        sources.push((file.clone(), dtext.clone(), s));
                    }
                }
                files.push(file);
            }
        }

        let state_dir = cx
            .opt(path, &text, &main.state_dir, |s| Ok(absolute(&base, s)))
            .unwrap_or_else(|| PathBuf::from("/var/lib/logwarden"));
        let log_level = cx.opt(path, &text, &main.log_level, |s| {
            // A bare word is a target name to EnvFilter ("loud" would mean
            // "everything from a module named loud"), so a misspelt level
            // would silently log nothing: each part must be a level or
            // `target=level`.
            const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
            if let Some(part) = s.split(',').map(str::trim).find(|p| {
                !p.contains('=') && !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(p))
            }) {
                return Err(format!(
                    "invalid log_level {s:?}: {part:?} is not a level; use error, warn, info, debug or trace (or target=level directives)"
                ));
            }
            tracing_subscriber::EnvFilter::try_new(s)
                .map(|_| s.to_string())
                .map_err(|e| {
                    format!("invalid log_level {s:?}: {e}; use error, warn, info, debug or trace")
                })
        });
        let rescan_interval = cx
            .opt(path, &text, &main.rescan_interval, |s| {
                positive(units::duration(s)?)
            })
            .unwrap_or(Duration::from_secs(60));
        let journal_max_size = cx
            .opt(path, &text, &main.journal_max_size, |s| {
                let n = units::size(s)?;
                if n < 4096 {
                    return Err("journal_max_size must be at least 4KiB".into());
                }
                Ok(n)
            })
            .unwrap_or(64 << 20);
        let journal_max_age = cx.opt(path, &text, &main.journal_max_age, |s| {
            let d = positive(units::duration(s)?)?;
            if d < Duration::from_secs(86400) {
                return Err(
                    "journal_max_age must be at least 1d: the journal outlives what it vouches for"
                        .into(),
                );
            }
            Ok(d)
        });
        let redact = cx.redact(path, &text, main.redact.unwrap_or_default());
        let raw_metrics = main.metrics.unwrap_or_default();
        let metrics = MetricsOut {
            textfile: cx.opt(path, &text, &raw_metrics.textfile, |s| {
                let p = absolute(&base, s);
                if p.extension().is_none_or(|e| e != "prom") {
                    return Err(format!("metrics.textfile {s:?} must end in .prom: node_exporter's textfile collector reads only *.prom files"));
                }
                Ok(p)
            }),
            listen: cx.opt(path, &text, &raw_metrics.listen, |s| {
                if let Ok(port) = s.parse::<u16>() {
                    return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
                }
                s.parse::<std::net::SocketAddr>().map_err(|_| {
                    format!("metrics.listen {s:?} is not an address; use a port (\"9464\", loopback) or \"IP:PORT\"")
                })
            }),
        };
        let defaults = main.defaults.unwrap_or_default();
        // Validate [defaults] on their own, in the main file, so a bad default is
        // reported once, at its own position, even if no source uses it.
        let defaults_ok = {
            let before = cx.problems.len();
            cx.policy(path, &text, defaults.overlay(RawPolicy::default()));
            cx.problems.len() == before
        };
        if !defaults_ok {
            return Err(Problems(cx.problems));
        }
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
                _ => base.clone(),
            };
            if let Some(src) = cx.source(&file, &ftext, &base, &defaults, s) {
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
        mirror_dirs_are_distinct(&resolved, &state_dir, &mut cx.problems);
        if !cx.problems.is_empty() {
            return Err(Problems(cx.problems));
        }
        Ok(Config {
            path: path.to_path_buf(),
            files,
            watch_dirs,
            state_dir,
            log_level,
            rescan_interval,
            journal_max_size,
            journal_max_age,
            forward_secure: main.forward_secure.map(|b| *b.get_ref()).unwrap_or(false),
            redact,
            metrics,
            sources: resolved,
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

/// A position in a config file, before the message is known.
#[derive(Debug, Clone)]
struct At {
    file: PathBuf,
    line: usize,
    col: usize,
}

/// Collects problems while resolving.
#[derive(Default)]
struct Cx {
    problems: Vec<Problem>,
}

impl Cx {
    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &Path, text: &str) -> Option<T> {
        match toml::from_str::<T>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
                let message = e.message().trim().to_string();
                let hint = if message.starts_with("unknown field") {
                    Some("check the spelling; the keys are listed in README.md".into())
                } else {
                    None
                };
                self.problems.push(Problem {
                    file: file.to_path_buf(),
                    line,
                    col,
                    message,
                    hint,
                });
                None
            }
        }
    }

    fn at<T>(&self, file: &Path, text: &str, v: &Spanned<T>) -> At {
        let (line, col) = line_col(text, v.span().start);
        At {
            file: file.to_path_buf(),
            line,
            col,
        }
    }

    fn push(&mut self, at: At, message: String, hint: Option<String>) {
        self.problems.push(Problem {
            file: at.file,
            line: at.line,
            col: at.col,
            message,
            hint,
        });
    }

    /// Interpret an optional value; a failure is recorded at the value's position.
    fn opt<T, R>(
        &mut self,
        file: &Path,
        text: &str,
        v: &S<T>,
        f: impl FnOnce(&T) -> Result<R, String>,
    ) -> Option<R> {
        let v = v.as_ref()?;
        match f(v.get_ref()) {
            Ok(r) => Some(r),
            Err(message) => {
                let at = self.at(file, text, v);
                self.push(at, message, None);
                None
            }
        }
    }

    fn redact(&mut self, file: &Path, text: &str, r: raw::RawRedact) -> Redact {
        let keys = match &r.keys {
            Some(keys) => keys.iter().map(|k| k.get_ref().clone()).collect(),
            None => DEFAULT_REDACT_KEYS.iter().map(|s| s.to_string()).collect(),
        };
        let detectors = self
            .opt(file, text, &r.detectors, |d| match d.as_str() {
                "default" => Ok(true),
                "none" => Ok(false),
                other => Err(format!(
                    "unknown detectors {other:?}: use \"default\" (the built-in pack) or \"none\""
                )),
            })
            .unwrap_or(true);
        let known = crate::redact::detect::ids();
        let mut disable = Vec::new();
        for d in r.disable.iter().flatten() {
            if known.contains(&d.get_ref().as_str()) {
                disable.push(d.get_ref().clone());
            } else {
                let at = self.at(file, text, d);
                self.push(
                    at,
                    format!("unknown detector rule {:?}", d.get_ref()),
                    Some(format!("the rules are: {}", known.join(", "))),
                );
            }
        }
        let mut patterns = Vec::new();
        for p in r.patterns.iter().flatten() {
            match regex::bytes::Regex::new(p.get_ref()) {
                Ok(re) => patterns.push(re),
                Err(e) => {
                    let at = self.at(file, text, p);
                    let first = e.to_string().lines().last().unwrap_or_default().to_string();
                    self.push(at, format!("invalid pattern: {first}"), None);
                }
            }
        }
        let mask = self
            .opt(file, text, &r.mask, |m| {
                Ok(if m == "sha256" {
                    Mask::Sha256
                } else {
                    Mask::Text(m.clone())
                })
            })
            .unwrap_or_else(|| Mask::Text("[REDACTED]".into()));
        let max_line_bytes = self
            .opt(file, text, &r.max_line_bytes, |s| {
                let n = units::size(s)?;
                if n < 256 {
                    return Err("max_line_bytes must be at least 256 bytes".into());
                }
                Ok(n)
            })
            .unwrap_or(64 * 1024);
        Redact {
            keys,
            detectors,
            disable,
            patterns,
            mask,
            max_line_bytes,
        }
    }

    fn source(
        &mut self,
        file: &Path,
        text: &str,
        base: &Path,
        defaults: &RawPolicy,
        s: RawSource,
    ) -> Option<Source> {
        let before = self.problems.len();
        let name = match &s.name {
            Some(n) => {
                let ok = !n.get_ref().is_empty()
                    && n.get_ref()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if !ok {
                    let at = self.at(file, text, n);
                    self.push(
                        at,
                        format!("invalid source name {:?}", n.get_ref()),
                        Some("use letters, digits, '-', '_' and '.'".into()),
                    );
                }
                n.get_ref().clone()
            }
            None => {
                self.problems.push(Problem {
                    file: file.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: "a [[source]] has no name".into(),
                    hint: Some("add name = \"…\" to every [[source]]".into()),
                });
                String::new()
            }
        };
        let dir = match &s.dir {
            Some(d) => absolute(base, d.get_ref()),
            None => {
                self.problems.push(Problem {
                    file: file.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: format!("source {name:?} has no dir"),
                    hint: Some("add dir = \"/var/log/app\" (the directory to watch)".into()),
                });
                PathBuf::new()
            }
        };
        let mut include_text = Vec::new();
        let include = match &s.include {
            Some(list) if !list.get_ref().is_empty() => {
                let mut b = GlobSetBuilder::new();
                for g in list.get_ref() {
                    include_text.push(g.get_ref().clone());
                    self.glob(file, text, g, &mut b);
                }
                b.build().ok()
            }
            Some(list) => {
                let at = self.at(file, text, list);
                self.push(
                    at,
                    "include is empty: no file would ever match".into(),
                    Some("e.g. include = [\"*.log\"]".into()),
                );
                None
            }
            None => {
                self.problems.push(Problem {
                    file: file.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: format!("source {name:?} has no include"),
                    hint: Some("add include = [\"*.log\"] (globs over file names in dir)".into()),
                });
                None
            }
        };
        let mut b = GlobSetBuilder::new();
        for g in s.exclude.iter().flatten() {
            self.glob(file, text, g, &mut b);
        }
        let exclude = b.build().ok();
        let output_dir = s.output_dir.as_ref().map(|d| absolute(base, d.get_ref()));
        let output_dir_at = s
            .output_dir
            .as_ref()
            .map(|d| line_col(text, d.span().start))
            .unwrap_or((1, 1));
        let raw_max_age = self.opt(file, text, &s.raw_max_age, |d| units::duration(d));
        let partial_timeout = self
            .opt(file, text, &s.partial_timeout, |d| units::duration(d))
            .unwrap_or(Duration::from_secs(10));
        let output_owner = s
            .output_owner
            .as_ref()
            .and_then(|o| match resolve_su(o.get_ref()) {
                Ok(su) => Some(su),
                Err(message) => {
                    let at = self.at(file, text, o);
                    self.push(
                        at,
                        message,
                        Some(
                            "name an existing user and group, as in /etc/passwd and /etc/group"
                                .into(),
                        ),
                    );
                    None
                }
            });
        let reopen = s.reopen.as_ref().and_then(|r| {
            match reopen(base, r.get_ref()) {
                Ok(v) => Some(v),
                Err(message) => {
                    let at = self.at(file, text, r);
                    self.push(at, message, Some("write reopen = { signal = \"HUP\", pidfile = \"/run/app.pid\" } or reopen = { command = [\"/usr/bin/app-reopen\"] }".into()));
                    None
                }
            }
        });
        let policy = self.policy(file, text, defaults.overlay(s.policy()));
        if self.problems.len() != before {
            return None;
        }
        Some(Source {
            name,
            dir,
            include: include?,
            include_text,
            exclude: exclude?,
            output_dir,
            output_owner,
            partial_timeout,
            file: file.to_path_buf(),
            output_dir_at,
            raw_max_age,
            reopen,
            policy: policy?,
        })
    }

    fn glob(&mut self, file: &Path, text: &str, g: &Spanned<String>, b: &mut GlobSetBuilder) {
        if g.get_ref().contains('/') {
            let at = self.at(file, text, g);
            self.push(
                at,
                format!("glob {:?} contains '/'", g.get_ref()),
                Some("globs match file names inside dir; put the directory in dir".into()),
            );
            return;
        }
        match Glob::new(g.get_ref()) {
            Ok(glob) => {
                b.add(glob);
            }
            Err(e) => {
                let at = self.at(file, text, g);
                self.push(at, format!("invalid glob: {}", e.kind()), None);
            }
        }
    }

    fn policy(&mut self, file: &Path, text: &str, p: RawPolicy) -> Option<Policy> {
        let before = self.problems.len();
        let at = self
            .opt(file, text, &p.at, |s| {
                NaiveTime::parse_from_str(s, "%H:%M")
                    .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
                    .map_err(|_| {
                        format!("invalid time {s:?}; write HH:MM in 24-hour time, e.g. \"00:00\"")
                    })
            })
            .unwrap_or(NaiveTime::MIN);
        let schedule = self
            .opt(file, text, &p.schedule, |s| {
                Schedule::parse(s, at).map_err(|e| format!("{e} (daily, hourly or \"every 10m\")"))
            })
            .unwrap_or(Schedule::Daily { at });
        let zone = self
            .opt(file, text, &p.timezone, |s| Zone::parse(s))
            .unwrap_or(Zone::Local);
        let max_size = self.opt(file, text, &p.max_size, |s| units::size(s));
        let strategy = self
            .opt(file, text, &p.strategy, |s| match s.as_str() {
                "auto" => Ok(StrategyCfg::Auto),
                "rename" => Ok(StrategyCfg::Rename),
                "copytruncate" => Ok(StrategyCfg::CopyTruncate),
                _ => Err(format!(
                    "invalid strategy {s:?}; use auto, rename or copytruncate"
                )),
            })
            .unwrap_or(StrategyCfg::Auto);
        let compress = self
            .opt(file, text, &p.compress, |s| match s.as_str() {
                "gzip" => Ok(true),
                "none" => Ok(false),
                _ => Err(format!("invalid compress {s:?}; use gzip or none")),
            })
            .unwrap_or(true);
        let delay_compress = p.delay_compress.as_ref().is_some_and(|b| *b.get_ref());
        let max_age = self
            .opt(file, text, &p.max_age, |s| {
                if s == "none" {
                    Ok(None)
                } else {
                    positive(units::duration(s)?).map(Some)
                }
            })
            .unwrap_or(Some(Duration::from_secs(30 * 86400)));
        let max_archives = self.opt(file, text, &p.max_archives, |n| {
            usize::try_from(*n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| "max_archives must be 1 or more".to_string())
        });
        let max_total_size = self.opt(file, text, &p.max_total_size, |s| units::size(s));
        let create = p.create.as_ref().is_some_and(|b| *b.get_ref());
        let writer_grace = self
            .opt(file, text, &p.writer_grace, |s| units::duration(s))
            .unwrap_or(Duration::from_secs(60));
        let ship_grace = self.opt(file, text, &p.ship_grace, |s| units::duration(s));
        let mode = self
            .opt(file, text, &p.mode, |s| match s.as_str() {
                "mirror" => Ok(Mode::Mirror),
                "rotate" => Ok(Mode::Rotate),
                _ => Err(format!("invalid mode {s:?}; use mirror or rotate")),
            })
            .unwrap_or(Mode::Mirror);
        let su = p.su.as_ref().and_then(|s| match resolve_su(s.get_ref()) {
            Ok(su) => Some(su),
            Err(message) => {
                let at = self.at(file, text, s);
                self.push(
                    at,
                    message,
                    Some(
                        "name an existing user and group, as in /etc/passwd and /etc/group".into(),
                    ),
                );
                None
            }
        });
        if self.problems.len() != before {
            return None;
        }
        Some(Policy {
            schedule,
            zone,
            max_size,
            strategy,
            compress,
            delay_compress,
            max_age,
            max_archives,
            max_total_size,
            create,
            writer_grace,
            ship_grace,
            mode,
            su,
        })
    }
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
    let uid = crate::ids::uid_of(&s.user).ok_or_else(|| format!("unknown user {:?}", s.user))?;
    let gid = crate::ids::gid_of(&s.group).ok_or_else(|| format!("unknown group {:?}", s.group))?;
    Ok(Su {
        user: s.user.clone(),
        group: s.group.clone(),
        uid,
        gid,
    })
}

#[cfg(test)]
mod tests;
