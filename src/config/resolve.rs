//! Raw TOML values to resolved settings, one section at a time, every
//! problem kept with its file, line and column (`Cx` collects them, so one
//! run reports them all).

use super::*;

/// A position in a config file, before the message is known.
#[derive(Debug, Clone)]
pub(super) struct At {
    file: PathBuf,
    line: usize,
    col: usize,
}

/// Collects problems while resolving.
#[derive(Default)]
pub(super) struct Cx {
    pub(super) problems: Vec<Problem>,
}

impl Cx {
    pub(super) fn parse<T: serde::de::DeserializeOwned>(
        &mut self,
        file: &Path,
        text: &str,
    ) -> Option<T> {
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

    pub(super) fn at<T>(&self, file: &Path, text: &str, v: &Spanned<T>) -> At {
        let (line, col) = line_col(text, v.span().start);
        At {
            file: file.to_path_buf(),
            line,
            col,
        }
    }

    pub(super) fn push(&mut self, at: At, message: String, hint: Option<String>) {
        self.problems.push(Problem {
            file: at.file,
            line: at.line,
            col: at.col,
            message,
            hint,
        });
    }

    /// Interpret an optional value; a failure is recorded at the value's position.
    pub(super) fn opt<T, R>(
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

    pub(super) fn metrics(
        &mut self,
        file: &Path,
        text: &str,
        base: &Path,
        m: raw::RawMetrics,
    ) -> MetricsOut {
        MetricsOut {
            textfile: self.opt(file, text, &m.textfile, |s| {
                let p = absolute(base, s);
                if p.extension().is_none_or(|e| e != "prom") {
                    return Err(format!("metrics.textfile {s:?} must end in .prom: node_exporter's textfile collector reads only *.prom files"));
                }
                Ok(p)
            }),
            listen: self.opt(file, text, &m.listen, |s| {
                if let Ok(port) = s.parse::<u16>() {
                    return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
                }
                s.parse::<std::net::SocketAddr>().map_err(|_| {
                    format!("metrics.listen {s:?} is not an address; use a port (\"9464\", loopback) or \"IP:PORT\"")
                })
            }),
        }
    }

    pub(super) fn redact(&mut self, file: &Path, text: &str, r: raw::RawRedact) -> Redact {
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

    pub(super) fn source(
        &mut self,
        file: &Path,
        text: &str,
        base: &Path,
        defaults: &RawPolicy,
        s: RawSource,
    ) -> Option<Source> {
        let before = self.problems.len();
        let name = self.source_name(file, text, &s.name);
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
        let (include, include_text) = self.include(file, text, &name, &s.include);
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

    /// A source's `name`: letters, digits, `-`, `_`, `.`; required.
    fn source_name(&mut self, file: &Path, text: &str, name: &Option<Spanned<String>>) -> String {
        match name {
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
        }
    }

    /// A source's `include` globs (and their text, for `check`); required
    /// and not empty.
    fn include(
        &mut self,
        file: &Path,
        text: &str,
        name: &str,
        include: &Option<Spanned<Vec<Spanned<String>>>>,
    ) -> (Option<globset::GlobSet>, Vec<String>) {
        let mut include_text = Vec::new();
        let set = match include {
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
        (set, include_text)
    }

    pub(super) fn glob(
        &mut self,
        file: &Path,
        text: &str,
        g: &Spanned<String>,
        b: &mut GlobSetBuilder,
    ) {
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

    /// `create` and its mode and owner overrides.
    fn create(&mut self, file: &Path, text: &str, p: &RawPolicy) -> Option<Create> {
        let on = p.create.as_ref().is_some_and(|b| *b.get_ref());
        let mode = self.opt(file, text, &p.create_mode, |s| {
            u32::from_str_radix(s, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| {
                    format!("invalid create_mode {s:?}; write an octal mode such as \"0640\"")
                })
        });
        let uid = self.opt(file, text, &p.create_owner, |s| {
            crate::sys::ids::uid_of(s).ok_or_else(|| format!("unknown user {s:?}"))
        });
        let gid = self.opt(file, text, &p.create_group, |s| {
            crate::sys::ids::gid_of(s).ok_or_else(|| format!("unknown group {s:?}"))
        });
        let set = [&p.create_mode, &p.create_owner, &p.create_group];
        if let (false, Some(v)) = (on, set.into_iter().flatten().next()) {
            let at = self.at(file, text, v);
            self.push(
                at,
                "create_mode, create_owner and create_group need create = true".into(),
                None,
            );
        }
        on.then_some(Create { mode, uid, gid })
    }

    pub(super) fn policy(&mut self, file: &Path, text: &str, p: RawPolicy) -> Option<Policy> {
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
        let weekday = self
            .opt(file, text, &p.weekday, |w| match w {
                RawWeekday::Number(n) => parse_weekday(&n.to_string()),
                RawWeekday::Name(s) => parse_weekday(s),
            })
            .unwrap_or(chrono::Weekday::Sun);
        let schedule = self
            .opt(file, text, &p.schedule, |s| Schedule::parse(s, at, weekday))
            .unwrap_or(Schedule::Daily { at });
        let zone = self
            .opt(file, text, &p.timezone, |s| Zone::parse(s))
            .unwrap_or(Zone::Local);
        let max_size = self.opt(file, text, &p.max_size, |s| units::size(s));
        let min_size = self.opt(file, text, &p.min_size, |s| units::size(s));
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
        let create = self.create(file, text, &p);
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
            min_size,
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
