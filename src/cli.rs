//! The command line: argument definitions (clap) and one function per
//! command. Commands print for people on stdout, problems on stderr, and
//! return the exit code: 0 on success, 1 when something is wrong (a config
//! error, a failed cut), 2 for usage errors (clap's own).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{Config, Mode, StrategyCfg, DEFAULT_PATH};
use crate::engine::{self, Force};
use crate::holders::Holders;
use crate::journal::Journal;
use crate::reopen::Verdict;
use crate::rotate;
use crate::schedule::{Schedule, Zone};
use crate::state::{self, LockError, StateLock};

const EXAMPLES: &str = "\
Examples:
  logwarden check -c config/local.toml          validate and show what would happen
  logwarden run -c config/local.toml            run the daemon in the foreground
  logwarden rotate -c config/local.toml         cut, compress and sweep now
  logwarden rotate --source orders --dry-run    show what a rotation of one source would do

Signals to a running daemon: SIGHUP reloads the config, SIGUSR1 rotates now,
SIGTERM/SIGINT stop it gracefully. The log level comes from log_level in the
config or the LOGWARDEN_LOG environment variable (e.g. LOGWARDEN_LOG=debug).";

/// Tails, redacts, rotates, compresses and retains application logs.
#[derive(Debug, Parser)]
#[command(name = "logwarden", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The config file.
    #[arg(short = 'c', long = "config", global = true, default_value = DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the man pages and the bash/zsh/fish completions into DIR (for
    /// packaging; hidden from --help).
    #[command(hide = true)]
    Generate {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Run the daemon in the foreground (systemd Type=notify).
    Run,
    /// Validate the config and print the resolved plan; exit 1 on any error.
    Check,
    /// Rotate now: cut, compress, apply retention. Asks a running daemon
    /// (SIGUSR1) when one holds the state lock, else does the work itself.
    Rotate {
        /// Only this source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Show what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Redact stdin to stdout with the configured rules (try rules, benchmark).
    Redact {
        /// After each redacted line, say which rule, key or pattern masked
        /// what (one line each, starting with "  ^").
        #[arg(long)]
        explain: bool,
    },
    /// Verify the audit journal's hash chain; exit 1 naming the first broken
    /// record. PATHs are journal files to check (default: the state_dir's).
    Verify {
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Check every checkpoint's signature under this Ed25519 public key
        /// (64 hex digits, or a file holding them, e.g. signing.pub).
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// A checkpoint tip shipped off the host earlier (SEQ:HASH): the
        /// journal must still contain it (else it was truncated or rewritten).
        #[arg(long, value_name = "SEQ:HASH")]
        tip: Option<String>,
    },
    /// Per source and file: size, mirror lag, last and next cut (and the
    /// strategy last used, and why), archives, redactions today, last error.
    /// Works whether the daemon runs or not.
    Status {
        /// Machine-readable (fields documented in README.md).
        #[arg(long)]
        json: bool,
    },
    /// A source's history across its archives, in order, decompressed on
    /// the fly (the redacted mirror in mirror mode).
    Cat {
        #[arg(long, value_name = "NAME")]
        source: String,
        /// Only periods ending after T (RFC 3339, YYYY-MM-DD, or an age such as 2d).
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Only periods starting before T (same forms).
        #[arg(long, value_name = "T")]
        until: Option<String>,
    },
    /// Make an Ed25519 key pair for signed checkpoints in state_dir
    /// (signing.key, 0600; signing.pub) and print the public key.
    Keygen,
    /// Query the audit journal.
    Journal {
        /// Only this action (a glob: `rotate`, `config.*`).
        #[arg(long, value_name = "A")]
        action: Option<String>,
        /// Only records whose resource path matches this glob.
        #[arg(long, value_name = "GLOB")]
        resource: Option<String>,
        /// Only ok or failed records.
        #[arg(long, value_parser = ["ok", "failed"])]
        status: Option<String>,
        /// Not before T (RFC 3339, YYYY-MM-DD, or an age such as 7d).
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Before T (same forms).
        #[arg(long, value_name = "T")]
        until: Option<String>,
        /// The records' exact bytes, one per line (they stay verifiable).
        #[arg(long)]
        json: bool,
    },
}

/// Parse arguments and run.
pub fn main() -> ExitCode {
    #[cfg(feature = "failpoints")]
    let _crash_points = crate::crash::setup();
    let cli = Cli::parse();
    // Reads no config: packaging runs it where none is installed.
    if let Command::Generate { dir } = &cli.command {
        return crate::generate::run(dir);
    }
    let cfg = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(problems) => {
            eprintln!("{problems}");
            eprintln!(
                "logwarden: the config has {} problem(s); nothing was done",
                problems.0.len()
            );
            return ExitCode::from(1);
        }
    };
    init_tracing(&cfg);
    let clock = match Clock::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logwarden: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Generate { dir } => crate::generate::run(&dir), // handled above
        Command::Run => match crate::daemon::run(cfg, clock) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("logwarden: {e:#}");
                ExitCode::from(1)
            }
        },
        Command::Check => check(&cfg, &clock),
        Command::Rotate { source, dry_run } => rotate_now(&cfg, &clock, source, dry_run),
        Command::Redact { explain } => redact_stdin(&cfg, explain),
        Command::Status { json } => status(&cfg, &clock, json),
        Command::Cat {
            source,
            since,
            until,
        } => cat(&cfg, &clock, &source, since.as_deref(), until.as_deref()),
        Command::Verify {
            paths,
            public_key,
            tip,
        } => verify(&cfg, &paths, public_key.as_deref(), tip.as_deref()),
        Command::Keygen => {
            if let Err(e) = state::ensure_dir(&cfg.state_dir) {
                eprintln!(
                    "logwarden keygen: cannot create {}: {e}",
                    cfg.state_dir.display()
                );
                return ExitCode::from(1);
            }
            match crate::journal::sign::keygen(&cfg.state_dir) {
                Ok(public) => {
                    println!("{public}");
                    eprintln!(
                        "logwarden: wrote {}/signing.key (secret, 0600) and signing.pub; give the public key above to whoever verifies (logwarden verify --public-key); restart or reload the daemon to start signing",
                        cfg.state_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("logwarden keygen: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Journal {
            action,
            resource,
            status,
            since,
            until,
            json,
        } => {
            let now = clock.now();
            let q = match crate::journal::Query::new(
                action.as_deref(),
                resource.as_deref(),
                status.as_deref(),
                since.as_deref(),
                until.as_deref(),
                now,
            ) {
                Ok(q) => q,
                Err(e) => {
                    eprintln!("logwarden journal: {e}");
                    return ExitCode::from(2);
                }
            };
            query_journal(&cfg, &q, json)
        }
    }
}

/// `logwarden verify`: check the journal's chain across its files (or the
/// PATHs given, as one chain in that order), its checkpoints (signatures
/// too, with a key), and the files it vouches for.
fn verify(
    cfg: &Config,
    paths: &[PathBuf],
    public_key: Option<&str>,
    tip: Option<&str>,
) -> ExitCode {
    let mut key = match public_key
        .map(crate::journal::sign::parse_public)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("logwarden verify: --public-key: {e}");
            return ExitCode::from(2);
        }
    };
    let tip = match tip
        .map(|t| {
            t.split_once(':')
                .and_then(|(s, h)| Some((s.parse::<u64>().ok()?, h.to_string())))
                .ok_or("--tip takes SEQ:HASH, as a checkpoint record's tip_seq and tip_hash")
        })
        .transpose()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("logwarden verify: {e}");
            return ExitCode::from(2);
        }
    };
    let paths: Vec<PathBuf> = if paths.is_empty() {
        crate::journal::files(&cfg.state_dir)
    } else {
        paths.to_vec()
    };
    let mut all = Vec::new();
    let mut start = (0u64, crate::journal::GENESIS.to_string());
    // A chain that starts past _seq 1 must have had its head deleted by
    // retention, which a retained record then says (checked below).
    let mut base = None;
    let (mut records, mut checkpoints) = (0u64, 0u64);
    let (mut first_ts, mut last_ts) = (None, None);
    for (i, p) in paths.iter().enumerate() {
        let bytes = match crate::journal::read(p) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("logwarden verify: {}: cannot read: {e}", p.display());
                return ExitCode::from(1);
            }
        };
        if i == 0 {
            let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            if let Some((seq, prev)) = crate::journal::head_of(first).filter(|h| h.0 > 1) {
                start = (seq - 1, prev);
                base = Some(start.clone());
            }
        }
        let c = match crate::journal::verify_chain_with(&bytes, (start.0, &start.1), key.as_ref()) {
            Ok(c) => c,
            Err(b) => {
                eprintln!("logwarden verify: {}:{}: {}", p.display(), b.line, b.why);
                return ExitCode::from(1);
            }
        };
        // An archived file must end by naming itself: a file renamed or
        // swapped in from elsewhere does not.
        if i + 1 < paths.len() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let name = name.strip_suffix(".gz").unwrap_or(name);
            let last = bytes.split(|b| *b == b'\n').rev().find(|l| !l.is_empty());
            let names_itself = last
                .and_then(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
                .is_some_and(|v| v["action"] == "journal.rotate" && v["new"] == name);
            if !names_itself {
                eprintln!(
                    "logwarden verify: {}: its last record is not the journal.rotate that names it (renamed, replaced or cut)",
                    p.display()
                );
                return ExitCode::from(1);
            }
        }
        records += c.records;
        checkpoints += c.checkpoints;
        if first_ts.is_none() {
            first_ts = c.first_ts.clone();
        }
        if c.last_ts.is_some() {
            last_ts = c.last_ts.clone();
        }
        start = (c.last_seq, c.tip.clone());
        // Forward security: the next file is signed by the key this one committed.
        if let Some(k) = c.key.as_deref() {
            key = crate::journal::sign::parse_public(k).ok();
        }
        all.extend_from_slice(&bytes);
    }
    if let Some((seq, hash)) = &tip {
        if !crate::journal::contains(&all, *seq, hash) {
            eprintln!(
                "logwarden verify: the journal does not contain the shipped tip _seq {seq} ({hash}): it was truncated or rewritten after it"
            );
            return ExitCode::from(1);
        }
    }
    if let Some((seq, hash)) = &base {
        if !crate::journal::retain::deletion_of(&all, *seq, hash) {
            eprintln!(
                "logwarden verify: {}: the chain starts at _seq {} but no retained retention.delete record accounts for _seq 1..{seq} (ending in {hash}): the journal's head was deleted or replaced",
                paths[0].display(),
                seq + 1
            );
            return ExitCode::from(1);
        }
    }
    let bar = spinner("verifying", true);
    let files = crate::journal::files::verify_files_with(&all, &mut |path, n| {
        bar.inc(n);
        bar.set_message(path.rsplit('/').next().unwrap_or(path).to_string());
    });
    bar.finish_and_clear();
    let files = match files {
        Ok(f) => f,
        Err(why) => {
            eprintln!("logwarden verify: {why}");
            return ExitCode::from(1);
        }
    };
    println!(
        "ok: {} journal file(s), {records} record(s), _seq {}..{}, {} .. {}, {} bytes; tip {}; {checkpoints} checkpoint(s){}; {} file(s) checked ({} bytes), {} deleted by retention",
        paths.len(),
        base.as_ref().map_or(1, |b| b.0 + 1),
        start.0,
        first_ts.as_deref().unwrap_or("-"),
        last_ts.as_deref().unwrap_or("-"),
        all.len(),
        start.1,
        if key.is_some() { " signed" } else { "" },
        files.checked,
        files.bytes,
        files.deleted
    );
    ExitCode::SUCCESS
}

