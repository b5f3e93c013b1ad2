//! Recovery decisions at start, on real files: where an input resumes after
//! a crash around a prefix removal, and after its inode was reused.

use super::*;
use rustix::fs::FallocateFlags;
use std::io::Write;

fn setup(content: &[u8]) -> (tempfile::TempDir, SafeDir, Meta) {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.log"), content).unwrap();
    let dir = SafeDir::open(t.path()).unwrap();
    let meta = dir.stat("a.log").unwrap();
    (t, dir, meta)
}

fn ck(dir: &SafeDir, meta: &Meta, offset: u64, shift: Option<Shift>) -> InputCk {
    let f = dir.open_read("a.log").unwrap();
    let fp = Fingerprint::of(&f, 0, FINGERPRINT_LEN.min(offset)).unwrap();
    InputCk {
        base: "a.log".into(),
        name: "a.log".into(),
        dev: meta.dev,
        ino: meta.ino,
        fp_len: fp.len,
        fp: fp.hex,
        offset,
        draining_since: None,
        shift,
        pem_lines: 0,
    }
}

fn resume_at(dir: &SafeDir, ick: &InputCk) -> (u64, bool) {
    let (input, note) = recover_input(dir, ick, 1 << 16).unwrap().unwrap();
    (input.t.committed, note.is_some())
}

/// The removal of the first `k` bytes, recorded as the cut records it.
fn collapse_intent(dir: &SafeDir, k: u64) -> Shift {
    let f = dir.open_read("a.log").unwrap();
    let after = Fingerprint::of(&f, k, FINGERPRINT_LEN).unwrap();
    Shift {
        k,
        fp_len: after.len,
        fp: after.hex,
    }
}

fn lines(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("line {i:06}\n").into_bytes())
        .collect()
}

#[test]
fn a_removal_recorded_but_not_done_resumes_at_the_offset() {
    let (_t, dir, meta) = setup(&lines(1000)); // 12,000 bytes
    let shift = collapse_intent(&dir, 8192);
    assert_eq!(
        resume_at(&dir, &ck(&dir, &meta, 12_000, Some(shift))),
        (12_000, false)
    );
}

#[test]
fn a_collapse_done_before_the_crash_resumes_shifted() {
    let (t, dir, meta) = setup(&lines(1000));
    let shift = collapse_intent(&dir, 8192);
    let ick = ck(&dir, &meta, 12_000, Some(shift));
    // The collapse, as the kernel would do it (same inode).
    let all = std::fs::read(t.path().join("a.log")).unwrap();
    let rw = dir.open_rw("a.log").unwrap();
    rw.set_len(0).unwrap();
    (&rw).write_all(&all[8192..]).unwrap();
    assert_eq!(resume_at(&dir, &ick), (12_000 - 8192, false));
}

#[test]
fn a_punch_done_before_the_crash_resumes_at_the_same_offset() {
    let (_t, dir, meta) = setup(&lines(1000));
    let shift = Shift {
        k: 0,
        fp_len: FINGERPRINT_LEN,
        fp: Fingerprint::zeros(FINGERPRINT_LEN).hex,
    };
    let ick = ck(&dir, &meta, 12_000, Some(shift));
    let rw = dir.open_rw("a.log").unwrap();
    rustix::fs::fallocate(
        &rw,
        FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
        0,
        12_000,
    )
    .unwrap();
    assert_eq!(resume_at(&dir, &ick), (12_000, false));
}

#[test]
fn a_reused_inode_with_other_content_is_read_from_the_start() {
    let (t, dir, meta) = setup(&lines(100));
    let ick = ck(&dir, &meta, 1200, None);
    // Same inode, rewritten in place with other content of the same length.
    let rw = dir.open_rw("a.log").unwrap();
    (&rw).write_all(&vec![b'z'; 1200]).unwrap();
    assert_eq!(dir.stat("a.log").unwrap().ino, meta.ino);
    let _ = t;
    assert_eq!(resume_at(&dir, &ick), (0, true));
}

#[test]
fn a_file_renamed_before_the_crash_is_found_and_drained() {
    let (t, dir, meta) = setup(&lines(10));
    let ick = ck(&dir, &meta, 60, None);
    std::fs::rename(t.path().join("a.log"), t.path().join("a.log.2026-11-20")).unwrap();
    std::fs::write(t.path().join("a.log"), b"new\n").unwrap();
    let (input, note) = recover_input(&dir, &ick, 1 << 16).unwrap().unwrap();
    assert_eq!(input.t.name, "a.log.2026-11-20");
    assert_eq!(input.t.committed, 60);
    assert!(
        input.draining_since.is_some(),
        "it is drained, then finished"
    );
    assert!(note.is_none());
}

#[test]
fn a_mirror_is_cut_back_to_its_checkpoint_even_under_its_archive_name() {
    let t = tempfile::tempdir().unwrap();
    let out = SafeDir::open(t.path()).unwrap();
    std::fs::write(t.path().join("a.log"), b"one\ntwo\nthree\n").unwrap();
    let m = out.stat("a.log").unwrap();
    let mck = MirrorCk {
        dev: m.dev,
        ino: m.ino,
        len: 8,
    };
    // Cut (renamed) just before the crash; a new, unknown live mirror exists.
    std::fs::rename(t.path().join("a.log"), t.path().join("a.log.2026-11-20")).unwrap();
    std::fs::write(t.path().join("a.log"), b"never checkpointed\n").unwrap();
    let (live, renamed) = recover_mirror(&out, "a.log", &mck).unwrap();
    assert!(live.is_none());
    // Named, so the caller journals the rename the crash kept from the journal.
    assert_eq!(renamed.as_deref(), Some("a.log.2026-11-20"));
    assert_eq!(
        std::fs::read(t.path().join("a.log.2026-11-20")).unwrap(),
        b"one\ntwo\n"
    );
    assert_eq!(std::fs::read(t.path().join("a.log")).unwrap(), b"");
}
