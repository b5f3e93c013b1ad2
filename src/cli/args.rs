//! The argument definitions (clap derive), apart from what each command
//! does: `logwarden --help`, the man pages and the completions
//! ([`super::generate`]) all come from here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::DEFAULT_PATH;

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
    /// Validate the config and print the resolved plan; exit 1 on any error,
    /// or when logrotate's config also rotates a file logwarden rotates.
    Check {
        /// logrotate's config, checked for files both would rotate.
        #[arg(long, value_name = "PATH", default_value = crate::logrotate::DEFAULT_CONF)]
        logrotate: PathBuf,
    },
    /// Convert logrotate's config (-c/--config, default /etc/logrotate.conf)
    /// into logwarden drop-ins, one per logrotate file; exit 1 listing every
    /// block that could not be imported faithfully.
    ImportLogrotate {
        /// Where the drop-ins go.
        #[arg(long, value_name = "DIR", default_value = "/etc/logwarden/conf.d")]
        out: PathBuf,
        /// logrotate's status file: each imported file's last rotation
        /// becomes its last cut in logwarden's state (see --logwarden-config).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// logwarden's config, for the state directory --state seeds.
        #[arg(long, value_name = "FILE", default_value = DEFAULT_PATH)]
        logwarden_config: PathBuf,
        /// Print the drop-ins; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rotate now: cut, compress, apply retention. Asks a running daemon
    /// (SIGUSR1) when one holds the state lock, else does the work itself.
    Rotate {
        /// Only this source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Show what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With a running daemon: return once it was asked, without waiting
        /// for its answer.
        #[arg(long)]
        no_wait: bool,
        /// With a running daemon: how long to wait for its answer.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
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
        /// Verify an evidence bundle (`logwarden export`) instead, at any
        /// path, on any machine: needs no config.
        #[arg(long, value_name = "DIR", conflicts_with = "paths")]
        bundle: Option<PathBuf>,
        /// A relocated copy of the installation (a restored backup of
        /// state_dir and the archive directories under DIR): the journal is
        /// read from DIR/<state_dir> and every path it names under DIR.
        #[arg(long, value_name = "DIR", conflicts_with = "bundle")]
        root: Option<PathBuf>,
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
        /// Only records whose actor matches this glob (`*SIGHUP*`, `saved*`).
        #[arg(long, value_name = "GLOB")]
        actor: Option<String>,
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
    /// The central side: read shipped journal lines (files or stdin) from
    /// any number of hosts and report a rewound or rewritten chain, a lower
    /// base_seq, a bad signature, a chain break, or a host silent too long;
    /// exit 1 on any finding. Needs no config.
    Witness {
        /// Where the highest checkpoint per host is kept between runs.
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// A host's public key (repeat): its checkpoints must be signed.
        #[arg(long = "public-key", value_name = "HOST=KEY")]
        public_keys: Vec<String>,
        /// A host without a checkpoint for longer is reported.
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
        max_silence: std::time::Duration,
        /// One JSON object per finding (for alerting).
        #[arg(long)]
        json: bool,
        /// Shipped journal lines (`-`: stdin, the default).
        #[arg(value_name = "INPUT")]
        inputs: Vec<PathBuf>,
    },
    /// Write an evidence bundle for a period: its archives, the journal
    /// records around it, the config versions and public key, a manifest
    /// and a README for whoever receives it.
    Export {
        /// The period's start (RFC 3339, YYYY-MM-DD, or an age such as 7d).
        #[arg(long, value_name = "T")]
        since: String,
        /// The period's end (same forms).
        #[arg(long, value_name = "T")]
        until: String,
        /// Only these sources (repeat; default all).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// The bundle's directory (new or empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// The config versions in force over time, from the journal, and the
    /// exact text of any of them.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `logwarden config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// One line per version read at a start or a reload (time, version
    /// hash, actor, what changed); refused edits too, marked.
    History {
        /// Not before T (RFC 3339, YYYY-MM-DD, or an age such as 7d).
        #[arg(long, value_name = "T")]
        since: Option<String>,
    },
    /// Print the exact text of a version (by its hash, or a prefix of it)
    /// or of the version in force at T.
    Show {
        #[arg(value_name = "HASH", required_unless_present = "at")]
        hash: Option<String>,
        /// The version in force at T (same forms as --since).
        #[arg(long, value_name = "T", conflicts_with = "hash")]
        at: Option<String>,
    },
}
