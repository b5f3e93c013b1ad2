//! logrotate blocks as logwarden drop-ins: one drop-in per logrotate file,
//! one `[[source]]` per directory a block names, in `mode = "rotate"` with
//! every key written out (logwarden's defaults are not logrotate's). What
//! does not map exactly is said in a comment beside the source and listed,
//! and makes the import unfaithful. Pure: text in, text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::script::{self, Hook};
use super::{split_pattern, Block, Conf, Freq, Note};

/// One drop-in to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropIn {
    /// File name in the output directory (`<logrotate file>.toml`).
    pub name: String,
    pub text: String,
    /// The sources it declares: (name, dir, include globs).
    pub sources: Vec<(String, PathBuf, Vec<String>)>,
}

/// The whole import: the drop-ins and what did not map exactly.
#[derive(Debug, Default)]
pub struct Import {
    pub dropins: Vec<DropIn>,
    /// Each approximation or refusal, with its place in logrotate's config.
    pub unfaithful: Vec<Note>,
}

/// Converts every block of `conf`.
pub fn convert(conf: &Conf) -> Import {
    let mut by_file: BTreeMap<&Path, Vec<&Block>> = BTreeMap::new();
    let mut order: Vec<&Path> = Vec::new();
    for b in &conf.blocks {
        if !by_file.contains_key(b.file.as_path()) {
            order.push(&b.file);
        }
        by_file.entry(&b.file).or_default().push(b);
    }
    let mut out = Import::default();
    out.unfaithful.extend(conf.problems.iter().cloned());
    for file in order {
        let base = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("logrotate");
        let stem = sanitize(base);
        let mut text = format!(
            "# Imported from {} by `logwarden import-logrotate`.\n# Each source says where it came from and what did not map exactly.\n",
            file.display()
        );
        let mut sources = Vec::new();
        for b in by_file.get(file).into_iter().flatten() {
            block(b, &stem, &mut text, &mut sources, &mut out.unfaithful);
        }
        out.dropins.push(DropIn {
            name: format!("{base}.toml"),
            text,
            sources,
        });
    }
    out
}

/// A source name from a file name: letters, digits, `-` and `_`.
fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let t = t.trim_matches('-').to_string();
    if t.is_empty() {
        "logrotate".into()
    } else {
        t
    }
}

fn q(s: &str) -> String {
    // TOML basic strings share JSON's escapes.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn block(
    b: &Block,
    stem: &str,
    text: &mut String,
    sources: &mut Vec<(String, PathBuf, Vec<String>)>,
    unfaithful: &mut Vec<Note>,
) {
    let at = |text: String| Note {
        file: b.file.clone(),
        line: b.line,
        text,
    };
    let mut notes: Vec<String> = Vec::new();
    let mut dirs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for p in &b.patterns {
        match split_pattern(p) {
            Some((dir, name)) => match dirs.iter_mut().find(|(d, _)| *d == dir) {
                Some((_, names)) => names.push(name),
                None => dirs.push((dir, vec![name])),
            },
            None => notes.push(format!(
                "{p}: a glob in the directory part (or no file name); one source per directory is needed: not imported"
            )),
        }
    }
    let (keys, key_notes) = keys(b);
    notes.extend(key_notes);
    if !b.faithful {
        notes.push("a directive was unknown or malformed (see above)".into());
    }
    for n in &b.opts.unsupported {
        notes.push(n.text.clone());
    }
    for n in &notes {
        unfaithful.push(at(format!("{} {}", b.patterns.join(" "), n)));
    }
    let _ = writeln!(
        text,
        "\n# {}:{}: {}",
        b.file.display(),
        b.line,
        b.patterns.join(" ")
    );
    for n in &notes {
        let _ = writeln!(text, "# NOTE: {n}");
    }
    for (dir, include) in dirs {
        let name = match sources.len() {
            0 => stem.to_string(),
            n => format!("{stem}-{}", n + 1),
        };
        let globs: Vec<String> = include.iter().map(|s| q(s)).collect();
        let _ = writeln!(text, "[[source]]");
        let _ = writeln!(text, "name = {}", q(&name));
        let _ = writeln!(text, "dir = {}", q(&dir.display().to_string()));
        let _ = writeln!(text, "include = [{}]", globs.join(", "));
        text.push_str(&keys);
        sources.push((name, dir, include));
    }
}

