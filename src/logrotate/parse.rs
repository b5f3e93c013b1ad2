//! Reads logrotate's configuration as logrotate 3.x does: global directives
//! apply to every block that follows them (across `include`d files too), an
//! `include` of a directory reads its regular files in byte order, skipping
//! logrotate's taboo extensions and patterns, and each block starts from
//! the globals in force where it opens. Nothing is executed or written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Block, Conf, Create, Freq, Note, Opts};

/// logrotate's taboo extensions at start-up (`tabooext`).
const TABOO_EXT: &[&str] = &[
    ",v",
    ".cfsaved",
    ".disabled",
    ".dpkg-bak",
    ".dpkg-del",
    ".dpkg-dist",
    ".dpkg-new",
    ".dpkg-old",
    ".dpkg-tmp",
    ".rhn-cfg-tmp-*",
    ".rpmnew",
    ".rpmorig",
    ".rpmsave",
    ".swp",
    ".ucf-dist",
    ".ucf-new",
    ".ucf-old",
    "~",
];

/// Directives that start a script ended by `endscript`.
const SCRIPTS: &[&str] = &[
    "postrotate",
    "prerotate",
    "firstaction",
    "lastaction",
    "preremove",
];

/// Include nesting beyond which a loop is assumed.
const MAX_DEPTH: usize = 16;

struct Reader {
    globals: Opts,
    conf: Conf,
    taboo_ext: Vec<String>,
    taboo_pat: Vec<String>,
    reading: HashSet<PathBuf>,
}

