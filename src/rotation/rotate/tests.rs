use super::*;
use crate::sys::holders::{Lock, Writer};
use std::io::Write as _;
use std::os::unix::fs::FileExt;

/// Hook: 0 none, 1 usable, 2 unusable, 3 does not reach the writer.
fn facts(writers: usize, lock: bool, hook: u8) -> Facts {
    Facts {
        writers: (0..writers)
            .map(|i| Writer {
                pid: 100 + i as u32,
                comm: "app".into(),
            })
            .collect(),
        locks: if lock {
            vec![Lock {
                kind: "FLOCK".into(),
                pid: Some(7),
            }]
        } else {
            vec![]
        },
        hook: match hook {
            0 => None,
            1 => Some(Verdict::Fire(None)),
            2 => Some(Verdict::Unusable(
                "reopen hook unusable: /run/app.pid missing".into(),
            )),
            _ => Some(Verdict::NotNeeded),
        },
    }
}

#[test]
fn auto_strategy_table() {
    let cases = [
        // (writers, locked, hook) -> strategy, reason fragment
        ((0, false, 0), Strategy::Rename, "no process holds it open"),
        ((0, false, 2), Strategy::Rename, "no process holds it open"),
        ((1, false, 0), Strategy::CopyTruncate, "no reopen hook"),
        ((1, false, 1), Strategy::Rename, "reopen hook"),
        // A hook that cannot work is not trusted on its word.
        (
            (1, false, 2),
            Strategy::CopyTruncate,
            "reopen hook unusable: /run/app.pid missing",
        ),
        (
            (1, false, 3),
            Strategy::CopyTruncate,
            "the reopen hook does not reach",
        ),
        (
            (0, true, 1),
            Strategy::CopyTruncate,
            "locked (flock by pid 7)",
        ),
        ((1, true, 0), Strategy::CopyTruncate, "locked"),
    ];
    for ((w, l, h), want, why) in cases {
        let c = choose(StrategyCfg::Auto, &facts(w, l, h));
        assert_eq!(c.strategy, want, "{w} {l} {h}");
        assert!(c.reason.contains(why), "{}", c.reason);
    }
    assert_eq!(
        choose(StrategyCfg::Rename, &facts(1, true, 2)).strategy,
        Strategy::Rename
    );
    assert_eq!(
        choose(StrategyCfg::CopyTruncate, &facts(0, false, 1)).strategy,
        Strategy::CopyTruncate
    );
}

#[test]
fn writer_grace_table() {
    let s = Duration::from_secs;
    // (held, idle, grace) -> finished?
    let cases = [
        ((false, s(0), s(60)), Some(Finish::Closed)),
        ((false, s(999), s(60)), Some(Finish::Closed)),
        // Still written to: kept, however long ago it was renamed.
        ((true, s(0), s(60)), None),
        ((true, s(59), s(60)), None),
        ((true, s(60), s(60)), Some(Finish::Idle)),
        ((true, s(3600), s(0)), Some(Finish::Idle)),
    ];
    for ((held, idle, grace), want) in cases {
        assert_eq!(
            renamed_finished(held, idle, grace),
            want,
            "{held} {idle:?} {grace:?}"
        );
    }
}

#[test]
fn removal_table() {
    use Removal::*;
    let all = Capable {
        collapse: true,
        punch: true,
    };
    let rotate_mode = Capable {
        collapse: true,
        punch: false,
    };
    let no_collapse = Capable {
        collapse: false,
        punch: true,
    };
    let neither = Capable {
        collapse: false,
        punch: false,
    };
    // (capable, safe prefix, file size, block, choice)
    let cases = [
        // A block or more is safe and the writer added more: collapse.
        (all, 10_000, 12_000, 4096, Some(Collapse)),
        (rotate_mode, 10_000, 12_000, 4096, Some(Collapse)),
        // Collapse needs something left after the aligned part.
        (rotate_mode, 8192, 8192, 4096, Some(Truncate)),
        (all, 8192, 8192, 4096, Some(Punch)),
        // Less than a block safe: nothing to collapse.
        (all, 100, 5000, 4096, Some(Punch)),
        (rotate_mode, 100, 100, 4096, Some(Truncate)),
        (rotate_mode, 100, 5000, 4096, None),
        // Collapse refused (tmpfs, btrfs): punch where allowed, else truncate
        // only when nothing is unread.
        (no_collapse, 10_000, 12_000, 4096, Some(Punch)),
        (neither, 10_000, 12_000, 4096, None),
        (neither, 10_000, 10_000, 4096, Some(Truncate)),
        // Nothing safe, nothing there: an empty truncate.
        (all, 0, 0, 4096, Some(Truncate)),
        (all, 0, 10, 4096, None),
        // A block size of 0 reported by a broken filesystem counts as 1.
        (rotate_mode, 10, 20, 0, Some(Collapse)),
    ];
    for (can, done, size, blk, want) in cases {
        assert_eq!(
            removal(can, done, size, blk),
            want,
            "{can:?} done {done} size {size} blk {blk}"
        );
    }
}

#[test]
fn remove_prefix_truncates_only_a_file_that_did_not_grow() {
    let (_t, dir, _) = setup(b"0123456789");
    let f = dir.open_rw("a.log").unwrap();
    let mut can = Capable {
        collapse: false,
        punch: false,
    };
    assert!(!remove_prefix(&f, Removal::Truncate, 4, 4096, &mut can, "a.log").unwrap());
    assert_eq!(f.metadata().unwrap().len(), 10);
    assert!(remove_prefix(&f, Removal::Truncate, 10, 4096, &mut can, "a.log").unwrap());
    assert_eq!(f.metadata().unwrap().len(), 0);
}

