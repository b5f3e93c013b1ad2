//! The pump: read what each input has, split it into lines, redact them and
//! append them to the mirror, within a read budget; backpressure when a
//! mirror cannot be written.

use super::*;

impl Pipeline {
    /// Read what was appended to every input, redact, append to the mirrors.
    pub fn pump(&mut self, now: DateTime<Utc>) -> Pumped {
        let mut total = Pumped::default();
        if let Some((_, at)) = &self.blocked {
            if at.elapsed() < RETRY {
                return total;
            }
        }
        let names: Vec<String> = self.pipes.keys().cloned().collect();
        for name in names {
            let n = self.pipes.get(&name).map_or(0, |p| p.inputs.len());
            for i in 0..n {
                if self.opened >= MAX_OPEN_MIRRORS / 2 {
                    // Many mirrors opened since the last save: make them
                    // durable so the idle ones can be closed.
                    self.opened = 0;
                    if let Err(e) = self.save() {
                        self.block(&name, e, now);
                        return total;
                    }
                }
                match self.pump_input(&name, i, false) {
                    Ok(p) => {
                        total.lines += p.lines;
                        total.more |= p.more;
                    }
                    Err(e) => {
                        self.block(&name, e, now);
                        return total;
                    }
                }
            }
        }
        if let Err(e) = self.announce() {
            let name = self
                .unannounced
                .iter()
                .next()
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            self.block(&name, e, now);
            return total;
        }
        self.backlog = total.more;
        if self.blocked.take().is_some() {
            tracing::info!("mirror writes succeed again; the pipeline resumed");
            crate::journal::append(
                &self.journal,
                Record::ok(now, "mirror.resume").new_value("mirror writes succeed again"),
            );
            self.reported.retain(|k| !k.starts_with("blocked:"));
        }
        total
    }

    pub(super) fn block(&mut self, source: &str, e: std::io::Error, now: DateTime<Utc>) {
        let msg = format!(
            "cannot write the mirror ({e}); reading is paused and nothing is skipped; it resumes by itself when the mirror can be written"
        );
        if self.blocked.is_none() {
            tracing::error!("source {source}: {msg}");
        }
        self.blocked = Some((msg.clone(), Instant::now()));
        self.report_once(
            format!("blocked:{source}"),
            Record::failed(now, "mirror.write", msg).source(source),
        );
    }

    /// Pump one input into its mirror (`flush`: also emit its partial line).
    pub(super) fn pump_input(
        &mut self,
        source: &str,
        i: usize,
        flush: bool,
    ) -> std::io::Result<Pumped> {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return Ok(Pumped::default());
        };
        let redactor = &self.redactor;
        // Counted here and added only once the lines are in the mirror: lines
        // that are read again (no mirror yet, a failed write) count once.
        let mut counts = Counts::default();
        let cut_marker = &self.cut_marker;
        let out = &mut self.out;
        out.clear();
        let input = &mut pipe.inputs[i];
        let mut last_end = None;
        // The stream state moves on with the lines, and is kept only once
        // they are in the mirror (a rewind reads them again from `carry`).
        let mut carry = input.carry;
        let mut emit = |l: Line<'_>| {
            redactor.redact_carry(&mut carry, l.bytes, out, &mut counts);
            if l.cut {
                out.extend_from_slice(cut_marker);
                counts.cut_lines += 1;
            }
            if l.unterminated {
                out.extend_from_slice(NO_NEWLINE_MARKER);
            }
            out.push(b'\n');
            last_end = Some(l.end);
        };
        let pumped = input.t.pump(&mut emit)?;
        if pumped.truncated {
            tracing::warn!(
                "{} was truncated by another program; reading it again from the start",
                pipe.dir.join(&input.t.name).display()
            );
        }
        let timed_out = input
            .t
            .partial_since
            .is_some_and(|s| s.elapsed() >= pipe.src.partial_timeout);
        if (flush || timed_out) && !pumped.more {
            input.t.flush(&mut emit);
        }
        let mut result = Pumped {
            lines: pumped.lines,
            more: pumped.more,
        };
        let Some(end) = last_end else {
            return Ok(result);
        };
        let Some(mirror) = pipe.mirrors.get_mut(&input.base) else {
            // No mirror yet (first lines, or just cut): create it and make it
            // part of the checkpoint before anything is written to it, so a
            // crash can never leave lines in a mirror the checkpoint does not know.
            input.t.rewind();
            let perm = safe_dir::fstat(&input.t.file).map_or(0o640, |m| m.perm() & 0o666);
            let mut m =
                create_mirror(&pipe.out, &input.base, perm, pipe.src.output_owner.as_ref())?;
            // Reopened at its first write: nothing is written before it is
            // announced, and thousands may be created in one pump.
            m.file = None;
            pipe.mirrors.insert(input.base.clone(), m);
            // One save announces every mirror created in this pump (ten
            // thousand new files must not cost ten thousand fsyncs).
            self.unannounced
                .insert((source.to_string(), input.base.clone()));
            self.dirty = true;
            result.more = true;
            return Ok(result);
        };
        if !self.unannounced.is_empty()
            && self
                .unannounced
                .contains(&(source.to_string(), input.base.clone()))
        {
            // Not in a durable checkpoint yet: nothing may be written to it.
            input.t.rewind();
            result.more = true;
            return Ok(result);
        }
        if mirror.file.is_none() {
            self.opened += 1;
        }
        match mirror.append(&pipe.out, &input.base, out) {
            Ok(()) => {
                let read = end.saturating_sub(input.t.committed);
                input.t.commit(end);
                input.carry = carry;
                let m = crate::sys::metrics::global();
                m.lines_read
                    .with_label_values(&[source])
                    .inc_by(counts.lines);
                m.bytes_read.with_label_values(&[source]).inc_by(read);
                m.lines_written
                    .with_label_values(&[source])
                    .inc_by(counts.lines);
                m.bytes_written
                    .with_label_values(&[source])
                    .inc_by(out.len() as u64);
                m.lines_cut
                    .with_label_values(&[source])
                    .inc_by(counts.cut_lines);
                m.redacted(source, chrono::Local::now().date_naive(), &counts.by_key);
                self.counts.add(&counts);
                self.unsynced += out.len() as u64;
                self.dirty = true;
                result.lines = result.lines.max(1);
                Ok(result)
            }
            Err(e) => {
                input.t.rewind();
                Err(e)
            }
        }
    }

    /// Read input `i` of `source` to its current end, partial line included,
    /// and make the mirror and checkpoint durable.
    pub(super) fn drain(&mut self, source: &str, i: usize) -> std::io::Result<()> {
        self.read_to_end(source, i)?;
        self.dirty = true;
        self.save()
    }

    /// Read input `i` of `source` to its current end into the mirror, its
    /// partial line flushed too (no checkpoint yet).
    pub(super) fn read_to_end(&mut self, source: &str, i: usize) -> std::io::Result<()> {
        for _ in 0..10_000 {
            let more = self.pump_input(source, i, false)?.more;
            if !self.unannounced.is_empty() {
                self.announce()?;
                continue;
            }
            if !more {
                break;
            }
        }
        self.pump_input(source, i, true)?;
        if !self.unannounced.is_empty() {
            // The partial line found a new mirror: announce it, then flush.
            self.announce()?;
            self.pump_input(source, i, true)?;
        }
        Ok(())
    }
}