/// The policy keys of a block, and what does not map exactly.
fn keys(b: &Block) -> (String, Vec<String>) {
    let mut k = String::from("mode = \"rotate\"\n");
    let mut notes = Vec::new();
    when(&b.opts, &mut k, &mut notes);
    kept(&b.opts, &mut k, &mut notes);
    hooks(&b.opts, &mut k, &mut notes);
    (k, notes)
}

/// When: schedule, sizes, the time logrotate's timer runs.
fn when(o: &super::Opts, k: &mut String, notes: &mut Vec<String>) {
    let mut max_size = o.maxsize;
    match o.freq {
        Freq::Unset => {
            k.push_str("schedule = \"none\" # no frequency: logrotate's 1 MiB size rule\n");
            max_size = Some(1024 * 1024);
        }
        Freq::Hourly => k.push_str("schedule = \"hourly\"\n"),
        Freq::Daily => k.push_str("schedule = \"daily\"\n"),
        Freq::Weekly(7) => {
            k.push_str("schedule = \"every 7d\"\n");
            notes.push(
                "weekly 7 (seven days after the last rotation): every seventh day instead".into(),
            );
        }
        Freq::Weekly(d) => {
            let _ = writeln!(k, "schedule = \"weekly\"\nweekday = {d}");
        }
        Freq::Monthly => k.push_str("schedule = \"monthly\"\n"),
        Freq::Yearly => k.push_str("schedule = \"yearly\"\n"),
        Freq::Size(n) => {
            k.push_str("schedule = \"none\"\n");
            max_size = Some(n);
        }
    }
    // logrotate runs from a daily timer at midnight, local time.
    k.push_str("at = \"00:00\"\ntimezone = \"local\"\n");
    if let Some(n) = max_size {
        let _ = writeln!(k, "max_size = \"{n}B\"");
    }
    if let Some(n) = o.minsize {
        let _ = writeln!(k, "min_size = \"{n}B\"");
    }
}

/// How the file is cut and what is kept.
fn kept(o: &super::Opts, k: &mut String, notes: &mut Vec<String>) {
    let strategy = if o.copytruncate {
        "copytruncate"
    } else {
        "rename"
    };
    let _ = writeln!(k, "strategy = \"{strategy}\"");
    let gzip = o
        .compresscmd
        .as_deref()
        .is_none_or(|c| c.rsplit('/').next() == Some("gzip"));
    if o.compress && !gzip {
        notes.push(format!(
            "compresscmd {}: logwarden compresses with gzip",
            o.compresscmd.as_deref().unwrap_or("")
        ));
    }
    let _ = writeln!(
        k,
        "compress = \"{}\"",
        if o.compress { "gzip" } else { "none" }
    );
    let _ = writeln!(k, "delay_compress = {}", o.compress && o.delaycompress);
    match o.maxage {
        Some(d) => {
            let _ = writeln!(k, "max_age = \"{}d\"", d.max(1));
        }
        None => k.push_str("max_age = \"none\"\n"),
    }
    match o.rotate {
        n if n >= 1 => {
            let _ = writeln!(k, "max_archives = {n}");
        }
        0 => {
            k.push_str("max_archives = 1\n");
            notes.push("rotate 0 (no archive kept): logwarden keeps at least one".into());
        }
        _ => k.push_str("# max_archives: unlimited (rotate -1)\n"),
    }
    match &o.create {
        None => k.push_str("create = false\n"),
        Some(c) => {
            k.push_str("create = true\n");
            if let Some(m) = c.mode {
                let _ = writeln!(k, "create_mode = \"{m:04o}\"");
            }
            if let Some(u) = &c.owner {
                let _ = writeln!(k, "create_owner = {}", q(u));
            }
            if let Some(g) = &c.group {
                let _ = writeln!(k, "create_group = {}", q(g));
            }
        }
    }
    if let Some((u, g)) = &o.su {
        let _ = writeln!(k, "su = {{ user = {}, group = {} }}", q(u), q(g));
    }
    if o.ifempty {
        k.push_str("# ifempty: logwarden never archives an empty file\n");
    }
}

