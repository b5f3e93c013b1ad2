//! `logwarden verify` and `logwarden journal`: the read side of the journal.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;

use super::spinner;

/// `logwarden verify`: check the journal's chain across its files (or the
/// PATHs given, as one chain in that order), its checkpoints (signatures
/// too, with a key), and the files it vouches for.
pub(super) fn verify(
    cfg: &Config,
    paths: &[PathBuf],
    public_key: Option<&str>,
    tip: Option<&str>,
    root: Option<&std::path::Path>,
) -> ExitCode {
    let key = match public_key
        .map(crate::journal::sign::parse_public)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("logwarden verify: --public-key: {e}");
            return ExitCode::from(2);
        }
    };
    let tip = match tip.map(parse_tip).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("logwarden verify: {e}");
            return ExitCode::from(2);
        }
    };
    let paths: Vec<PathBuf> = if paths.is_empty() {
        let state_dir =
            crate::journal::files::relocated(root, &cfg.state_dir.display().to_string());
        crate::journal::files(std::path::Path::new(&state_dir))
    } else {
        paths.to_vec()
    };
    let w = match walk(&paths, key).and_then(|w| w.accounted(tip.as_ref(), &paths).map(|()| w)) {
        Ok(w) => w,
        Err(why) => {
            eprintln!("logwarden verify: {why}");
            return ExitCode::from(1);
        }
    };
    let bar = spinner("verifying", true);
    let files = crate::journal::files::verify_files_at(&w.all, root, &mut |path, n| {
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
        "ok: {} journal file(s), {} record(s), _seq {}..{}, {} .. {}, {} bytes; tip {}; {} checkpoint(s){}; {} file(s) checked ({} bytes), {} deleted by retention",
        paths.len(),
        w.records,
        w.base.as_ref().map_or(1, |b| b.0 + 1),
        w.end.0,
        w.first_ts.as_deref().unwrap_or("-"),
        w.last_ts.as_deref().unwrap_or("-"),
        w.all.len(),
        w.end.1,
        w.checkpoints,
        if w.key.is_some() { " signed" } else { "" },
        files.checked,
        files.bytes,
        files.deleted
    );
    ExitCode::SUCCESS
}

/// `--tip SEQ:HASH`.
fn parse_tip(t: &str) -> Result<(u64, String), &'static str> {
    t.split_once(':')
        .and_then(|(s, h)| Some((s.parse::<u64>().ok()?, h.to_string())))
        .ok_or("--tip takes SEQ:HASH, as a checkpoint record's tip_seq and tip_hash")
}

/// The journal files read as one chain.
struct Walked {
    /// Every file's bytes, in order.
    all: Vec<u8>,
    /// The last record: `_seq` and hash.
    end: (u64, String),
    /// Where a chain that starts past `_seq` 1 begins (its head deleted by
    /// retention, which a retained record must then say).
    base: Option<(u64, String)>,
    records: u64,
    checkpoints: u64,
    first_ts: Option<String>,
    last_ts: Option<String>,
    /// The key the last file committed (forward security), or the one given.
    key: Option<ed25519_dalek::VerifyingKey>,
}

/// Verify the chain across `paths`, each file signed by the key the one
/// before committed; every archived file must end by naming itself.
fn walk(paths: &[PathBuf], mut key: Option<ed25519_dalek::VerifyingKey>) -> Result<Walked, String> {
    let mut w = Walked {
        all: Vec::new(),
        end: (0, crate::journal::GENESIS.to_string()),
        base: None,
        records: 0,
        checkpoints: 0,
        first_ts: None,
        last_ts: None,
        key: None,
    };
    for (i, p) in paths.iter().enumerate() {
        let bytes =
            crate::journal::read(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
        if i == 0 {
            let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            if let Some((seq, prev)) = crate::journal::head_of(first).filter(|h| h.0 > 1) {
                w.end = (seq - 1, prev);
                w.base = Some(w.end.clone());
            }
        }
        let c = crate::journal::verify_chain_with(&bytes, (w.end.0, &w.end.1), key.as_ref())
            .map_err(|b| format!("{}:{}: {}", p.display(), b.line, b.why))?;
        if i + 1 < paths.len() && !names_itself(p, &bytes) {
            return Err(format!(
                "{}: its last record is not the journal.rotate that names it (renamed, replaced or cut)",
                p.display()
            ));
        }
        w.records += c.records;
        w.checkpoints += c.checkpoints;
        if w.first_ts.is_none() {
            w.first_ts = c.first_ts.clone();
        }
        if c.last_ts.is_some() {
            w.last_ts = c.last_ts.clone();
        }
        w.end = (c.last_seq, c.tip.clone());
        // Forward security: the next file is signed by the key this one committed.
        if let Some(k) = c.key.as_deref() {
            key = crate::journal::sign::parse_public(k).ok();
        }
        w.all.extend_from_slice(&bytes);
    }
    w.key = key;
    Ok(w)
}

/// Whether an archived journal file ends with the `journal.rotate` record
/// that names it (a file renamed or swapped in from elsewhere does not).
fn names_itself(p: &std::path::Path, bytes: &[u8]) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let last = bytes.split(|b| *b == b'\n').rev().find(|l| !l.is_empty());
    last.and_then(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .is_some_and(|v| v["action"] == "journal.rotate" && v["new"] == name)
}

impl Walked {
    /// The shipped tip is in the chain, and a chain that starts past `_seq`
    /// 1 has the deletion of its head on record.
    fn accounted(&self, tip: Option<&(u64, String)>, paths: &[PathBuf]) -> Result<(), String> {
        if let Some((seq, hash)) = tip {
            if !crate::journal::contains(&self.all, *seq, hash) {
                return Err(format!(
                    "the journal does not contain the shipped tip _seq {seq} ({hash}): it was truncated or rewritten after it"
                ));
            }
        }
        if let Some((seq, hash)) = &self.base {
            if !crate::journal::retain::deletion_of(&self.all, *seq, hash) {
                return Err(format!(
                    "{}: the chain starts at _seq {} but no retained retention.delete record accounts for _seq 1..{seq} (ending in {hash}): the journal's head was deleted or replaced",
                    paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
                    seq + 1
                ));
            }
        }
        Ok(())
    }
}

/// `logwarden journal`: matching records as a table, or their exact bytes.
pub(super) fn query_journal(cfg: &Config, q: &crate::journal::Query, json: bool) -> ExitCode {
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