/// Reads `path` and everything it includes.
pub fn read(path: &Path) -> Result<Conf, String> {
    let mut r = Reader {
        globals: Opts::default(),
        conf: Conf::default(),
        taboo_ext: TABOO_EXT.iter().map(|s| s.to_string()).collect(),
        taboo_pat: Vec::new(),
        reading: HashSet::new(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    r.file(path, &text, 0);
    Ok(r.conf)
}

/// Splits a line into words the way logrotate's tokenizer does: whitespace
/// separates, double or single quotes group.
fn words(line: &str) -> Vec<String> {
    shlex::split(line).unwrap_or_else(|| line.split_whitespace().map(str::to_string).collect())
}

impl Reader {
    fn note(&mut self, file: &Path, line: usize, text: impl Into<String>) {
        self.conf.problems.push(Note {
            file: file.to_path_buf(),
            line,
            text: text.into(),
        });
    }

    fn file(&mut self, path: &Path, text: &str, depth: usize) {
        if !self.reading.insert(path.to_path_buf()) {
            self.note(path, 0, "included again while it is being read: skipped");
            return;
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_line = 0;
        let mut block: Option<Block> = None;
        let mut script: Option<(String, usize, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if let Some((name, at, body)) = script.as_mut() {
                if line == "endscript" {
                    let (name, at, body) = (name.clone(), *at, std::mem::take(body));
                    if let Some(b) = block.as_mut() {
                        b.opts.scripts.push((name, at, body));
                    }
                    script = None;
                } else {
                    body.push_str(raw);
                    body.push('\n');
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let w = words(line);
            let Some(first) = w.first() else { continue };
            if let Some(b) = block.as_mut() {
                if first == "}" {
                    if let Some(b) = block.take() {
                        self.conf.blocks.push(b);
                    }
                    continue;
                }
                if SCRIPTS.contains(&first.as_str()) {
                    script = Some((first.clone(), n, String::new()));
                    continue;
                }
                if let Err(e) = apply(&mut b.opts, &w, path, n) {
                    self.note(path, n, e);
                    b.faithful = false;
                }
                continue;
            }
            // Outside a block: patterns up to `{`, or a global directive.
            if !patterns.is_empty() || is_pattern(first) {
                if patterns.is_empty() {
                    pattern_line = n;
                }
                let mut rest = w.into_iter();
                for word in rest.by_ref() {
                    let opened = match word.strip_suffix('{') {
                        Some("") => true,
                        Some(p) => {
                            patterns.push(p.to_string());
                            true
                        }
                        None => {
                            patterns.push(word);
                            false
                        }
                    };
                    if opened {
                        block = Some(Block {
                            file: path.to_path_buf(),
                            line: pattern_line,
                            patterns: std::mem::take(&mut patterns),
                            opts: self.globals.clone(),
                            faithful: true,
                        });
                        break;
                    }
                }
                // A directive may follow the `{` on its line.
                let after: Vec<String> = rest.collect();
                if let (Some(b), false) = (block.as_mut(), after.is_empty()) {
                    if let Err(e) = apply(&mut b.opts, &after, path, n) {
                        self.note(path, n, e);
                        b.faithful = false;
                    }
                }
                continue;
            }
            match first.as_str() {
                "include" => self.include(path, n, w.get(1), depth),
                "tabooext" | "taboopat" => self.taboo(&w),
                s if SCRIPTS.contains(&s) => {
                    self.note(path, n, format!("{s} outside a block: ignored"));
                    script = Some((first.clone(), n, String::new()));
                }
                _ => {
                    let mut g = self.globals.clone();
                    match apply(&mut g, &w, path, n) {
                        Ok(()) => self.globals = g,
                        Err(e) => self.note(path, n, e),
                    }
                }
            }
        }
        if let Some(b) = block {
            self.note(path, b.line, "block not closed with '}': ignored");
        }
        self.reading.remove(path);
    }

    fn taboo(&mut self, w: &[String]) {
        let (add, rest) = match w.get(1).map(String::as_str) {
            Some("+") => (true, &w[2..]),
            _ => (false, &w[1..]),
        };
        let items: Vec<String> = rest
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let list = if w[0] == "tabooext" {
            &mut self.taboo_ext
        } else {
            &mut self.taboo_pat
        };
        if !add {
            list.clear();
        }
        list.extend(items);
    }

    fn is_taboo(&self, name: &str) -> bool {
        let ext = self.taboo_ext.iter().any(|e| match e.strip_suffix('*') {
            Some(prefix) => name.contains(prefix),
            None => name.ends_with(e.as_str()),
        });
        ext || self
            .taboo_pat
            .iter()
            .any(|p| globset::Glob::new(p).is_ok_and(|g| g.compile_matcher().is_match(name)))
    }

    fn include(&mut self, from: &Path, line: usize, target: Option<&String>, depth: usize) {
        let Some(target) = target else {
            self.note(from, line, "include without a path");
            return;
        };
        if depth >= MAX_DEPTH {
            self.note(from, line, format!("include {target}: nested too deep"));
            return;
        }
        let path = PathBuf::from(target);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                self.note(from, line, format!("include {target}: {e}"));
                return;
            }
        };
        let files = if meta.is_dir() {
            let mut names: Vec<String> = match std::fs::read_dir(&path) {
                Ok(rd) => rd
                    .flatten()
                    .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect(),
                Err(e) => {
                    self.note(from, line, format!("include {target}: {e}"));
                    return;
                }
            };
            names.retain(|n| !self.is_taboo(n));
            names.sort();
            names.into_iter().map(|n| path.join(n)).collect()
        } else {
            vec![path]
        };
        for f in files {
            if let Some(why) = unsafe_config(&f) {
                self.note(&f, 0, format!("skipped, as logrotate does: {why}"));
                continue;
            }
            match std::fs::read_to_string(&f) {
                Ok(text) => self.file(&f, &text, depth + 1),
                Err(e) => self.note(&f, 0, format!("cannot read: {e}")),
            }
        }
    }
}

/// logrotate refuses a config file that others can write.
fn unsafe_config(f: &Path) -> Option<&'static str> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(f).ok()?.permissions().mode();
    (mode & 0o022 != 0).then_some("group- or world-writable")
}

/// Whether a word at the start of a top-level line names files.
fn is_pattern(w: &str) -> bool {
    w.starts_with('/') || w.starts_with('~') || w.starts_with('*') || w == "{"
}

/// A size as logrotate reads it: bytes, or a number with k, M or G (1024s).
pub fn size(s: &str) -> Result<u64, String> {
    let (num, scale) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1024),
        Some('M') => (&s[..s.len() - 1], 1024 * 1024),
        Some('G') => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("invalid size {s:?}"))
}

fn arg<'a>(w: &'a [String], what: &str) -> Result<&'a str, String> {
    w.get(1)
        .map(String::as_str)
        .ok_or_else(|| format!("{} needs {what}", w[0]))
}