/// The scripts: a postrotate as the reopen hook; the rest noted.
fn hooks(o: &super::Opts, k: &mut String, notes: &mut Vec<String>) {
    if o.sharedscripts {
        notes.push(
            "sharedscripts: logwarden fires the reopen hook after each file it renames, not once per block".into(),
        );
    }
    for (name, line, body) in &o.scripts {
        if name != "postrotate" {
            notes.push(format!("{name} script (line {line}): not run by logwarden"));
            continue;
        }
        match script::hook(body) {
            Ok(Hook::Signal { signal, pidfile }) => {
                let _ = writeln!(
                    k,
                    "reopen = {{ signal = {}, pidfile = {} }}",
                    q(&signal),
                    q(&pidfile)
                );
            }
            Ok(Hook::Command(argv)) => {
                let a: Vec<String> = argv.iter().map(|s| q(s)).collect();
                let _ = writeln!(k, "reopen = {{ command = [{}] }}", a.join(", "));
            }
            Err(why) => notes.push(format!("postrotate (line {line}) not converted: {why}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logrotate::Opts;

    fn block(patterns: &[&str], opts: Opts) -> Block {
        Block {
            file: PathBuf::from("/etc/logrotate.d/app"),
            line: 1,
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
            opts,
            faithful: true,
        }
    }

    #[test]
    fn defaults_are_logrotates() {
        let conf = Conf {
            blocks: vec![block(
                &["/var/log/app/*.log", "/var/log/app/x.txt", "/srv/b.log"],
                Opts::default(),
            )],
            problems: vec![],
        };
        let imp = convert(&conf);
        assert_eq!(imp.dropins.len(), 1);
        let d = &imp.dropins[0];
        assert_eq!(d.name, "app.toml");
        assert_eq!(d.sources.len(), 2, "{}", d.text);
        assert_eq!(d.sources[0].2, ["*.log", "x.txt"]);
        assert_eq!(d.sources[1].0, "app-2");
        for want in [
            "schedule = \"none\"",
            "max_size = \"1048576B\"",
            "compress = \"none\"",
            "max_age = \"none\"",
            "max_archives = 1",
            "create = false",
            "strategy = \"rename\"",
        ] {
            assert!(d.text.contains(want), "{want}: {}", d.text);
        }
        // rotate 0 is approximated, and said.
        assert!(
            imp.unfaithful.iter().any(|n| n.text.contains("rotate 0")),
            "{:?}",
            imp.unfaithful
        );
    }

    #[test]
    fn a_weekly_block_with_a_hook() {
        let opts = Opts {
            freq: Freq::Weekly(1),
            rotate: 4,
            compress: true,
            delaycompress: true,
            maxage: Some(30),
            create: Some(crate::logrotate::Create {
                mode: Some(0o640),
                owner: Some("www-data".into()),
                group: Some("adm".into()),
            }),
            ifempty: false,
            scripts: vec![(
                "postrotate".into(),
                9,
                "invoke-rc.d nginx rotate >/dev/null 2>&1\n".into(),
            )],
            ..Opts::default()
        };
        let imp = convert(&Conf {
            blocks: vec![block(&["/var/log/nginx/*.log"], opts)],
            problems: vec![],
        });
        let t = &imp.dropins[0].text;
        for want in [
            "schedule = \"weekly\"\nweekday = 1",
            "compress = \"gzip\"",
            "delay_compress = true",
            "max_age = \"30d\"",
            "max_archives = 4",
            "create_mode = \"0640\"",
            "create_owner = \"www-data\"",
            "reopen = { signal = \"USR1\", pidfile = \"/run/nginx.pid\" }",
        ] {
            assert!(t.contains(want), "{want}: {t}");
        }
        assert!(imp.unfaithful.is_empty(), "{:?}", imp.unfaithful);
    }
}
