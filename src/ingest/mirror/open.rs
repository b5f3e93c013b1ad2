//! Finding inputs: opening a source (or parking it when its directory
//! cannot be opened), matching files to checkpointed inputs by identity and
//! fingerprint, adopting new files.

use super::*;

impl Pipeline {
    /// Open the sources that are not open yet (at start, and at every
    /// rescan: a source directory may appear later, or be fixed).
    pub(super) fn unpark(&mut self, now: DateTime<Utc>) {
        let names: Vec<String> = self.parked.keys().cloned().collect();
        for name in names {
            let Some(p) = self.parked.remove(&name) else {
                continue;
            };
            match self.open_pipe(&p.src, &p.out, &p.ck, now) {
                Ok(pipe) => {
                    self.reported.remove(&format!("open:{name}"));
                    self.pipes.insert(name, pipe);
                    self.dirty = true;
                }
                Err(e) => {
                    self.report_once(
                        format!("open:{name}"),
                        Record::failed(now, "error", e)
                            .source(&name)
                            .resource(&p.src.dir, None, None),
                    );
                    self.parked.insert(name, p);
                }
            }
        }
    }

    pub(super) fn open_pipe(
        &mut self,
        src: &Source,
        out_path: &Path,
        sck: &SourceCk,
        now: DateTime<Utc>,
    ) -> Result<Pipe, String> {
        let dir = discover::open(src).map_err(|e| e.to_string())?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(out_path)
            .map_err(|e| format!("cannot create output_dir {}: {e}", out_path.display()))?;
        let out = SafeDir::open(out_path)
            .map_err(|e| format!("cannot open output_dir {}: {e}", out_path.display()))?;
        let mut pipe = Pipe {
            src: src.clone(),
            dir,
            out,
            inputs: Vec::new(),
            mirrors: BTreeMap::new(),
        };
        for (base, mck) in &sck.mirrors {
            match recover_mirror(&pipe.out, base, mck) {
                Ok((Some(m), _)) => {
                    pipe.mirrors.insert(base.clone(), m);
                }
                Ok((None, Some(archived))) => {
                    // Its rename is journaled now, so `verify` follows it.
                    let mut r = Record::ok(now, "rotate")
                        .source(&src.name)
                        .resource(&pipe.out.join(base), Some(mck.ino), Some(mck.len))
                        .old(pipe.out.join(base).display())
                        .new_value(pipe.out.join(&archived).display())
                        .strategy("rename", MIRROR_CUT_REASON);
                    r.reason = Some(
                        "found cut at start: a crash came between the mirror's rename and its record"
                            .into(),
                    );
                    crate::journal::append(&self.journal, r);
                }
                Ok((None, None)) => {}
                Err(e) => {
                    return Err(format!(
                        "cannot recover mirror {}: {e}",
                        pipe.out.join(base).display()
                    ))
                }
            }
        }
        for ick in &sck.inputs {
            match recover_input(&pipe.dir, ick, self.max_line) {
                Ok(Some((input, note))) => {
                    if let Some(note) = note {
                        crate::journal::append(
                            &self.journal,
                            Record::failed(now, "tail.reset", note)
                                .source(&src.name)
                                .resource(&pipe.dir.join(&input.t.name), Some(ick.ino), None),
                        );
                    }
                    pipe.inputs.push(input);
                }
                Ok(None) => {
                    if ick.draining_since.is_none() {
                        crate::journal::append(
                            &self.journal,
                            Record::failed(
                                now,
                                "tail.gone",
                                format!(
                                    "{} disappeared while logwarden was down; lines after offset {} were not mirrored",
                                    ick.name, ick.offset
                                ),
                            )
                            .source(&src.name)
                            .resource(&pipe.dir.join(&ick.name), Some(ick.ino), None),
                        );
                    }
                }
                Err(e) => return Err(format!("cannot reopen {}: {e}", ick.name)),
            }
        }
        self.reopen_draining(src, &pipe, now);
        Ok(pipe)
    }

