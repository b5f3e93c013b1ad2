//! Renamed inputs that are still written to: drained until their writers
//! close them or `writer_grace` passes, writers asked again to reopen, then
//! finished (compressed with their mirror's records).

use super::*;

impl Nag {
    pub(super) fn now() -> Nag {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Nag {
            renamed_at: secs,
            next: Instant::now() + RETRY,
        }
    }
}

impl Pipeline {
    /// Finish renamed or replaced inputs by the one `writer_grace` rule
    /// ([`rotate::renamed_finished`]): once no writer holds them, or once
    /// they have not grown for `writer_grace`. Flush, then discard the raw
    /// file unless `raw_max_age` keeps it. One still written to stays an
    /// input: its writers are asked again to reopen (`nag`).
    pub fn finish_drained(&mut self, now: DateTime<Utc>) {
        // Checking for writers scans /proc: at most once per RETRY.
        if self.drain_checked.is_some_and(|t| t.elapsed() < RETRY) {
            return;
        }
        self.drain_checked = Some(Instant::now());
        let mut candidates = Vec::new();
        for (name, pipe) in &self.pipes {
            for (i, input) in pipe.inputs.iter().enumerate() {
                if input.draining_since.is_some() {
                    candidates.push((name.clone(), i, input.t.id));
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        let ids: HashSet<(u64, u64)> = candidates
            .iter()
            .map(|(_, _, id)| (id.dev, id.ino))
            .collect();
        let holders = Holders::scan(&ids);
        let mut done = Vec::new();
        let mut still_written = Vec::new();
        for (source, i, id) in candidates {
            let Some(pipe) = self.pipes.get(&source) else {
                continue;
            };
            let input = &pipe.inputs[i];
            let writers = holders.writers_of(id.dev, id.ino);
            let Ok(meta) = input.t.meta() else {
                continue;
            };
            let idle = rotate::idle_for(&meta);
            let finish =
                rotate::renamed_finished(!writers.is_empty(), idle, pipe.src.policy.writer_grace);
            match finish {
                None => still_written.push((source, i, writers.to_vec(), meta.mtime)),
                // The pump reads what is left first.
                Some(Finish::Closed) if meta.size > input.t.read_pos() => {}
                Some(f) => {
                    if self.drain(&source, i).is_ok() {
                        done.push((source, i, f, writers.to_vec()));
                    }
                }
            }
        }
        for (source, i, writers, mtime) in still_written {
            self.nag(&source, i, &writers, mtime, now);
        }
        // Remove from the back so indexes stay valid.
        done.sort_by_key(|d| std::cmp::Reverse(d.1));
        for (source, i, finish, writers) in done {
            self.finish_input(&source, i, finish, &writers, now);
        }
        let _ = self.maybe_sync(true);
    }

    /// Journal `tail.done` for a finished input and discard its raw file.
    pub(super) fn finish_input(
        &mut self,
        source: &str,
        i: usize,
        finish: Finish,
        writers: &[crate::sys::holders::Writer],
        now: DateTime<Utc>,
    ) {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return;
        };
        let input = pipe.inputs.remove(i);
        let path = pipe.dir.join(&input.t.name);
        let ours = archive::parse_for(&input.base, &input.t.name).is_some_and(|a| !a.gz);
        let mut rec = Record::ok(now, "tail.done").source(source).resource(
            &path,
            Some(input.t.id.ino),
            Some(input.t.committed),
        );
        let grace = humantime::format_duration(pipe.src.policy.writer_grace);
        rec.reason = Some(match finish {
            Finish::Closed => "its writers closed it".to_string(),
            Finish::Idle => format!(
                "not written to for writer_grace ({grace}) though still held open by {}; anything written to it from now on is not mirrored — {}",
                crate::rotation::reopen::describe(writers),
                match &pipe.src.reopen {
                    None => "configure reopen, or strategy = \"copytruncate\"".to_string(),
                    Some(_) => "the reopen hook did not make it reopen: check the hook's signal and pidfile, or set strategy = \"copytruncate\"".to_string(),
                }
            ),
        });
        if ours && pipe.src.raw_max_age.is_none() {
            let same = pipe
                .dir
                .stat(&input.t.name)
                .is_ok_and(|m| Identity::from(&m) == input.t.id);
            if same {
                match pipe.dir.unlink(&input.t.name) {
                    Ok(()) => {
                        let _ = pipe.dir.sync();
                        rec = rec.new_value("drained into the mirror; raw file discarded");
                    }
                    Err(e) => {
                        rec = Record::failed(
                            now,
                            "tail.done",
                            format!("cannot discard the drained raw file: {e}"),
                        )
                        .source(source)
                        .resource(&path, Some(input.t.id.ino), None)
                    }
                }
            }
        } else {
            rec = rec.new_value("drained into the mirror");
        }
        crate::journal::append(&self.journal, rec);
        self.dirty = true;
    }

    /// A renamed input its writers still write to (they did not reopen):
    /// keep draining it, and once it was written to after the rename, and
    /// then once per period, fire the reopen hook again and journal a failed
    /// `reopen` record naming the writers.
    pub(super) fn nag(
        &mut self,
        source: &str,
        i: usize,
        writers: &[crate::sys::holders::Writer],
        mtime: i64,
        now: DateTime<Utc>,
    ) {
        let Some(pipe) = self.pipes.get_mut(source) else {
            return;
        };
        let input = &mut pipe.inputs[i];
        let nag = input.nag.get_or_insert_with(Nag::now);
        // Written to in the second after the rename, a writer may still be
        // flushing what it had before it handled the hook.
        if Instant::now() < nag.next || mtime < nag.renamed_at + 2 {
            return;
        }
        let path = pipe.dir.join(&input.t.name);
        let hook = match &pipe.src.reopen {
            None => "no reopen hook is configured".to_string(),
            Some(h) => {
                let check = crate::rotation::reopen::Check::gather(h, &path, writers);
                match (check.fire(), check.verdict) {
                    (Some(Ok(what)), _) => format!("reopen hook fired again: {what}"),
                    (Some(Err(e)), _) => e,
                    (None, crate::rotation::reopen::Verdict::Unusable(why)) => why,
                    (None, _) => "the reopen hook reaches none of them".to_string(),
                }
            }
        };
        let p = &pipe.src.policy;
        let period = (p.schedule.next_cut(p.zone, now) - now)
            .to_std()
            .unwrap_or_default()
            .clamp(RETRY, Duration::from_secs(86_400));
        nag.next = Instant::now() + period;
        let msg = format!(
            "{} still write{} to {} after it was renamed at the cut: it did not reopen its log; {hook}. It stays an input until its writers close it or it is idle for writer_grace",
            crate::rotation::reopen::describe(writers),
            if writers.len() == 1 { "s" } else { "" },
            path.display()
        );
        let rec = Record::failed(now, "reopen", msg).source(source).resource(
            &path,
            Some(input.t.id.ino),
            None,
        );
        crate::journal::append(&self.journal, rec);
    }

    /// [`Pipeline::finish_drained`] without its rate limit (one-shot runs, tests).
    pub fn finish_drained_now(&mut self, now: DateTime<Utc>) {
        self.drain_checked = None;
        self.finish_drained(now);
    }
}
