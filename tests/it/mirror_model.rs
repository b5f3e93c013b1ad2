//! Model-based test of the mirror pipeline, after Vector's file source
//! tests: random sequences of writes (with or without `O_APPEND`), pumps,
//! cuts by rename or copy-truncate, checkpoint saves, crashes (the pipeline
//! dropped without a flush, its unsaved mirror bytes left behind) and
//! restarts from the checkpoint, against a real directory. After every step
//! the mirror's history (archives in cut order, then the live mirror) must be
//! a prefix of what was written; after a final drain, all of it, exactly.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use logwarden::config::Config;
use logwarden::ingest::mirror::Pipeline;
use logwarden::journal::Journal;
use logwarden::journal::SharedJournal;
use logwarden::policy::archive;
use logwarden::rotation::rotate::{Choice, CutSpec, Strategy as Cut};
use logwarden::sys::safe_dir::SafeDir;
use proptest::prelude::*;

use crate::harness::read_maybe_gz;

#[derive(Debug, Clone)]
enum Action {
    Write(usize),
    Pump,
    Save,
    Cut(Cut),
    Crash,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (1usize..150).prop_map(Action::Write),
        3 => Just(Action::Pump),
        1 => Just(Action::Save),
        2 => Just(Action::Cut(Cut::CopyTruncate)),
        2 => Just(Action::Cut(Cut::Rename)),
        2 => Just(Action::Crash),
    ]
}

struct World {
    tmp: tempfile::TempDir,
    cfg: Arc<Config>,
    journal: SharedJournal,
    pipeline: Option<Pipeline>,
    append: bool,
    writer: File,
    model: Vec<u8>,
    seq: usize,
    cuts: usize,
}

fn open_writer(dir: &Path, append: bool) -> File {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .open(dir.join("a.log"))
        .unwrap();
    if !append {
        f.seek(SeekFrom::End(0)).unwrap();
    }
    f
}

impl World {
    fn new(append: bool) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let logs = tmp.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        crate::harness::set_mode(&logs, 0o755);
        crate::harness::set_mode(tmp.path(), 0o755);
        let cfg_path = tmp.path().join("logwarden.toml");
        std::fs::write(
            &cfg_path,
            format!(
                "state_dir = {:?}\n[defaults]\nschedule = \"daily\"\ncompress = \"none\"\n[[source]]\nname = \"app\"\ndir = {:?}\ninclude = [\"*.log\"]\noutput_dir = {:?}\n",
                tmp.path().join("state"),
                logs,
                tmp.path().join("mirror")
            ),
        )
        .unwrap();
        let cfg = Arc::new(Config::load(&cfg_path).unwrap());
        logwarden::state::ensure_dir(&cfg.state_dir).unwrap();
        let journal = Arc::new(Mutex::new(Journal::open(&cfg.state_dir).unwrap()));
        let writer = open_writer(&logs, append);
        let pipeline = Some(Pipeline::new(&cfg, Arc::clone(&journal), Utc::now()).unwrap());
        World {
            tmp,
            cfg,
            journal,
            pipeline,
            append,
            writer,
            model: Vec::new(),
            seq: 0,
            cuts: 0,
        }
    }

    fn p(&mut self) -> &mut Pipeline {
        self.pipeline.as_mut().unwrap()
    }

    fn mirror_history(&self) -> Vec<u8> {
        let dir = self.tmp.path().join("mirror");
        let mut archives: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| archive::parse_for("a.log", e.unwrap().file_name().to_str().unwrap()))
            .collect();
        archives.sort_by(|a, b| a.cut_order(b));
        let mut all = Vec::new();
        for a in archives {
            all.extend(read_maybe_gz(&dir.join(a.file_name())));
        }
        all.extend(std::fs::read(dir.join("a.log")).unwrap_or_default());
        all
    }

    fn apply(&mut self, a: &Action) {
        let now = Utc::now();
        match a {
            Action::Write(n) => {
                for _ in 0..*n {
                    let line = format!("seq={} {}\n", self.seq, "y".repeat(self.seq % 97));
                    self.seq += 1;
                    self.writer.write_all(line.as_bytes()).unwrap();
                    self.model.extend_from_slice(line.as_bytes());
                }
            }
            Action::Pump => while self.p().pump(now).more {},
            Action::Save => self.p().maybe_sync(true).unwrap(),
            Action::Cut(strategy) => {
                let logs = self.tmp.path().join("logs");
                let dir = SafeDir::open(&logs).unwrap();
                let meta = dir.stat("a.log").unwrap();
                if meta.size == 0 {
                    return;
                }
                self.cuts += 1;
                let label = format!("2026-11-{:02}", 1 + self.cuts % 28);
                let src = self.cfg.sources[0].clone();
                let spec = CutSpec {
                    label: &label,
                    choice: Choice {
                        strategy: *strategy,
                        reason: "model".into(),
                    },
                    may_fall_back: false,
                    create: None,
                    reopen: None,
                };
                let cut = self.p().cut(&src, "a.log", &meta, spec, now).unwrap();
                assert_eq!(cut.strategy, *strategy);
                if *strategy == Cut::Rename {
                    // The writer's reopen hook; the old inode is now unheld.
                    self.writer = open_writer(&logs, self.append);
                }
                self.p().finish_drained_now(now);
            }
            Action::Crash => {
                // Dropped without a flush: the mirror may hold lines the
                // checkpoint does not know; the restart must cut them back.
                drop(self.pipeline.take());
                self.pipeline =
                    Some(Pipeline::new(&self.cfg, Arc::clone(&self.journal), now).unwrap());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_line_exactly_once_through_any_sequence(
        append in any::<bool>(),
        actions in prop::collection::vec(action(), 1..30),
    ) {
        let mut w = World::new(append);
        for (i, a) in actions.iter().enumerate() {
            w.apply(a);
            let h = w.mirror_history();
            prop_assert!(
                w.model.starts_with(&h),
                "after step {i} ({a:?}): the mirror is not a prefix of what was written ({} vs {} bytes)",
                h.len(),
                w.model.len()
            );
        }
        // Drain everything: then the mirror is all of it.
        let now = Utc::now();
        w.p().discover(now);
        while w.p().pump(now).more {}
        w.p().finish_drained_now(now);
        w.p().shutdown(now);
        let h = w.mirror_history();
        prop_assert!(h == w.model, "final mirror differs: {} vs {} bytes", h.len(), w.model.len());
    }
}
