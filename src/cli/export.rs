//! `logwarden export` writes an evidence bundle for a period; `logwarden
//! verify --bundle` checks one anywhere, needing nothing but the bundle
//! (and, for signatures, the public key given out of band).
//!
//! The journal records carried are the chain segment around the period
//! ([`crate::journal::bundle::segment`]); the archives are copied whole, as
//! made, and each is vouched for by a record of that segment (a `compress`
//! record's file hash, a `segment` record's content hash).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::SecondsFormat;

use crate::config::Config;
use crate::journal::bundle::{self, Entry, JournalPart, Manifest, Rec};
use crate::sys::clock::Clock;

/// What `export` was asked for.
pub(super) struct Ask<'a> {
    pub since: &'a str,
    pub until: &'a str,
    pub sources: &'a [String],
    pub out: &'a Path,
}

fn sha_file(p: &Path) -> Result<(String, u64), String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    crate::sys::digest::sha256(f).map_err(|e| format!("{}: {e}", p.display()))
}

/// Every journal line, in chain order.
fn journal_lines(cfg: &Config) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for p in crate::journal::files(&cfg.state_dir) {
        let bytes = crate::journal::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        out.extend(
            bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    Ok(out)
}

fn value(line: &[u8]) -> serde_json::Value {
    serde_json::from_slice(line).unwrap_or(serde_json::Value::Null)
}

pub(super) fn export(cfg: &Config, clock: &Clock, ask: &Ask<'_>) -> ExitCode {
    match export_inner(cfg, clock, ask) {
        Ok(m) => {
            println!(
                "wrote {}: {} file(s), journal _seq {}..{}, {} config version file(s){}",
                ask.out.display(),
                m.files.len(),
                m.journal.first_seq,
                m.journal.last_seq,
                m.config.len(),
                if m.keys.is_empty() {
                    ""
                } else {
                    ", public key(s)"
                }
            );
            for (name, seq) in &m.deleted {
                println!("not on the host any more: {name} (retention.delete, _seq {seq})");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logwarden export: {e}");
            ExitCode::from(1)
        }
    }
}

fn export_inner(cfg: &Config, clock: &Clock, ask: &Ask<'_>) -> Result<Manifest, String> {
    let now = clock.now();
    let since = crate::journal::parse_time(ask.since, now)?;
    let until = crate::journal::parse_time(ask.until, now)?;
    if until <= since {
        return Err("--until must be after --since".into());
    }
    let sources: Vec<&crate::config::Source> = if ask.sources.is_empty() {
        cfg.sources.iter().collect()
    } else {
        ask.sources
            .iter()
            .map(|n| {
                cfg.source(n)
                    .ok_or_else(|| format!("no source named {n:?}"))
            })
            .collect::<Result<_, _>>()?
    };
    if ask.out.exists() && std::fs::read_dir(ask.out).map_or(true, |mut d| d.next().is_some()) {
        return Err(format!("{} exists and is not empty", ask.out.display()));
    }
    std::fs::create_dir_all(ask.out.join("files")).map_err(|e| e.to_string())?;
    let files = copy_archives(cfg, &sources, (since, until), now, ask.out)?;
    // The journal segment that vouches for them and covers the period.
    let lines = journal_lines(cfg)?;
    let recs: Vec<Rec> = lines
        .iter()
        .map(|l| {
            let v = value(l);
            Rec {
                ts: v["ts"].as_str().unwrap_or("").to_string(),
                checkpoint: v["action"] == "checkpoint",
                hashes: ["file_sha256", "content_sha256"]
                    .iter()
                    .filter_map(|k| v[*k].as_str().map(str::to_string))
                    .collect(),
            }
        })
        .collect();
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let needed: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
    // Archives of the period that retention deleted: their records go too.
    let deletions: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| deleted_in_period(&value(l), &sources, since, until))
        .map(|(i, _)| i)
        .collect();
    let reach = deletions.iter().copied().max().unwrap_or(0);
    let (a, b) = bundle::segment(&recs, &fmt(since), &fmt(until), &needed, reach)
        .ok_or("the journal is empty")?;
    let seg = &lines[a..=b];
    let mut text = Vec::new();
    for l in seg {
        text.extend_from_slice(l);
        text.push(b'\n');
    }
    std::fs::write(ask.out.join("journal.ndjson"), &text).map_err(|e| e.to_string())?;
    let (first, last) = (value(&seg[0]), value(&seg[seg.len() - 1]));
    let journal = JournalPart {
        path: "journal.ndjson".into(),
        first_seq: first["_seq"].as_u64().unwrap_or(0),
        first_prev: first["_prev"].as_str().unwrap_or("").to_string(),
        last_seq: last["_seq"].as_u64().unwrap_or(0),
        last_hash: last["_hash"].as_str().unwrap_or("").to_string(),
    };
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let deleted = deletions
        .iter()
        .map(|&i| {
            let v = value(&lines[i]);
            (
                v["resource"]["path"].as_str().unwrap_or("?").to_string(),
                v["_seq"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // The config in force at the start, and every version read during it.
    let before = lines[..a]
        .iter()
        .rev()
        .find(|l| value(l)["config"].is_array());
    let config = copy_config(cfg, before.into_iter().chain(seg), ask.out)?;
    let mut keys = copy_keys(cfg, ask.out)?;
    keys.extend(key_chain(&lines[..a], ask.out)?);
    let m = Manifest {
        format: bundle::FORMAT.into(),
        host: rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
        since: fmt(since),
        until: fmt(until),
        sources: names.iter().map(|s| s.to_string()).collect(),
        journal,
        files,
        config,
        keys,
        deleted,
    };
    let json = serde_json::to_vec_pretty(&m).map_err(|e| e.to_string())?;
    std::fs::write(ask.out.join("manifest.json"), json).map_err(|e| e.to_string())?;
    std::fs::write(ask.out.join("README.txt"), readme(&m)).map_err(|e| e.to_string())?;
    Ok(m)
}

/// Every archive of `sources` whose period meets `[since, until)`, copied
/// whole into `out/files/<source>/`.
fn copy_archives(
    cfg: &Config,
    sources: &[&crate::config::Source],
    (since, until): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    now: chrono::DateTime<chrono::Utc>,
    out: &Path,
) -> Result<Vec<Entry>, String> {
    let mut files = Vec::new();
    for src in sources {
        let parts = crate::ingest::mirror::history::parts(cfg, src, Some(since), Some(until), now)
            .map_err(|e| format!("{}: {e}", src.name))?;
        let dir = out.join("files").join(&src.name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for part in parts {
            let Some(name) = part.path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if crate::policy::archive::parse_any(name).is_none() {
                continue; // a live file: still growing, not evidence yet
            }
            std::fs::copy(&part.path, dir.join(name))
                .map_err(|e| format!("{}: {e}", part.path.display()))?;
            let (sha256, size) = sha_file(&dir.join(name))?;
            files.push(Entry {
                path: format!("files/{}/{name}", src.name),
                original: part.path.display().to_string(),
                sha256,
                size,
            });
        }
    }
    Ok(files)
}

/// Whether `v` is the `retention.delete` of an archive of one of `sources`
/// whose period meets `[since, until)`.
fn deleted_in_period(
    v: &serde_json::Value,
    sources: &[&crate::config::Source],
    since: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> bool {
    if v["action"] != "retention.delete" {
        return false;
    }
    let Some(src) = sources
        .iter()
        .find(|s| v["source"].as_str() == Some(s.name.as_str()))
    else {
        return false;
    };
    let path = v["resource"]["path"].as_str().unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::policy::archive::parse_any(name)
        .and_then(|a| {
            crate::policy::retain::label_span(&a.label, &src.policy.schedule, src.policy.zone)
        })
        .is_some_and(|(start, end)| start < until && end > since)
}

/// The config texts the config records among `recs` name.
fn copy_config<'a>(
    cfg: &Config,
    recs: impl Iterator<Item = &'a Vec<u8>>,
    out: &Path,
) -> Result<Vec<Entry>, String> {
    let mut v = Vec::new();
    let dir = out.join("config");
    for l in recs {
        let r = value(l);
        for f in r["config"].as_array().into_iter().flatten() {
            let (Some(sha), Some(path)) = (f["sha256"].as_str(), f["path"].as_str()) else {
                continue;
            };
            if v.iter().any(|e: &Entry| e.sha256 == sha) {
                continue;
            }
            let Ok(text) = crate::config::version::text_of(&cfg.state_dir, sha) else {
                continue;
            };
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::fs::write(dir.join(sha), &text).map_err(|e| e.to_string())?;
            v.push(Entry {
                path: format!("config/{sha}"),
                original: path.to_string(),
                sha256: sha.to_string(),
                size: text.len() as u64,
            });
        }
    }
    Ok(v)
}

fn copy_keys(cfg: &Config, out: &Path) -> Result<Vec<Entry>, String> {
    let p = cfg.state_dir.join("signing.pub");
    if !p.exists() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(out.join("keys")).map_err(|e| e.to_string())?;
    std::fs::copy(&p, out.join("keys/signing.pub")).map_err(|e| e.to_string())?;
    let (sha256, size) = sha_file(&out.join("keys/signing.pub"))?;
    Ok(vec![Entry {
        path: "keys/signing.pub".into(),
        original: p.display().to_string(),
        sha256,
        size,
    }])
}

/// Forward security: the checkpoints before the bundle's first record that
/// commit a next key (each signed by the key before it), so a verifier
/// holding the first public key can follow the keys to the one in force.
fn key_chain(before: &[Vec<u8>], out: &Path) -> Result<Vec<Entry>, String> {
    let commits: Vec<&Vec<u8>> = before
        .iter()
        .filter(|l| {
            let v = value(l);
            v["action"] == "checkpoint" && v["next_key"].is_string()
        })
        .collect();
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let mut text = Vec::new();
    for l in commits {
        text.extend_from_slice(l);
        text.push(b'\n');
    }
    std::fs::create_dir_all(out.join("keys")).map_err(|e| e.to_string())?;
    let p = out.join("keys/key-chain.ndjson");
    std::fs::write(&p, &text).map_err(|e| e.to_string())?;
    let (sha256, size) = sha_file(&p)?;
    Ok(vec![Entry {
        path: "keys/key-chain.ndjson".into(),
        original: "journal checkpoints committing next_key".into(),
        sha256,
        size,
    }])
}

/// The key in force at the bundle's first record: `first` (the host's
/// first public key) followed through the key chain, each commitment
/// checked under the key before it.
fn follow_keys(
    dir: &Path,
    first: ed25519_dalek::VerifyingKey,
) -> Result<ed25519_dalek::VerifyingKey, String> {
    let Ok(text) = std::fs::read(dir.join("keys/key-chain.ndjson")) else {
        return Ok(first);
    };
    let mut key = first;
    for (i, l) in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let at = format!("keys/key-chain.ndjson:{}", i + 1);
        let v = value(l);
        let (Some(seq), Some(hash), Some(next), Some(sig)) = (
            v["tip_seq"].as_u64(),
            v["tip_hash"].as_str(),
            v["next_key"].as_str(),
            v["sig"].as_str(),
        ) else {
            return Err(format!("{at}: not a key commitment"));
        };
        let mut whole = l.to_vec();
        whole.push(b'\n');
        let prev = v["_prev"].as_str().unwrap_or("");
        let own = v["_seq"].as_u64().unwrap_or(1).saturating_sub(1);
        crate::journal::verify_chain(&whole, (own, prev))
            .map_err(|b| format!("{at}: {}", b.why))?;
        crate::journal::sign::check(&key, seq, hash, Some(next), sig)
            .map_err(|e| format!("{at}: {e}"))?;
        key = crate::journal::sign::parse_public(next)?;
    }
    Ok(key)
}

fn readme(m: &Manifest) -> String {
    format!(
        "logwarden evidence bundle ({})\n\nHost: {}\nPeriod: {} to {}\nSources: {}\n\n\
Inside: files/ holds every archive of the period, copied whole as logwarden made it;\n\
journal.ndjson holds the audit journal's records _seq {}..{}, exactly as written, from the\n\
last checkpoint before the period to the first one after it (and after the records that\n\
vouch for the archives); config/ holds the config texts in force (by SHA-256); keys/ the\n\
public key found on the host (check it against the one you were given out of band);\n\
manifest.json lists everything with its SHA-256.\n\n\
Verify (any machine, any path):\n  logwarden verify --bundle DIR --public-key KEY\n\n\
What it proves: the journal records form an unbroken hash chain (signed checkpoints\n\
under KEY, so they were written by the holder of the key), every archive here is the one\n\
a record of that chain vouches for, byte for byte, and nothing was added or removed.\n\
What it cannot prove: that the host wrote everything it should have (a host whose key\n\
was stolen can sign a false chain); compare the checkpoints with those shipped off the\n\
host at the time (logwarden witness). Archives retention deleted before the export are\n\
listed in manifest.json (deleted), with the record that deleted them.\n",
        m.format,
        m.host,
        m.since,
        m.until,
        m.sources.join(", "),
        m.journal.first_seq,
        m.journal.last_seq
    )
}

/// `logwarden verify --bundle DIR`: the first thing broken, or ok.
pub(super) fn verify_bundle(dir: &Path, public_key: Option<&str>) -> ExitCode {
    match verify_inner(dir, public_key) {
        Ok(msg) => {
            println!("ok: {msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logwarden verify --bundle: {e}");
            ExitCode::from(1)
        }
    }
}

fn verify_inner(dir: &Path, public_key: Option<&str>) -> Result<String, String> {
    let given = public_key
        .map(crate::journal::sign::parse_public)
        .transpose()?;
    let key = given.map(|k| follow_keys(dir, k)).transpose()?;
    let m: Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json")).map_err(|e| format!("manifest.json: {e}"))?,
    )
    .map_err(|e| format!("manifest.json: {e}"))?;
    if m.format != bundle::FORMAT {
        return Err(format!("unknown bundle format {:?}", m.format));
    }
    // The chain, from the record before the first, to the last listed.
    let journal =
        std::fs::read(dir.join(&m.journal.path)).map_err(|e| format!("{}: {e}", m.journal.path))?;
    let start = m.journal.first_seq.saturating_sub(1);
    let c =
        crate::journal::verify_chain_with(&journal, (start, &m.journal.first_prev), key.as_ref())
            .map_err(|b| format!("{}:{}: {}", m.journal.path, b.line, b.why))?;
    if (c.last_seq, c.tip.as_str()) != (m.journal.last_seq, m.journal.last_hash.as_str()) {
        return Err(format!(
            "{}: ends at _seq {} but the manifest says {}: records were cut or added",
            m.journal.path, c.last_seq, m.journal.last_seq
        ));
    }
    let recs: Vec<serde_json::Value> = journal
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(value)
        .collect();
    let first_ts = recs.first().and_then(|v| v["ts"].as_str()).unwrap_or("");
    let last_ts = recs.last().and_then(|v| v["ts"].as_str()).unwrap_or("");
    if first_ts > m.since.as_str() && m.journal.first_seq > 1 {
        return Err(format!(
            "a gap: the journal starts at {first_ts}, after the period's start {}",
            m.since
        ));
    }
    if last_ts < m.until.as_str() {
        return Err(format!(
            "a gap: the journal ends at {last_ts}, before the period's end {}",
            m.until
        ));
    }
    let vouched = |sha: &str| {
        recs.iter().any(|v| {
            v["file_sha256"].as_str() == Some(sha) || v["content_sha256"].as_str() == Some(sha)
        })
    };
    let mut listed: Vec<PathBuf> = vec![
        dir.join("manifest.json"),
        dir.join("README.txt"),
        dir.join(&m.journal.path),
    ];
    let mut unvouched = 0;
    for e in m.files.iter().chain(&m.config).chain(&m.keys) {
        let p = dir.join(&e.path);
        let (sha, size) = sha_file(&p).map_err(|e| format!("missing or unreadable: {e}"))?;
        if sha != e.sha256 || size != e.size {
            return Err(format!(
                "{}: changed (SHA-256 {sha}, the manifest says {})",
                e.path, e.sha256
            ));
        }
        if e.path.starts_with("config/") && !e.path.ends_with(&sha) {
            return Err(format!("{}: its text does not hash to its name", e.path));
        }
        if e.path.starts_with("files/") && !vouched(&sha) {
            unvouched += 1;
        }
        listed.push(p);
    }
    for f in walk(dir)? {
        if !listed.contains(&f) {
            return Err(format!("{}: not in the manifest (added)", f.display()));
        }
    }
    if unvouched > 0 {
        return Err(format!(
            "{unvouched} archive(s) match the manifest but no record of the journal segment vouches for them (plain archives are vouched for once compressed)"
        ));
    }
    Ok(format!(
        "{} file(s), journal _seq {}..{} chained{}, period {} .. {}, {} deleted by retention before the export",
        m.files.len(),
        m.journal.first_seq,
        m.journal.last_seq,
        if key.is_some() { " and signed" } else { "" },
        m.since,
        m.until,
        m.deleted.len()
    ))
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    Ok(out)
}