    /// A renamed file still draining at start: the crash may have come
    /// between the rename and the reopen hook, leaving its writer writing to
    /// the renamed file for good. Asking its writers again to reopen is
    /// harmless (and only they are asked); a failure is journaled.
    fn reopen_draining(&self, src: &Source, pipe: &Pipe, now: DateTime<Utc>) {
        if let Some(hook) = &src.reopen {
            let draining: HashSet<(u64, u64)> = pipe
                .inputs
                .iter()
                .filter(|i| i.draining_since.is_some())
                .map(|i| (i.t.id.dev, i.t.id.ino))
                .collect();
            let holders = Holders::scan(&draining);
            for input in pipe.inputs.iter().filter(|i| i.draining_since.is_some()) {
                let writers = holders.writers_of(input.t.id.dev, input.t.id.ino);
                let path = pipe.dir.join(&input.t.name);
                let check = crate::rotation::reopen::Check::gather(hook, &path, writers);
                let failed = match (check.fire(), &check.verdict) {
                    (Some(Err(e)), _) => Some(e),
                    (None, crate::rotation::reopen::Verdict::Unusable(why))
                        if !writers.is_empty() =>
                    {
                        Some(why.clone())
                    }
                    _ => None,
                };
                if let Some(e) = failed {
                    crate::journal::append(
                        &self.journal,
                        Record::failed(now, "reopen", e).source(&src.name).resource(
                            &path,
                            Some(input.t.id.ino),
                            None,
                        ),
                    );
                }
            }
        }
    }

    /// Start tailing live files that appeared; files replaced under their
    /// name keep draining under the old inode.
    pub fn discover(&mut self, now: DateTime<Utc>) {
        if !self.parked.is_empty() {
            self.unpark(now);
        }
        let max_line = self.max_line;
        let mut problems = Vec::new();
        for pipe in self.pipes.values_mut() {
            // The source directory removed and re-created: read the new one
            // (the old one's open files keep draining through their fds).
            if let (Ok(now_there), Ok(held)) = (std::fs::metadata(&pipe.src.dir), pipe.dir.meta()) {
                use std::os::unix::fs::MetadataExt;
                if (now_there.dev(), now_there.ino()) != (held.dev, held.ino) {
                    match discover::open(&pipe.src) {
                        Ok(d) => {
                            tracing::warn!(
                                "source {}: {} was replaced by a new directory; reading that one",
                                pipe.src.name,
                                pipe.src.dir.display()
                            );
                            pipe.dir = d;
                        }
                        Err(e) => {
                            problems.push((pipe.src.name.clone(), e.to_string()));
                            continue;
                        }
                    }
                }
            }
            let found = match discover::scan(&pipe.dir, &pipe.src) {
                Ok(f) => f,
                Err(e) => {
                    problems.push((pipe.src.name.clone(), format!("cannot list: {e}")));
                    continue;
                }
            };
            let live: BTreeMap<&str, &Meta> =
                found.live.iter().map(|(n, m)| (n.as_str(), m)).collect();
            for input in &mut pipe.inputs {
                if input.draining_since.is_some() {
                    continue;
                }
                let still = live
                    .get(input.t.name.as_str())
                    .is_some_and(|m| Identity::from(*m) == input.t.id);
                if !still {
                    input.draining_since = Some(now);
                    self.dirty = true;
                }
            }
            let known: HashSet<Identity> = pipe.inputs.iter().map(|i| i.t.id).collect();
            for (name, meta) in &found.live {
                let id = Identity::from(meta);
                if known.contains(&id) {
                    continue;
                }
                match pipe.dir.open_read(name) {
                    Ok(f) if safe_dir::fstat(&f).is_ok_and(|m| Identity::from(&m) == id) => {
                        match Tailer::new(f, name.clone(), 0, max_line) {
                            Ok(t) => {
                                // A private key block open in the file this
                                // one replaces (renamed mid-block) goes on
                                // here: keep masking (fail closed).
                                let carry = pipe
                                    .inputs
                                    .iter()
                                    .filter(|i| i.base == *name && i.draining_since.is_some())
                                    .map(|i| i.carry)
                                    .find(|c| c.pem_lines > 0)
                                    .unwrap_or_default();
                                pipe.inputs.push(Input {
                                    base: name.clone(),
                                    t,
                                    draining_since: None,
                                    nag: None,
                                    carry,
                                    shift: None,
                                    behind_since: None,
                                });
                                self.dirty = true;
                            }
                            Err(e) => {
                                problems.push((pipe.src.name.clone(), format!("{name}: {e}")))
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        problems.push((pipe.src.name.clone(), format!("cannot open {name}: {e}")))
                    }
                }
            }
        }
        for (src, msg) in problems {
            self.report_once(
                format!("discover:{src}:{msg}"),
                Record::failed(now, "error", msg).source(&src),
            );
        }
    }

    pub(super) fn input_index(&self, source: &str, name: &str, meta: &Meta) -> Option<usize> {
        let pipe = self.pipes.get(source)?;
        pipe.inputs.iter().position(|i| {
            i.draining_since.is_none() && i.t.id == Identity::from(meta) && i.t.name == name
        })
    }
}
