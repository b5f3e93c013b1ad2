//! Model-based test of the rotation engine, after Vector's file_watcher
//! tests: random sequences of actions (write lines, cut by rename or
//! copy-truncate, compress, crash before or after a truncate and recover)
//! are applied to a real directory and to a model (the bytes written so
//! far). After every action the file's history — archives in cut order,
//! decompressed, then the live file — must equal the model exactly (NULs of
//! a non-O_APPEND writer's hole aside), and no temp file may be left.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};

use logwarden::policy::archive;
use logwarden::rotation::compress;
use logwarden::rotation::rotate::{self, Choice, CutSpec, Strategy as Cut};
use logwarden::sys::safe_dir::SafeDir;
use proptest::prelude::*;

use crate::harness::read_maybe_gz;

const LABEL: &str = "2026-11-20";

#[derive(Debug, Clone)]
enum Action {
    Write(usize),
    Cut(Cut),
    Compress,
    CrashBeforeTruncate,
    CrashAfterTruncate,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (1usize..200).prop_map(Action::Write),
        2 => Just(Action::Cut(Cut::CopyTruncate)),
        2 => Just(Action::Cut(Cut::Rename)),
        1 => Just(Action::Compress),
        1 => Just(Action::CrashBeforeTruncate),
        1 => Just(Action::CrashAfterTruncate),
    ]
}

struct World {
    tmp: tempfile::TempDir,
    dir: SafeDir,
    append: bool,
    writer: File,
    model: Vec<u8>,
    seq: usize,
}

impl World {
    fn new(append: bool) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SafeDir::open(tmp.path()).unwrap();
        let writer = open_writer(tmp.path(), append);
        World {
            tmp,
            dir,
            append,
            writer,
            model: Vec::new(),
            seq: 0,
        }
    }

    fn history(&self) -> Vec<u8> {
        let mut archives: Vec<_> = self
            .dir
            .list()
            .unwrap()
            .iter()
            .filter_map(|n| archive::parse_for("a.log", n))
            .collect();
        archives.sort_by(|a, b| a.cut_order(b));
        let mut all = Vec::new();
        for a in archives {
            all.extend(read_maybe_gz(&self.tmp.path().join(a.file_name())));
        }
        all.extend(std::fs::read(self.tmp.path().join("a.log")).unwrap_or_default());
        all.retain(|b| *b != 0);
        all
    }

    fn live_len(&self) -> u64 {
        self.dir.stat("a.log").map(|m| m.size).unwrap_or(0)
    }

    /// Leave a temp copy of the live file as a crash mid copy-truncate would.
    fn stale_copy(&self) -> String {
        let a = logwarden::rotation::rotate::archive_name(&self.dir, "a.log", LABEL);
        let tmp = a.copy_tmp_name();
        std::fs::copy(self.tmp.path().join("a.log"), self.tmp.path().join(&tmp)).unwrap();
        tmp
    }

    fn apply(&mut self, a: &Action) {
        match a {
            Action::Write(n) => {
                for _ in 0..*n {
                    let line = format!("seq={} {}\n", self.seq, "y".repeat(self.seq % 97));
                    self.seq += 1;
                    self.writer.write_all(line.as_bytes()).unwrap();
                    self.model.extend_from_slice(line.as_bytes());
                }
            }
            Action::Cut(strategy) => {
                if self.live_len() == 0 {
                    return;
                }
                let meta = self.dir.stat("a.log").unwrap();
                let spec = CutSpec {
                    label: LABEL,
                    choice: Choice {
                        strategy: *strategy,
                        reason: "model".into(),
                    },
                    may_fall_back: false,
                    create: None,
                    reopen: None,
                };
                let cut = rotate::cut(&self.dir, "a.log", &meta, spec).unwrap();
                assert_eq!(cut.strategy, *strategy);
                if *strategy == Cut::Rename {
                    // The writer's reopen hook.
                    self.writer = open_writer(self.tmp.path(), self.append);
                }
            }
            Action::Compress => {
                for n in self.dir.list().unwrap() {
                    if let Some(a) = archive::parse_for("a.log", &n).filter(|a| !a.gz) {
                        compress::compress(&self.dir, &a, &mut |_| {}).unwrap();
                    }
                }
            }
            Action::CrashBeforeTruncate => {
                if self.live_len() == 0 {
                    return;
                }
                self.stale_copy();
                let r = rotate::recover(&self.dir, &self.dir.list().unwrap());
                assert!(matches!(r.as_slice(), [(_, Ok(None))]), "{r:?}");
            }
            Action::CrashAfterTruncate => {
                if self.live_len() == 0 {
                    return;
                }
                self.stale_copy();
                OpenOptions::new()
                    .write(true)
                    .open(self.tmp.path().join("a.log"))
                    .unwrap()
                    .set_len(0)
                    .unwrap();
                let r = rotate::recover(&self.dir, &self.dir.list().unwrap());
                assert!(matches!(r.as_slice(), [(_, Ok(Some(_)))]), "{r:?}");
            }
        }
    }
}

fn open_writer(dir: &std::path::Path, append: bool) -> File {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_exactly_once_through_any_sequence(
        append in any::<bool>(),
        actions in prop::collection::vec(action(), 1..40),
    ) {
        let mut w = World::new(append);
        for (i, a) in actions.iter().enumerate() {
            w.apply(a);
            let mut want = w.model.clone();
            want.retain(|b| *b != 0);
            prop_assert!(w.history() == want, "after step {i} ({a:?}): history differs from the model");
            let temps: Vec<_> = w.dir.list().unwrap().into_iter().filter(|n| n.ends_with(archive::TMP_SUFFIX)).collect();
            prop_assert!(temps.is_empty(), "temp files left after {a:?}: {temps:?}");
        }
    }
}
