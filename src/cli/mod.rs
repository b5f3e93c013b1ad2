//! The command line: argument definitions (clap) and one function per
//! command. Commands print for people on stdout, problems on stderr, and
//! return the exit code: 0 on success, 1 when something is wrong (a config
//! error, a failed cut), 2 for usage errors (clap's own).

//!
//! `args` holds the clap definitions, `generate` renders man pages and
//! completions from them; each command's code is in the file named after
//! it (`check`, `rotate`, `verify`), the small ones here.

mod args;
mod check;
mod config_cmd;
mod export;
pub mod generate;
mod import;
mod rotate;
mod verify;
mod witness;

use std::io::Write;
use std::process::ExitCode;

use crate::config::Config;
use crate::state;
use crate::sys::clock::Clock;

pub use args::{Cli, Command, ConfigCommand};

/// Parse arguments and run.
pub fn main() -> ExitCode {
    #[cfg(feature = "failpoints")]
    let _crash_points = crate::sys::crash::setup();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(code) = without_config(&cli, &matches) {
        return code;
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
        Command::Generate { dir } => generate::run(&dir), // handled above
        Command::ImportLogrotate { .. } | Command::Witness { .. } => ExitCode::SUCCESS, // handled above
        Command::Run => match crate::runtime::daemon::run(cfg, clock) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("logwarden: {e:#}");
                ExitCode::from(1)
            }
        },
        Command::Check { logrotate } => check::check(&cfg, &clock, &logrotate),
        Command::Rotate {
            source,
            dry_run,
            no_wait,
            timeout,
        } => rotate::rotate_now(&cfg, &clock, source, dry_run, (!no_wait).then_some(timeout)),
        Command::Redact { explain } => redact_stdin(&cfg, explain),
        Command::Status { json } => status(&cfg, &clock, json),
        Command::Cat {
            source,
            since,
            until,
        } => cat(&cfg, &clock, &source, since.as_deref(), until.as_deref()),
        Command::Export {
            since,
            until,
            sources,
            out,
        } => export::export(
            &cfg,
            &clock,
            &export::Ask {
                since: &since,
                until: &until,
                sources: &sources,
                out: &out,
            },
        ),
        Command::Verify {
            paths,
            public_key,
            tip,
            root,
            ..
        } => verify::verify(
            &cfg,
            &paths,
            public_key.as_deref(),
            tip.as_deref(),
            root.as_deref(),
        ),
        Command::Keygen => keygen(&cfg),
        Command::Config { command } => config_cmd::run(&cfg, &clock, command),
        Command::Journal {
            action,
            resource,
            status,
            actor,
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
            )
            .and_then(|q| q.actor(actor.as_deref()))
            {
                Ok(q) => q,
                Err(e) => {
                    eprintln!("logwarden journal: {e}");
                    return ExitCode::from(2);
                }
            };
            verify::query_journal(&cfg, &q, json)
        }
    }
}

/// `logwarden keygen`: a signing key pair in state_dir.
fn keygen(cfg: &Config) -> ExitCode {
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

/// The commands that read no logwarden config: `generate` (packaging runs
/// it where none is installed), `import-logrotate` (its -c is logrotate's),
/// `witness` and `verify --bundle` (run off the host).
fn without_config(cli: &Cli, matches: &clap::ArgMatches) -> Option<ExitCode> {
    // Reads no config: packaging runs it where none is installed.
    if let Command::Generate { dir } = &cli.command {
        return Some(generate::run(dir));
    }
    if let Command::ImportLogrotate { .. } = &cli.command {
        return Some(import::from_cli(cli, matches));
    }
    if let Command::Witness {
        state,
        public_keys,
        max_silence,
        json,
        inputs,
    } = &cli.command
    {
        return Some(witness::run(&witness::Ask {
            state,
            keys: public_keys,
            max_silence: *max_silence,
            json: *json,
            inputs,
        }));
    }
    // A bundle is verified anywhere: no config needed.
    if let Command::Verify {
        bundle: Some(dir),
        public_key,
        ..
    } = &cli.command
    {
        return Some(export::verify_bundle(dir, public_key.as_deref()));
    }
    None
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
    let r = crate::report::status::report(cfg, clock.now());
    let out = if json {
        match serde_json::to_string_pretty(&r) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("logwarden status: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        crate::report::status::table(&r)
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
    let parts = match crate::ingest::mirror::history::parts(cfg, src, since, until, now) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("logwarden cat: cannot list the history of {source}: {e}");
            return ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    match crate::ingest::mirror::history::cat(&parts, &mut w).and_then(|_| w.flush()) {
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