fn setup(content: &[u8]) -> (tempfile::TempDir, SafeDir, Meta) {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.log"), content).unwrap();
    let dir = SafeDir::open(t.path()).unwrap();
    let meta = dir.stat("a.log").unwrap();
    (t, dir, meta)
}

fn spec(strategy: Strategy) -> CutSpec<'static> {
    CutSpec {
        label: "2026-11-20",
        choice: Choice {
            strategy,
            reason: "test".into(),
        },
        may_fall_back: true,
        create: None,
        reopen: None,
    }
}

#[test]
fn copy_truncate_moves_everything_exactly_once() {
    // Sizes around the block size exercise both collapse and plain truncate.
    for size in [10usize, 4095, 4096, 4097, 100_000] {
        let data: Vec<u8> = (0..size).map(|i| b"abcdefghij\n"[i % 11]).collect();
        let (t, dir, meta) = setup(&data);
        let cut = cut(&dir, "a.log", &meta, spec(Strategy::CopyTruncate)).unwrap();
        let archived = std::fs::read(t.path().join(cut.archive.plain_name())).unwrap();
        let live = std::fs::read(t.path().join("a.log")).unwrap();
        assert_eq!([archived.clone(), live].concat(), data, "size {size}");
        assert_eq!(cut.bytes, archived.len() as u64);
        assert_eq!(
            dir.stat("a.log").unwrap().ino,
            meta.ino,
            "copy-truncate keeps the inode"
        );
        let leftovers: Vec<_> = dir
            .list()
            .unwrap()
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn holes_and_their_nul_runs_are_not_archived() {
    // What a writer without O_APPEND leaves after a truncate: a hole, then its line.
    let t = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(t.path().join("a.log")).unwrap();
    f.write_all_at(b"late line\n", 1 << 20).unwrap();
    drop(f);
    let dir = SafeDir::open(t.path()).unwrap();
    let meta = dir.stat("a.log").unwrap();
    let cut = cut(&dir, "a.log", &meta, spec(Strategy::CopyTruncate)).unwrap();
    let archived = std::fs::read(t.path().join(cut.archive.plain_name())).unwrap();
    let live = std::fs::read(t.path().join("a.log")).unwrap();
    let all: Vec<u8> = [archived, live].concat();
    assert_eq!(all, b"late line\n");
}

#[test]
fn rename_takes_the_next_free_name_and_never_overwrites() {
    let (t, dir, meta) = setup(b"one\n");
    std::fs::write(t.path().join("a.log.2026-11-20.gz"), b"old archive").unwrap();
    let c = cut(&dir, "a.log", &meta, spec(Strategy::Rename)).unwrap();
    assert_eq!(c.archive.plain_name(), "a.log.2026-11-20.1");
    assert_eq!(
        std::fs::read(t.path().join("a.log.2026-11-20.gz")).unwrap(),
        b"old archive"
    );
    assert_eq!(
        std::fs::read(t.path().join("a.log.2026-11-20.1")).unwrap(),
        b"one\n"
    );
    assert!(!t.path().join("a.log").exists());
}

#[test]
fn rename_with_create_recreates_with_owner_and_mode() {
    let (t, dir, _) = setup(b"one\n");
    std::fs::set_permissions(
        t.path().join("a.log"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let meta = dir.stat("a.log").unwrap();
    let mut s = spec(Strategy::Rename);
    s.create = Some(crate::config::Create::default());
    cut(&dir, "a.log", &meta, s).unwrap();
    let new = dir.stat("a.log").unwrap();
    assert_ne!(new.ino, meta.ino);
    assert_eq!(
        (new.perm(), new.uid, new.gid, new.size),
        (0o640, meta.uid, meta.gid, 0)
    );
}

#[test]
fn a_name_swapped_for_a_symlink_is_put_back_not_followed() {
    let (t, dir, meta) = setup(b"one\n");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"root only").unwrap();
    std::fs::remove_file(t.path().join("a.log")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), t.path().join("a.log")).unwrap();
    assert!(cut(&dir, "a.log", &meta, spec(Strategy::Rename)).is_err());
    assert!(cut(&dir, "a.log", &meta, spec(Strategy::CopyTruncate)).is_err());
    assert_eq!(
        std::fs::read(outside.path().join("secret")).unwrap(),
        b"root only"
    );
    assert!(std::fs::symlink_metadata(t.path().join("a.log"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn recovery_tells_a_finished_cut_from_an_unfinished_one() {
    // Crash before the truncate: the live file still holds the copy -> discard it.
    let (t, dir, _) = setup(b"line 1\nline 2\n");
    std::fs::write(
        t.path().join(".a.log.2026-11-20.logwarden-tmp"),
        b"line 1\nline 2\n",
    )
    .unwrap();
    let names = dir.list().unwrap();
    let r = recover(&dir, &names);
    assert!(matches!(r.as_slice(), [(_, Ok(None))]), "{r:?}");
    assert_eq!(
        std::fs::read(t.path().join("a.log")).unwrap(),
        b"line 1\nline 2\n"
    );
    assert!(!t.path().join(".a.log.2026-11-20.logwarden-tmp").exists());

    // Crash after the truncate: the copy is the only one -> it becomes the archive.
    std::fs::write(t.path().join("a.log"), b"line 3\n").unwrap();
    let mut f = std::fs::File::create(t.path().join(".a.log.2026-11-20.logwarden-tmp")).unwrap();
    f.write_all(b"line 1\nline 2\n").unwrap();
    drop(f);
    let names = dir.list().unwrap();
    let r = recover(&dir, &names);
    assert!(
        matches!(r.as_slice(), [(_, Ok(Some(a)))] if a.plain_name() == "a.log.2026-11-20"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read(t.path().join("a.log.2026-11-20")).unwrap(),
        b"line 1\nline 2\n"
    );
}