/// `logwarden journal`: matching records as a table, or their exact bytes.
fn query_journal(cfg: &Config, q: &crate::journal::Query, json: bool) -> ExitCode {
    let mut bytes = Vec::new();
    for path in crate::journal::files(&cfg.state_dir) {
        match crate::journal::read(&path) {
            Ok(b) => bytes.extend_from_slice(&b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                eprintln!("logwarden journal: cannot read {}: {e}", path.display());
                return ExitCode::from(1);
            }
        }
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if !json {
        let _ = writeln!(
            w,
            "{:<20} {:<18} {:<6} {:<40} DETAIL",
            "TIME (UTC)", "ACTION", "STATUS", "RESOURCE"
        );
    }
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Some(r) = q.matches(line) else { continue };
        let res = if json {
            w.write_all(line).and_then(|()| w.write_all(b"\n"))
        } else {
            writeln!(
                w,
                "{:<20} {:<18} {:<6} {:<40} {}",
                r.ts.get(..19).unwrap_or(&r.ts).replace('T', " "),
                r.action,
                r.status,
                r.resource,
                r.detail
            )
        };
        if res.is_err() {
            break; // a closed pipe (| head)
        }
    }
    let _ = w.flush();
    ExitCode::SUCCESS
}

/// A progress spinner on stderr for long operations; indicatif draws it
/// only when stderr is a terminal, so scripts and pipes see nothing.
fn spinner(what: &str, counts_bytes: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    let template = if counts_bytes {
        "{spinner} {prefix} {bytes} {msg} [{elapsed}]"
    } else {
        "{spinner} {prefix} [{elapsed}]"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// `logwarden status`: the table, or the JSON report.
fn status(cfg: &Config, clock: &Clock, json: bool) -> ExitCode {
    let r = crate::status::report(cfg, clock.now());
    let out = if json {
        match serde_json::to_string_pretty(&r) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("logwarden status: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        crate::status::table(&r)
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}

/// `logwarden cat`: a source's history to stdout.
fn cat(
    cfg: &Config,
    clock: &Clock,
    source: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> ExitCode {
    let Some(src) = cfg.source(source) else {
        let names: Vec<&str> = cfg.sources.iter().map(|s| s.name.as_str()).collect();
        eprintln!(
            "logwarden cat: no source {source:?} in {}; the sources are: {}",
            cfg.path.display(),
            names.join(", ")
        );
        return ExitCode::from(1);
    };
    let now = clock.now();
    let when = |t: Option<&str>, what: &str| {
        t.map(|t| crate::journal::parse_time(t, now))
            .transpose()
            .map_err(|e| format!("--{what}: {e}"))
    };
    let (since, until) = match (when(since, "since"), when(until, "until")) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("logwarden cat: {e}");
            return ExitCode::from(2);
        }
    };
    let parts = match crate::mirror::history::parts(cfg, src, since, until, now) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("logwarden cat: cannot list the history of {source}: {e}");
            return ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    match crate::mirror::history::cat(&parts, &mut w).and_then(|_| w.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logwarden cat: {e}");
            ExitCode::from(1)
        }
    }
}

/// `logwarden redact`: stdin through the configured redactor to stdout; the
/// counts go to stderr.
fn redact_stdin(cfg: &Config, explain: bool) -> ExitCode {
    let salt = match cfg.redact.mask {
        crate::config::Mask::Sha256 => {
            match state::ensure_dir(&cfg.state_dir)
                .and_then(|()| crate::redact::load_or_create_salt(&cfg.state_dir))
            {
                Ok(s) => s,
                Err(e) => {
                    eprintln!(
                        "logwarden: mask = \"sha256\" needs the salt in {}: {e}",
                        cfg.state_dir.display()
                    );
                    return ExitCode::from(1);
                }
            }
        }
        crate::config::Mask::Text(_) => [0; 32],
    };
    let r = crate::redact::Redactor::new(&cfg.redact, salt);
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match crate::redact::filter_with(stdin, stdout, &r, cfg.redact.max_line_bytes, explain) {
        Ok(c) => {
            let keys: Vec<String> = c.by_key.iter().map(|(k, n)| format!("{k}={n}")).collect();
            eprintln!(
                "logwarden: {} line(s), {} redacted, {} cut for length{}{}",
                c.lines,
                c.redacted_lines,
                c.cut_lines,
                if keys.is_empty() { "" } else { "; " },
                keys.join(" ")
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logwarden: redact: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(cfg: &Config) {
    let filter = std::env::var("LOGWARDEN_LOG")
        .ok()
        .or_else(|| cfg.log_level.clone())
        .unwrap_or_else(|| "info".to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn describe_schedule(s: &Schedule, zone: Zone) -> String {
    let z = match zone {
        Zone::Local => "local".to_string(),
        Zone::Named(tz) => tz.name().to_string(),
    };
    match s {
        Schedule::Daily { at } => format!("daily at {} ({z})", at.format("%H:%M")),
        Schedule::Hourly => format!("hourly ({z})"),
        Schedule::Every(d) => format!("every {}", humantime::format_duration(*d)),
    }
}

fn human_size(n: u64) -> String {
    bytesize::ByteSize::b(n).display().iec().to_string()
}

fn check(cfg: &Config, clock: &Clock) -> ExitCode {
    let now = clock.now();
    let mut out = String::new();
    let mut problems = 0;
    let files: Vec<String> = cfg.files.iter().map(|p| p.display().to_string()).collect();
    out.push_str(&format!("config: {}\n", files.join(", ")));
    out.push_str(&format!("state_dir: {}\n", cfg.state_dir.display()));
    out.push_str(&describe_redaction(&cfg.redact));
    for src in &cfg.sources {
        let p = &src.policy;
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
                crate::mirror::output_dir(cfg, src).display(),
                match src.raw_max_age {
                    Some(d) => format!(
                        "kept {} after they are drained",
                        humantime::format_duration(d)
                    ),
                    None => "discarded once drained".into(),
                }
            ));
        }
        let next = p.schedule.next_cut(p.zone, now);
        out.push_str(&format!(
            "  schedule:  {}; next cut {}{}\n",
            describe_schedule(&p.schedule, p.zone),
            next.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z"),
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
            if p.create { "; create" } else { "" }
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
        match engine::live_files(src) {
            Ok(found) => {
                let inodes = found.live.iter().map(|(_, m)| (m.dev, m.ino)).collect();
                let holders = Holders::scan(&inodes);
                if found.live.is_empty() {
                    out.push_str("  files:     none match now\n");
                }
                let mut hook_warnings = Vec::new();
                for (name, m) in &found.live {
                    let path = src.dir.join(name);
                    let (facts, check) = engine::cut_facts(src, &holders, &path, m);
                    let c = rotate::choose(p.strategy, &facts);
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
            }
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
    let jr: engine::SharedJournal = Arc::new(Mutex::new(Journal::log_only()));
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
    let _ = std::io::stdout().write_all(out.as_bytes());
    if problems > 0 {
        eprintln!("logwarden: {problems} source(s) cannot be used as configured");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
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
    use crate::reopen::{Facts as HookFacts, PidFile};
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
            crate::reopen::fix(&facts)
        ));
    }
    for w in warnings {
        out.push_str(&format!(
            "  warning:   {w}; auto copy-truncates instead; {}\n",
            crate::reopen::fix(&facts)
        ));
    }
    out
}

/// How long `logwarden rotate` waits for another one-shot `rotate` holding
/// the state lock before it gives up.
const ROTATE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

fn rotate_now(cfg: &Config, clock: &Clock, source: Option<String>, dry_run: bool) -> ExitCode {
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
            }) => return ask_daemon(&cfg.state_dir, pid, source.as_deref()),
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

fn ask_daemon(state_dir: &Path, pid: u32, source: Option<&str>) -> ExitCode {
    let req = state_dir.join(crate::daemon::ROTATE_REQUEST);
    if let Err(e) = std::fs::write(&req, source.unwrap_or("*")) {
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
    ExitCode::SUCCESS
}
