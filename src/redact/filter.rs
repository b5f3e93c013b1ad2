//! `logwarden redact`: the stdin filter, with bounded memory, and
//! `--explain`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use super::{cut_marker, detect, Carry, Counts, Redactor};

/// The `logwarden redact` filter: reads `input`, splits it on `'\n'`, redacts
/// each line with `r` and writes it (with its `'\n'`; a last line without one
/// is written without one) to `output`, buffered.
///
/// Memory is bounded: input is read in chunks into one buffer of
/// max(1 MiB, `max_line_bytes` + 1) bytes at most. A line longer than
/// `max_line_bytes` keeps its first `max_line_bytes` bytes, is redacted, gets
/// [`cut_marker`], and the rest of it up to its newline is read and
/// discarded (never emitted as a line of its own). `max_line_bytes == 0`
/// means no limit.
pub fn filter(
    input: impl BufRead,
    output: impl Write,
    r: &Redactor,
    max_line_bytes: u64,
) -> io::Result<Counts> {
    filter_with(input, output, r, max_line_bytes, false)
}

/// [`filter`], and with `explain` each redacted line is followed by one
/// line per rule, key or pattern that masked something in it:
/// `  ^ 2 masked by rule github-token` (`logwarden redact --explain`).
pub fn filter_with(
    mut input: impl BufRead,
    mut output: impl Write,
    r: &Redactor,
    max_line_bytes: u64,
    explain: bool,
) -> io::Result<Counts> {
    const CHUNK: usize = 1 << 20;
    const FLUSH: usize = 256 << 10;
    let max = if max_line_bytes == 0 {
        usize::MAX
    } else {
        usize::try_from(max_line_bytes).unwrap_or(usize::MAX)
    };
    let marker = cut_marker(max_line_bytes);
    let mut counts = Counts::default();
    let mut carry = Carry::default();
    let mut before: BTreeMap<String, u64> = BTreeMap::new();
    // One line through the redactor (with the explanation, when asked).
    let mut one = |line: &[u8], cut: bool, out: &mut Vec<u8>, counts: &mut Counts| {
        if explain {
            before.clone_from(&counts.by_key);
        }
        r.redact_carry(&mut carry, line, out, counts);
        if cut {
            out.extend_from_slice(&marker);
            counts.cut_lines += 1;
        }
        if explain {
            explain_into(&before, &counts.by_key, out);
        }
    };
    let mut buf = vec![0u8; CHUNK];
    let mut out: Vec<u8> = Vec::with_capacity(FLUSH + CHUNK);
    let (mut start, mut end) = (0usize, 0usize);
    // Skipping the rest of a line that was cut.
    let mut discard = false;
    loop {
        while start < end {
            match memchr::memchr(b'\n', &buf[start..end]) {
                Some(off) => {
                    let line = &buf[start..start + off];
                    start += off + 1;
                    if !discard {
                        if line.len() > max {
                            one(&line[..max], true, &mut out, &mut counts);
                        } else {
                            one(line, false, &mut out, &mut counts);
                        }
                    }
                    discard = false;
                    out.push(b'\n');
                }
                None => {
                    if !discard && end - start > max {
                        one(&buf[start..start + max], true, &mut out, &mut counts);
                        discard = true;
                    }
                    if discard {
                        start = end;
                    }
                    break;
                }
            }
            if out.len() >= FLUSH {
                output.write_all(&out)?;
                out.clear();
            }
        }
        // Keep the partial line, make room, read more.
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() {
            // A partial line of at most `max` bytes fills the buffer.
            let grown = buf.len().saturating_mul(2).min(max.saturating_add(1));
            buf.resize(grown.max(buf.len() + 1), 0);
        }
        let n = loop {
            match input.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            // End of input: a last line without '\n' (at most `max` bytes,
            // longer ones were cut above).
            if start < end && !discard {
                one(&buf[start..end], false, &mut out, &mut counts);
            }
            break;
        }
        end += n;
    }
    output.write_all(&out)?;
    output.flush()?;
    Ok(counts)
}

/// Appends, for each count that grew from `before` to `after`, a line
/// `\n  ^ N masked by rule|key|pattern NAME`.
fn explain_into(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, out: &mut Vec<u8>) {
    let rules = detect::ids();
    for (name, n) in after {
        let grew = n - before.get(name).copied().unwrap_or(0);
        if grew == 0 {
            continue;
        }
        let kind = if rules.contains(&name.as_str()) {
            "rule"
        } else if name.starts_with("pattern:") {
            "pattern"
        } else {
            "key"
        };
        out.extend_from_slice(format!("\n  ^ {grew} masked by {kind} {name}").as_bytes());
    }
}
