//! `logwarden check`: the config as the daemon would run it, said in words.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::config::{Config, Mode, Source, StrategyCfg};
use crate::journal::Journal;
use crate::policy::schedule::{Cadence, Schedule, Zone};
use crate::rotation::reopen::Verdict;
use crate::rotation::rotate;
use crate::runtime::engine;
use crate::sys::clock::Clock;
use crate::sys::holders::Holders;

fn describe_schedule(s: &Schedule, zone: Zone) -> String {
    let z = match zone {
        Zone::Local => "local".to_string(),
        Zone::Named(tz) => tz.name().to_string(),
    };
    match s {
        Schedule::Daily { at } => format!("daily at {} ({z})", at.format("%H:%M")),
        Schedule::Hourly => format!("hourly ({z})"),
        Schedule::Calendar { cadence, at } => {
            let at = at.format("%H:%M");
            match cadence {
                Cadence::Weekly(w) => format!("weekly on {w} at {at} ({z})"),
                Cadence::Monthly => format!("monthly on day 1 at {at} ({z})"),
                Cadence::Yearly => format!("yearly on 1 January at {at} ({z})"),
                Cadence::Interval(d) => format!(
                    "every {} counted from 1970-01-01 {at} ({z})",
                    humantime::format_duration(*d)
                ),
            }
        }
        Schedule::Unscheduled => "none: max_size and manual cuts only".into(),
    }
}

fn human_size(n: u64) -> String {
    bytesize::ByteSize::b(n).display().iec().to_string()
}

