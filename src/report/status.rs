//! `logwarden status`: per source and file, what an operator asks first —
//! how big, how far behind the mirror is, when it was and will be cut and
//! how, what the archives hold, what was redacted today, what last failed.
//!
//! Two halves. The daemon *publishes* what only it knows (lag in seconds,
//! today's redaction counts, its pid and checkpoint age) to
//! `state_dir/status.json`, atomically, every couple of seconds and at stop.
//! The command *reads* the rest from disk — the files, `state.json`,
//! `tail.json`, the archives, the journal — so it works the same whether the
//! daemon runs or not, and says which.
//!
//! `--json` prints [`Report`]; its fields are documented in README.md and
//! only ever added to (`version` changes if one must change meaning).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Mode, Source};
use crate::ingest::mirror::FileLag;
use crate::report::inventory::Archives;
use crate::sys::metrics::{LastError, Today};

/// The published file, in `state_dir`.
pub const FILE: &str = "status.json";
const TMP: &str = ".status.json.tmp";
const VERSION: u32 = 1;

/// What the daemon publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    pub version: u32,
    pub pid: u32,
    pub started: DateTime<Utc>,
    pub published: DateTime<Utc>,
    /// False once the daemon stopped (its last words).
    pub running: bool,
    pub watched_files: u64,
    pub checkpoint_age_seconds: Option<f64>,
    pub lag: Vec<FileLag>,
    pub today: Today,
    pub last_errors: BTreeMap<String, LastError>,
}

/// Publish atomically (temp, fsync, rename).
pub fn publish(state_dir: &Path, p: &Published) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(p).map_err(std::io::Error::other)?;
    crate::state::write_atomic(state_dir, TMP, FILE, &bytes)
}

