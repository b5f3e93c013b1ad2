//! After a crash: a mirror longer than its checkpoint is truncated back
//! (the lines past it are re-read from the input, so none is doubled), an
//! input is found again by identity or fingerprint.

use super::*;

/// Find the checkpointed mirror (under its live name, or an archive name if
/// it was cut just before a crash) and cut it back to its durable length.
/// Also returns the archive name it was found under, if it was: the crash
/// came between that rename and its `rotate` record, which the caller writes.
pub(super) fn recover_mirror(
    out: &SafeDir,
    base: &str,
    mck: &MirrorCk,
) -> std::io::Result<(Option<Mirror>, Option<String>)> {
    let want = Identity {
        dev: mck.dev,
        ino: mck.ino,
    };
    let live = out.stat(base).ok();
    if live.is_some_and(|m| Identity::from(&m) == want) {
        let f = out.open_rw(base)?;
        let m = safe_dir::fstat(&f)?;
        if m.size > mck.len {
            f.set_len(mck.len)?;
            f.sync_data()?;
        }
        let len = m.size.min(mck.len);
        return Ok((Some(Mirror::adopt(f, want, len)?), None));
    }
    let mut renamed = None;
    for n in out.list()? {
        if archive::parse_for(base, &n).is_some_and(|a| !a.gz)
            && out.stat(&n).is_ok_and(|m| Identity::from(&m) == want)
        {
            let f = out.open_rw(&n)?;
            if safe_dir::fstat(&f)?.size > mck.len {
                f.set_len(mck.len)?;
                f.sync_data()?;
            }
            renamed = Some(n);
        }
    }
    // A live mirror that is not the checkpointed one holds only lines that
    // were never checkpointed: they are read again.
    if live.is_some() {
        let f = out.open_rw(base)?;
        f.set_len(0)?;
        f.sync_data()?;
    }
    Ok((None, renamed))
}

/// Reopen a checkpointed input where it is now (live name or archive name).
pub(super) fn recover_input(
    dir: &SafeDir,
    ick: &InputCk,
    max_line: u64,
) -> std::io::Result<Option<(Input, Option<String>)>> {
    let want = Identity {
        dev: ick.dev,
        ino: ick.ino,
    };
    let mut names = vec![ick.name.clone(), ick.base.clone()];
    for n in dir.list()? {
        if archive::parse_for(&ick.base, &n).is_some_and(|a| !a.gz) {
            names.push(n);
        }
    }
    for n in names {
        if !dir.stat(&n).is_ok_and(|m| Identity::from(&m) == want) {
            continue;
        }
        let f = dir.open_read(&n)?;
        let size = safe_dir::fstat(&f)?.size;
        let fp = Fingerprint {
            len: ick.fp_len,
            hex: ick.fp.clone(),
        };
        let shifted = ick.shift.as_ref().filter(|s| {
            Fingerprint {
                len: s.fp_len,
                hex: s.fp.clone(),
            }
            .matches(&f)
        });
        // Unchanged first (a removal that did not happen), then the recorded
        // removal; only periodic content could match both.
        let (offset, note) = if fp.matches(&f) && size >= ick.offset {
            (ick.offset, None)
        } else if let Some(s) = shifted {
            (ick.offset.saturating_sub(s.k), None)
        } else {
            (
                0,
                Some(format!(
                    "{n} changed while logwarden was down (truncated or replaced); read again from its start"
                )),
            )
        };
        let live = n == ick.base;
        let t = Tailer::new(f, n, offset, max_line)?;
        return Ok(Some((
            Input {
                base: ick.base.clone(),
                t,
                draining_since: ick
                    .draining_since
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .or(if live { None } else { Some(Utc::now()) }),
                nag: None,
                carry: Carry {
                    pem_lines: ick.pem_lines,
                },
                shift: None,
                behind_since: None,
            },
            note,
        )));
    }
    Ok(None)
}