pub(super) fn check(cfg: &Config, clock: &Clock, logrotate: &std::path::Path) -> ExitCode {
    let now = clock.now();
    let mut out = String::new();
    let mut problems = 0;
    let files: Vec<String> = cfg.files.iter().map(|p| p.display().to_string()).collect();
    out.push_str(&format!("config: {}\n", files.join(", ")));
    out.push_str(&format!("state_dir: {}\n", cfg.state_dir.display()));
    out.push_str(&describe_redaction(&cfg.redact));
    for src in &cfg.sources {
        out.push_str(&describe_policy(cfg, src, now));
        match crate::ingest::discover::live_files(src) {
            Ok(found) => out.push_str(&describe_files(src, &found)),
            Err(e) if e.contains("does not exist") => out.push_str(&format!("  note:      {e}\n")),
            Err(e) => {
                problems += 1;
                out.push_str(&format!("  error:     {e}\n"));
            }
        }
    }
    if cfg.sources.is_empty() {
        out.push_str("\nno [[source]] configured: the daemon would idle\n");
    }
    // What housekeeping would do now (compression, retention), dry.
    let jr: crate::journal::SharedJournal = Arc::new(Mutex::new(Journal::log_only()));
    let house = engine::housekeep(
        cfg,
        &jr,
        now,
        now,
        engine::WriterWait::Grace,
        true,
        &std::sync::atomic::AtomicBool::new(false),
    );
    if !house.lines.is_empty() {
        out.push_str("\nhousekeeping now would:\n");
        for l in &house.lines {
            out.push_str(&format!("  {l}\n"));
        }
    }
    let twice = two_rotators(cfg, logrotate, &mut out);
    let _ = std::io::stdout().write_all(out.as_bytes());
    if problems > 0 {
        eprintln!("logwarden: {problems} source(s) cannot be used as configured");
    }
    if twice > 0 {
        eprintln!(
            "logwarden: {twice} file(s) or pattern(s) also managed by logrotate ({}); fix them before enabling logwarden",
            logrotate.display()
        );
    }
    if problems > 0 || twice > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Files and patterns logrotate's config (`path`) also manages, written to
/// `out`; how many.
fn two_rotators(cfg: &Config, path: &std::path::Path, out: &mut String) -> usize {
    let conf = match crate::logrotate::parse::read(path) {
        Ok(c) => c,
        Err(e) => {
            out.push_str(&format!("\nlogrotate: not checked ({e})\n"));
            return 0;
        }
    };
    let found = crate::logrotate::overlap::find(&conf, cfg);
    out.push_str(&format!(
        "\nlogrotate: {} ({} block(s)): {}\n",
        path.display(),
        conf.blocks.len(),
        if found.is_empty() {
            "no file is managed by both"
        } else {
            "files managed by both:"
        }
    ));
    for f in &found {
        out.push_str(&format!("  warning: {f}\n"));
    }
    found.len()
}

/// A source's settings in words: where, which mode, when, how, what is kept.
fn describe_policy(cfg: &Config, src: &Source, now: DateTime<Utc>) -> String {
    let p = &src.policy;
    let mut out = String::new();
    let mode = match p.mode {
        Mode::Mirror => "mirror",
        Mode::Rotate => "rotate",
    };
    out.push_str(&format!("\nsource {:?}\n", src.name));
    out.push_str(&format!(
        "  dir:       {} (include {})\n",
        src.dir.display(),
        src.include_text.join(", ")
    ));
    out.push_str(&format!("  mode:      {mode}\n"));
    if p.mode == Mode::Mirror {
        out.push_str(&format!(
            "  mirror:    {} (raw files {})\n",
            crate::ingest::mirror::output_dir(cfg, src).display(),
            match src.raw_max_age {
                Some(d) => format!(
                    "kept {} after they are drained",
                    humantime::format_duration(d)
                ),
                None => "discarded once drained".into(),
            }
        ));
    }
    let next = match p.schedule {
        Schedule::Unscheduled => "no scheduled cut".to_string(),
        _ => format!(
            "next cut {}",
            p.schedule
                .next_cut(p.zone, now)
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
        ),
    };
    out.push_str(&format!(
        "  schedule:  {}; {next}{}{}\n",
        describe_schedule(&p.schedule, p.zone),
        p.min_size
            .map(|m| format!(
                " (once the file holds {}; until then it waits)",
                human_size(m)
            ))
            .unwrap_or_default(),
        p.max_size
            .map(|m| format!(", or when over {}", human_size(m)))
            .unwrap_or_default()
    ));
    let strategy = match p.strategy {
        StrategyCfg::Auto => "auto",
        StrategyCfg::Rename => "rename",
        StrategyCfg::CopyTruncate => "copytruncate",
    };
    let reopen = match &src.reopen {
        Some(crate::config::Reopen::Signal { name, pidfile, .. }) => {
            format!("SIG{name} to {}", pidfile.display())
        }
        Some(crate::config::Reopen::Command(argv)) => argv.join(" "),
        None => "none".into(),
    };
    out.push_str(&format!(
        "  strategy:  {strategy}; reopen hook: {reopen}{}\n",
        match p.create {
            None => String::new(),
            Some(c) => format!(
                "; create{}",
                c.mode.map(|m| format!(" mode {m:04o}")).unwrap_or_default()
            ),
        }
    ));
    let mut keep = Vec::new();
    if let Some(a) = p.max_age {
        keep.push(format!("max_age {}", humantime::format_duration(a)));
    }
    if let Some(n) = p.max_archives {
        keep.push(format!("max_archives {n}"));
    }
    if let Some(n) = p.max_total_size {
        keep.push(format!("max_total_size {}", human_size(n)));
    }
    out.push_str(&format!(
        "  archives:  compress {}{}; keep {}\n",
        if p.compress { "gzip" } else { "none" },
        if p.delay_compress {
            " (delayed one cut)"
        } else {
            ""
        },
        if keep.is_empty() {
            "forever".to_string()
        } else {
            keep.join(", ")
        }
    ));
    out
}

/// A source's live files now, each with the strategy a cut would use; the
/// reopen hook as it checks out; the files left alone.
fn describe_files(src: &Source, found: &crate::ingest::discover::Found) -> String {
    let mut out = String::new();
    let inodes = found.live.iter().map(|(_, m)| (m.dev, m.ino)).collect();
    let holders = Holders::scan(&inodes);
    if found.live.is_empty() {
        out.push_str("  files:     none match now\n");
    }
    let mut hook_warnings = Vec::new();
    for (name, m) in &found.live {
        let path = src.dir.join(name);
        let (facts, check) = engine::cut_facts(src, &holders, &path, m);
        let c = rotate::choose(src.policy.strategy, &facts);
        out.push_str(&format!(
            "  file:      {name} ({}) -> {}: {}\n",
            human_size(m.size),
            c.strategy.as_str(),
            c.reason
        ));
        if let Some(Verdict::Unusable(why)) = check.as_ref().map(|c| &c.verdict) {
            if !facts.writers.is_empty() && !hook_warnings.contains(why) {
                hook_warnings.push(why.clone());
            }
        }
    }
    if let Some(hook) = &src.reopen {
        out.push_str(&describe_hook(hook, &hook_warnings));
    }
    for (name, why) in &found.skipped {
        out.push_str(&format!("  skipped:   {name}: it {why}\n"));
    }
    out
}

/// `check`'s lines about redaction: the keys, and the detector rules in force.
fn describe_redaction(r: &crate::config::Redact) -> String {
    let mut out = format!("redact:    keys {}\n", r.keys.join(", "));
    if !r.detectors {
        out.push_str("detectors: none (detectors = \"none\")\n");
        return out;
    }
    let on: Vec<&str> = crate::redact::detect::ids()
        .into_iter()
        .filter(|id| !r.disable.iter().any(|d| d == id))
        .collect();
    out.push_str(&format!(
        "detectors: {} rules: {}\n",
        on.len(),
        on.join(", ")
    ));
    if !r.disable.is_empty() {
        out.push_str(&format!("disabled:  {}\n", r.disable.join(", ")));
    }
    if !r.patterns.is_empty() {
        out.push_str(&format!("patterns:  {}\n", r.patterns.len()));
    }
    out
}

/// `check`'s lines about a reopen hook: what the pidfile names (or whether
/// the command can run), and a warning with the fix for a hook that would
/// not work for the files it matched (`warnings`).
fn describe_hook(hook: &crate::config::Reopen, warnings: &[String]) -> String {
    use crate::rotation::reopen::{Facts as HookFacts, PidFile};
    let facts = HookFacts::read(hook);
    let mut out = String::new();
    let state = match &facts {
        HookFacts::Signal { pidfile, pid, .. } => {
            let pf = pidfile.display();
            match pid {
                PidFile::Missing => format!("{pf} missing"),
                PidFile::Unreadable(e) => format!("cannot read {pf}: {e}"),
                PidFile::NotAPid(t) => format!("{pf} does not hold a pid ({t:?})"),
                PidFile::Pid(p, None) => format!("{pf} names pid {p}, which is not running"),
                PidFile::Pid(p, Some(proc)) => format!(
                    "{pf} names pid {p} ({}), running with {} process(es) in its tree",
                    proc.cmdline,
                    proc.tree.len()
                ),
            }
        }
        HookFacts::Command { program, .. } => match program {
            Ok(p) => format!("{} is executable", p.display()),
            Err(e) => e.clone(),
        },
    };
    out.push_str(&format!("  reopen:    {state}\n"));
    let broken = match &facts {
        HookFacts::Signal { pid, .. } => !matches!(pid, PidFile::Pid(p, Some(_)) if *p > 1),
        HookFacts::Command { program, .. } => program.is_err(),
    };
    if broken && warnings.is_empty() {
        out.push_str(&format!(
            "  warning:   the reopen hook cannot work ({state}): auto copy-truncates instead, strategy = \"rename\" renames without it; {}\n",
            crate::rotation::reopen::fix(&facts)
        ));
    }
    for w in warnings {
        out.push_str(&format!(
            "  warning:   {w}; auto copy-truncates instead; {}\n",
            crate::rotation::reopen::fix(&facts)
        ));
    }
    out
}