fn number(w: &[String]) -> Result<i64, String> {
    let s = arg(w, "a number")?;
    s.parse::<i64>()
        .map_err(|_| format!("{}: invalid number {s:?}", w[0]))
}

/// Applies one directive line (`w`: its words) to `o`. `Err`: unknown or
/// malformed (logrotate would stop on it).
fn apply(o: &mut Opts, w: &[String], file: &Path, line: usize) -> Result<(), String> {
    let d = w[0].as_str();
    let mut unsupported = |why: &str| {
        o.unsupported.push(Note {
            file: file.to_path_buf(),
            line,
            text: format!("{}: {why}", w.join(" ")),
        });
    };
    match d {
        "hourly" => o.freq = Freq::Hourly,
        "daily" => o.freq = Freq::Daily,
        "weekly" => {
            let day = match w.get(1) {
                None => 0,
                Some(s) => s
                    .parse::<u8>()
                    .ok()
                    .filter(|n| *n <= 7)
                    .ok_or_else(|| format!("weekly: invalid weekday {s:?}"))?,
            };
            o.freq = Freq::Weekly(day);
        }
        "monthly" => o.freq = Freq::Monthly,
        "yearly" => o.freq = Freq::Yearly,
        "size" => o.freq = Freq::Size(size(arg(w, "a size")?)?),
        "maxsize" => o.maxsize = Some(size(arg(w, "a size")?)?),
        "minsize" => o.minsize = Some(size(arg(w, "a size")?)?),
        "maxage" => o.maxage = Some(number(w)?.max(0).unsigned_abs()),
        "rotate" => o.rotate = number(w)?,
        "compress" => o.compress = true,
        "nocompress" => o.compress = false,
        "delaycompress" => o.delaycompress = true,
        "nodelaycompress" => o.delaycompress = false,
        "copytruncate" => o.copytruncate = true,
        "nocopytruncate" => o.copytruncate = false,
        "create" => o.create = Some(create(w)?),
        "nocreate" => o.create = None,
        "su" => {
            let user = arg(w, "a user and a group")?.to_string();
            let group = w.get(2).cloned().unwrap_or_else(|| user.clone());
            o.su = Some((user, group));
        }
        "missingok" => o.missingok = true,
        "nomissingok" => o.missingok = false,
        "notifempty" => o.ifempty = false,
        "ifempty" => o.ifempty = true,
        "sharedscripts" | "nosharedscripts" => o.sharedscripts = d == "sharedscripts",
        "compresscmd" => o.compresscmd = Some(arg(w, "a command")?.to_string()),
        "compressoptions" | "compressext" | "uncompresscmd" => {
            unsupported("logwarden compresses with gzip (zlib) only")
        }
        "dateext" | "dateformat" | "extension" | "addextension" | "start" | "olddir"
        | "dateyesterday" | "datehourago" | "createolddir" => unsupported(
            "archive names change: logwarden names archives <file>.<YYYY-MM-DD>.gz beside the file; anything reading the old names must be told",
        ),
        "nodateext" | "noolddir" | "nocreateolddir" | "nomail" | "noshred" | "nocopy"
        | "norenamecopy" | "noallowhardlink" => {}
        "shred" | "shredcycles" => unsupported("logwarden does not shred deleted archives"),
        "minage" => unsupported("logwarden has no minimum age before an archive may be deleted"),
        "allowhardlink" => unsupported("logwarden never rotates a file with several links"),
        "copy" | "renamecopy" => {
            unsupported("logwarden either renames or copies and truncates; not imported")
        }
        "mail" | "mailfirst" | "maillast" | "errors" => {
            unsupported("logwarden does not mail archives")
        }
        _ => return Err(format!("unknown directive {d:?}")),
    }
    Ok(())
}

fn create(w: &[String]) -> Result<Create, String> {
    let mut c = Create::default();
    let mut rest = &w[1..];
    if let Some(m) = rest
        .first()
        .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
    {
        c.mode =
            Some(u32::from_str_radix(m, 8).map_err(|_| format!("create: invalid mode {m:?}"))?);
        rest = &rest[1..];
    }
    c.owner = rest.first().cloned();
    c.group = rest.get(1).cloned();
    Ok(c)
}