/// What the daemon last published, if anything readable.
pub fn load(state_dir: &Path) -> Option<Published> {
    let bytes = std::fs::read(state_dir.join(FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub generated: DateTime<Utc>,
    pub state_dir: PathBuf,
    pub daemon: Daemon,
    pub sources: Vec<SourceStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Daemon {
    pub running: bool,
    pub pid: Option<u32>,
    pub started: Option<DateTime<Utc>>,
    /// When the figures that only the daemon knows were published.
    pub published: Option<DateTime<Utc>>,
    pub watched_files: Option<u64>,
    pub checkpoint_age_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub mode: String,
    pub dir: PathBuf,
    /// Mirror mode: where the mirror is.
    pub output_dir: Option<PathBuf>,
    pub files: Vec<FileStatus>,
    pub archives: Archives,
    /// Mirror mode: cut mirrors kept uncompressed for the shipper
    /// (`ship_grace`), oldest first: what a shipper outage has left to read.
    pub waiting_for_shipper: Vec<Shipping>,
    pub redactions_today: BTreeMap<String, u64>,
    pub last_error: Option<LastError>,
    /// Why the source's directory cannot be read, if it cannot.
    pub problem: Option<String>,
}

/// A cut mirror the shipper may still be reading.
#[derive(Debug, Clone, Serialize)]
pub struct Shipping {
    pub name: String,
    pub bytes: u64,
    /// When its `ship_grace` ends and it is compressed.
    pub until: DateTime<Utc>,
}

/// The cut, still uncompressed mirrors of `src` in `dir` within their ship grace.
pub fn waiting_for_shipper(dir: &Path, src: &Source, now: DateTime<Utc>) -> Vec<Shipping> {
    use std::os::unix::fs::MetadataExt;
    let grace = src.policy.effective_ship_grace(now);
    let mut v: Vec<(crate::policy::archive::Archive, Shipping)> = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in rd.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some(arch) =
            crate::policy::archive::parse_any(&name).filter(|x| !x.gz && src.matches(&x.base))
        else {
            continue;
        };
        let Ok(m) = e.metadata() else { continue };
        let age = crate::rotation::rotate::since(m.ctime());
        if !m.is_file() || age >= grace {
            continue;
        }
        let left = chrono::Duration::from_std(grace - age).unwrap_or_default();
        v.push((
            arch,
            Shipping {
                name,
                bytes: m.len(),
                until: now + left,
            },
        ));
    }
    v.sort_by(|a, b| a.0.cut_order(&b.0));
    v.into_iter().map(|(_, s)| s).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub mirror_path: Option<PathBuf>,
    pub mirror_size: Option<u64>,
    /// Bytes of the file not yet in the mirror (mirror mode).
    pub lag_bytes: Option<u64>,
    /// How long they have waited (known only while the daemon runs).
    pub lag_seconds: Option<f64>,
    pub last_cut: Option<DateTime<Utc>>,
    pub next_cut: DateTime<Utc>,
    /// The strategy of the last cut and why it was chosen.
    pub strategy: Option<String>,
    pub strategy_reason: Option<String>,
}

/// Gather the report from disk and the published state.
pub fn report(cfg: &Config, now: DateTime<Utc>) -> Report {
    let holder = crate::state::lock_holder(&cfg.state_dir);
    let published = load(&cfg.state_dir);
    let live = published
        .as_ref()
        .filter(|p| p.running && Some(p.pid) == holder);
    let (state, _) = crate::state::State::load_read_only(&cfg.state_dir);
    let (tail, _) = crate::ingest::mirror::checkpoint::Checkpoint::load_readonly(&cfg.state_dir);
    let facts = journal_facts(&cfg.state_dir);
    let today = Local::now().date_naive();
    let sources = cfg
        .sources
        .iter()
        .map(|src| {
            let mut s = source_status(cfg, src, &state, &tail, live, now);
            s.last_error = facts.errors.get(&src.name).cloned();
            // A file that was renamed away and came back has no cut in the
            // schedule state: the journal still knows its last one.
            for f in s.files.iter_mut().filter(|f| f.last_cut.is_none()) {
                if let Some((ts, strategy, reason)) = facts.cuts.get(&f.path) {
                    f.last_cut = Some(*ts);
                    f.strategy = Some(strategy.clone());
                    f.strategy_reason = Some(reason.clone());
                }
            }
            if let Some(p) = published.as_ref().filter(|p| p.today.date == Some(today)) {
                s.redactions_today = p
                    .today
                    .by_source
                    .get(&src.name)
                    .cloned()
                    .unwrap_or_default();
            }
            s
        })
        .collect();
    Report {
        version: VERSION,
        generated: now,
        state_dir: cfg.state_dir.clone(),
        daemon: Daemon {
            running: holder.is_some(),
            pid: holder,
            started: live.map(|p| p.started),
            published: published.as_ref().map(|p| p.published),
            watched_files: live.map(|p| p.watched_files),
            checkpoint_age_seconds: live.and_then(|p| {
                let since = (now - p.published).num_milliseconds().max(0) as f64 / 1000.0;
                p.checkpoint_age_seconds.map(|a| a + since)
            }),
        },
        sources,
    }
}

fn source_status(
    cfg: &Config,
    src: &Source,
    state: &crate::state::State,
    tail: &crate::ingest::mirror::checkpoint::Checkpoint,
    live: Option<&Published>,
    now: DateTime<Utc>,
) -> SourceStatus {
    let mirror = src.policy.mode == Mode::Mirror;
    let out = mirror.then(|| crate::ingest::mirror::output_dir(cfg, src));
    let mut s = SourceStatus {
        name: src.name.clone(),
        mode: if mirror { "mirror" } else { "rotate" }.to_string(),
        dir: src.dir.clone(),
        output_dir: out.clone(),
        files: Vec::new(),
        archives: archives(out.as_deref().unwrap_or(&src.dir), src),
        waiting_for_shipper: out
            .as_deref()
            .map(|o| waiting_for_shipper(o, src, now))
            .unwrap_or_default(),
        redactions_today: BTreeMap::new(),
        last_error: None,
        problem: None,
    };
    let found = match crate::ingest::discover::live_files(src) {
        Ok(f) => f,
        Err(e) => {
            s.problem = Some(e);
            return s;
        }
    };
    let ck = tail.sources.get(&src.name);
    for (name, meta) in &found.live {
        let entry = state.files.get(&crate::state::key(&src.name, name));
        let p = &src.policy;
        let next_cut = p.schedule.next_cut(p.zone, entry.map_or(now, |e| e.anchor));
        let mut f = FileStatus {
            name: name.clone(),
            path: src.dir.join(name),
            size: meta.size,
            mirror_path: out.as_ref().map(|o| o.join(name)),
            mirror_size: None,
            lag_bytes: None,
            lag_seconds: None,
            last_cut: entry.and_then(|e| e.last_cut),
            next_cut,
            strategy: entry.and_then(|e| e.last_strategy.clone()),
            strategy_reason: entry.and_then(|e| e.last_reason.clone()),
        };
        if let Some(o) = &out {
            f.mirror_size = std::fs::metadata(o.join(name)).ok().map(|m| m.len());
            // Bytes of this inode not yet in the mirror, as of the last save
            // (every 250 ms while lines flow); a file never read is all lag.
            let offset = ck
                .and_then(|c| {
                    c.inputs
                        .iter()
                        .find(|i| i.dev == meta.dev && i.ino == meta.ino)
                })
                .map_or(0, |i| i.offset);
            f.lag_bytes = Some(meta.size.saturating_sub(offset));
        }
        if let Some(l) = live.and_then(|p| {
            p.lag
                .iter()
                .find(|l| l.source == src.name && l.file == *name)
        }) {
            f.lag_bytes = Some(l.lag_bytes);
            f.lag_seconds = Some(l.lag_seconds);
        }
        s.files.push(f);
    }
    s
}

/// Count the archives of `src`'s files in `dir`.
pub fn archives(dir: &Path, src: &Source) -> Archives {
    crate::report::inventory::inventory(dir, |base| src.matches(base))
}

/// What the live journal file says: the last failed record per source (""
/// for none) and the last cut of each file path.
#[derive(Default)]
struct JournalFacts {
    errors: BTreeMap<String, LastError>,
    cuts: BTreeMap<PathBuf, (DateTime<Utc>, String, String)>,
}

fn journal_facts(state_dir: &Path) -> JournalFacts {
    let mut out = JournalFacts::default();
    let Ok(bytes) = std::fs::read(state_dir.join(crate::journal::FILE_NAME)) else {
        return out;
    };
    for line in bytes.split(|b| *b == b'\n') {
        let failed = memchr::memmem::find(line, b"\"status\":\"failed\"").is_some();
        if !failed && memchr::memmem::find(line, b"\"action\":\"rotate\"").is_none() {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if !failed {
            let ts = v["ts"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            let reason = v["reason"].as_str().unwrap_or("");
            // A cut of a live file whose reopen hook worked (or was not
            // needed) clears the source's last reopen error.
            let source = v["source"].as_str().unwrap_or("");
            if reason != crate::ingest::mirror::MIRROR_CUT_REASON
                && !crate::rotation::reopen::is_hook_problem(reason)
                && out.errors.get(source).is_some_and(|e| e.action == "reopen")
            {
                out.errors.remove(source);
            }
            if let (Some(ts), Some(p)) = (ts, v["resource"]["path"].as_str()) {
                out.cuts.insert(
                    PathBuf::from(p),
                    (
                        ts.with_timezone(&Utc),
                        v["strategy"].as_str().unwrap_or("").to_string(),
                        reason.to_string(),
                    ),
                );
            }
            continue;
        }
        let source = v["source"].as_str().unwrap_or("").to_string();
        out.errors.insert(
            source,
            LastError {
                ts: v["ts"]
                    .as_str()
                    .unwrap_or("")
                    .get(..19)
                    .unwrap_or("")
                    .to_string()
                    + "Z",
                action: v["action"].as_str().unwrap_or("").to_string(),
                error: v["error"].as_str().unwrap_or("").to_string(),
            },
        );
    }
    out
}

/// The report as an aligned table for an 80-column terminal.
pub fn table(r: &Report) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let d = &r.daemon;
    let _ = match (d.running, d.pid) {
        (true, Some(pid)) => writeln!(
            o,
            "daemon: running, pid {pid}{}{}{}",
            d.started
                .map(|t| format!(", since {}", local(t)))
                .unwrap_or_default(),
            d.watched_files
                .map(|n| format!(", {n} file(s) watched"))
                .unwrap_or_default(),
            d.checkpoint_age_seconds
                .map(|a| format!(", last checkpoint {}s ago", a.round()))
                .unwrap_or_default(),
        ),
        _ => writeln!(
            o,
            "daemon: not running (figures below are from disk{})",
            d.published
                .map(|t| format!("; last published {}", local(t)))
                .unwrap_or_default()
        ),
    };
    for s in &r.sources {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{} ({}) {}{}",
            s.name,
            s.mode,
            s.dir.display(),
            s.output_dir
                .as_ref()
                .map(|d| format!(" -> {}", d.display()))
                .unwrap_or_default()
        );
        if let Some(p) = &s.problem {
            let _ = writeln!(o, "  cannot read the directory: {p}");
        }
        if !s.files.is_empty() {
            let _ = writeln!(
                o,
                "  {:<20} {:>9} {:>14} {:<11} {:<11} STRATEGY",
                "FILE", "SIZE", "MIRROR LAG", "LAST CUT", "NEXT CUT"
            );
        }
        for f in &s.files {
            let lag = match (f.lag_bytes, f.lag_seconds) {
                (Some(b), Some(t)) => format!("{}/{:.0}s", bytes(b), t),
                (Some(b), None) => bytes(b),
                _ => "-".into(),
            };
            let _ = writeln!(
                o,
                "  {:<20} {:>9} {:>14} {:<11} {:<11} {}",
                clip(&f.name, 20),
                bytes(f.size),
                lag,
                f.last_cut.map_or("-".into(), short),
                short(f.next_cut),
                f.strategy.as_deref().unwrap_or("-")
            );
            if let Some(why) = &f.strategy_reason {
                let _ = writeln!(o, "    {}", clip(&format!("why: {why}"), 76));
            }
        }
        let _ = writeln!(
            o,
            "  archives: {} ({}){}",
            s.archives.count,
            bytes(s.archives.bytes),
            s.archives
                .oldest
                .as_ref()
                .map(|n| format!(", oldest {n}"))
                .unwrap_or_default()
        );
        if let Some(first) = s.waiting_for_shipper.first() {
            let total: u64 = s.waiting_for_shipper.iter().map(|w| w.bytes).sum();
            let _ = writeln!(
                o,
                "  {}",
                clip(
                    &format!(
                        "for the shipper: {} cut mirror(s), {}, uncompressed until {} (oldest {})",
                        s.waiting_for_shipper.len(),
                        bytes(total),
                        short(first.until),
                        first.name
                    ),
                    78
                )
            );
        }
        if !s.redactions_today.is_empty() {
            let keys: Vec<String> = s
                .redactions_today
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            let _ = writeln!(o, "  redactions today: {}", keys.join(" "));
        }
        if let Some(e) = &s.last_error {
            let _ = writeln!(
                o,
                "  {}",
                clip(
                    &format!("last error: {} {}: {}", e.ts, e.action, e.error),
                    78
                )
            );
        }
    }
    o
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

fn short(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%m-%d %H:%M").to_string()
}

fn bytes(n: u64) -> String {
    bytesize::ByteSize::b(n).display().iec_short().to_string()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}
