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
