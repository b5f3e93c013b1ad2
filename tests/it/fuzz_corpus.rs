//! Replays the fuzz targets' corpus (`fuzz/corpus/<target>/`) through the
//! same invariants the targets check (`fuzz/src/checks.rs`, compiled here
//! too), on stable Rust: every input kept there, seeds and whatever a long
//! run added, stays a regression test of the normal suite. Fuzzing itself is
//! described in fuzz/README.md.

#[path = "../../fuzz/src/checks.rs"]
pub mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The files of one target's corpus, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no corpus", dir.display());
    files
}

/// Runs `check` on every file of `target`'s corpus; a failure names the file.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for path in corpus(target) {
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let why = e
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("panic");
            panic!(
                "fuzz target {target}: {} fails (reproduce: cargo +nightly fuzz run {target} {}):\n{why}",
                path.display(),
                path.display()
            );
        }
    }
}

#[test]
fn redact() {
    replay("redact", checks::redact);
}

#[test]
fn redact_planted() {
    replay("redact_planted", |data| {
        if let Some(case) = checks::decode::<checks::Planted>(data) {
            checks::redact_planted(&case);
        }
    });
}

#[test]
fn config() {
    let dir = tempfile::tempdir().unwrap();
    replay("config", |data| checks::config(dir.path(), data));
}

#[test]
fn journal() {
    replay("journal", checks::journal);
}

#[test]
fn journal_mutate() {
    replay("journal_mutate", |data| {
        if let Some(case) = checks::decode::<checks::ChainCase>(data) {
            checks::journal_mutate(&case);
        }
    });
}

#[test]
fn splitter() {
    replay("splitter", |data| {
        if let Some(case) = checks::decode::<checks::SplitCase>(data) {
            checks::splitter(&case);
        }
    });
}
