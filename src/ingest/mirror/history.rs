//! `logwarden cat`: a source's history in order — for each of its files,
//! every archive oldest first (by period, then `.N`), then the live file —
//! with `.gz` archives decompressed on the fly. For incident review, and for
//! replaying a period into a shipper. In mirror mode that is the redacted
//! mirror; a rotate-mode source has no mirror, so its own archives are read.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{Config, Mode, Source};
use crate::policy::archive::{self, Archive};

/// One file of the history, in the order it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub path: PathBuf,
    pub gz: bool,
}

/// The files holding `src`'s history whose period meets `[since, until)`:
/// an archive's period is its label's day (or hour); the live file's runs
/// from its last cut to now, so it is always part of a range reaching now.
pub fn parts(
    cfg: &Config,
    src: &Source,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> io::Result<Vec<Part>> {
    let dir = match src.policy.mode {
        Mode::Mirror => super::output_dir(cfg, src),
        Mode::Rotate => src.dir.clone(),
    };
    let names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let zone = src.policy.zone;
    let mut bases: Vec<String> = names
        .iter()
        .filter(|n| src.matches(n))
        .cloned()
        .chain(
            names
                .iter()
                .filter_map(|n| archive::parse_any(n))
                .filter(|a| src.matches(&a.base))
                .map(|a| a.base),
        )
        .collect();
    bases.sort();
    bases.dedup();
    let mut out = Vec::new();
    for base in bases {
        let mut archives: Vec<Archive> = names
            .iter()
            .filter_map(|n| archive::parse_for(&base, n))
            .filter(|a| {
                let span = crate::policy::retain::label_span(&a.label, &src.policy.schedule, zone);
                since.is_none_or(|s| span.is_none_or(|(_, e)| e > s))
                    && until.is_none_or(|u| span.is_none_or(|(st, _)| st < u))
            })
            .collect();
        archives.sort_by(|a, b| a.cut_order(b));
        out.extend(archives.into_iter().map(|a| Part {
            path: dir.join(a.file_name()),
            gz: a.gz,
        }));
        if names.contains(&base) && until.is_none_or(|u| u > now - chrono::Duration::days(1)) {
            out.push(Part {
                path: dir.join(&base),
                gz: false,
            });
        }
    }
    Ok(out)
}

/// Copy the parts to `w` in order, decompressing `.gz` ones. A part that
/// vanished meanwhile (retention, a cut renaming the live file) is looked
/// for under its next name; one that cannot be read is an error naming it.
pub fn cat(parts: &[Part], w: &mut dyn Write) -> io::Result<u64> {
    let mut n = 0;
    for p in parts {
        let f = match open(&p.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Compressed since it was listed.
                let gz = p.path.with_extension(format!(
                    "{}.gz",
                    p.path.extension().and_then(|e| e.to_str()).unwrap_or("")
                ));
                match open(&gz) {
                    Ok(f) => {
                        n += copy(f, true, w)?;
                        continue;
                    }
                    Err(_) => continue,
                }
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("{}: {e}", p.path.display()),
                ))
            }
        };
        n += copy(f, p.gz, w)?;
    }
    Ok(n)
}

/// Through the directory's fd like every file logwarden opens: no link is
/// followed, and only a regular file is opened (a FIFO named like an
/// archive cannot hang `cat`).
fn open(p: &Path) -> io::Result<std::fs::File> {
    let (Some(dir), Some(name)) = (p.parent(), p.file_name().and_then(|n| n.to_str())) else {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    };
    crate::sys::safe_dir::SafeDir::open(dir)?.open_read(name)
}

fn copy(f: std::fs::File, gz: bool, w: &mut dyn Write) -> io::Result<u64> {
    let r: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 20, f),
        ))
    } else {
        Box::new(f)
    };
    let mut r = io::BufReader::with_capacity(1 << 20, r);
    io::copy(&mut r, w)
}
