//! Hostile directory contents: links out, hard links, FIFOs, insecure
//! directories. None may be followed, hang the daemon or be touched.

use std::time::Duration;

use crate::harness::*;

#[test]
fn a_symlink_pointing_outside_is_never_followed() {
    let env = Env::new();
    env.config("", "");
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow.log");
    std::fs::write(&secret, b"root-owned content\n").unwrap();
    std::os::unix::fs::symlink(&secret, env.log("evil.log")).unwrap();
    std::fs::write(env.log("app.log"), b"ok\n").unwrap();
    let out = env.run(&["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&secret).unwrap(), b"root-owned content\n");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        1,
        "nothing created outside"
    );
    assert!(std::fs::symlink_metadata(env.log("evil.log"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(env.archives("evil.log").is_empty());
    assert_eq!(env.archives("app.log").len(), 1);
    let skips = env.journal_actions("skip");
    assert!(
        skips
            .iter()
            .any(|s| s["new"].as_str().unwrap().contains("symbolic link")),
        "{skips:?}"
    );
}

#[test]
fn hard_linked_files_are_skipped() {
    let env = Env::new();
    env.config("", "");
    std::fs::write(env.log("a.log"), b"shared\n").unwrap();
    std::fs::hard_link(env.log("a.log"), env.tmp.path().join("elsewhere")).unwrap();
    assert!(env.run(&["rotate"]).status.success());
    assert_eq!(std::fs::read(env.log("a.log")).unwrap(), b"shared\n");
    assert!(env.archives("a.log").is_empty());
    assert!(env.journal_actions("skip")[0]["new"]
        .as_str()
        .unwrap()
        .contains("hard links"));
}

#[test]
fn a_fifo_matching_the_glob_does_not_hang_anything() {
    let env = Env::new();
    env.config("", "");
    let c = std::ffi::CString::new(env.log("pipe.log").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::fs::write(env.log("app.log"), b"ok\n").unwrap();
    let out = env.run(&["rotate"]); // Env::run fails the test after 60 s
    assert!(out.status.success());
    assert_eq!(env.archives("app.log").len(), 1);
    let out = env.run(&["check"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("pipe.log: it is not a regular file"));
    // And the daemon keeps working with it there.
    let mut d = env.daemon();
    std::fs::write(env.log("app.log"), b"more\n").unwrap();
    d.signal(libc::SIGUSR1);
    assert!(wait_for(Duration::from_secs(10), || env
        .archives("app.log")
        .len()
        == 2));
    assert!(d.stop().success());
}

#[test]
fn an_insecure_directory_is_refused_unless_su_is_given() {
    let env = Env::new();
    env.config("", "");
    std::fs::write(env.log("app.log"), b"x\n").unwrap();
    set_mode(&env.logs, 0o777);
    let out = env.run(&["rotate"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("refusing directory") && text.contains("world-writable"),
        "{text}"
    );
    assert!(env.archives("app.log").is_empty());
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "check fails too");

    env.config("", "su = { user = \"root\", group = \"root\" }");
    let out = env.run(&["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.archives("app.log").len(), 1);
}
