//! `check` and config errors, as an ops script sees them.

use crate::harness::*;

#[test]
fn shipped_configs_pass_check() {
    let root = env!("CARGO_MANIFEST_DIR");
    for cfg in ["config/local.toml", "config/logwarden.toml"] {
        let out = std::process::Command::new(BIN)
            .args(["check", "-c"])
            .arg(format!("{root}/{cfg}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cfg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("next cut"), "{cfg}: {text}");
    }
}

#[test]
fn check_prints_the_plan_with_files_and_strategy() {
    let env = Env::new();
    env.config("schedule = \"daily\"\nat = \"00:00\"", "");
    std::fs::write(env.log("a.log"), b"x\n").unwrap();
    std::fs::write(env.log("a.log.2026-01-01.gz"), b"").unwrap();
    let out = env.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("source \"app\""), "{text}");
    assert!(
        text.contains("a.log (2 B) -> rename: no process holds it open"),
        "{text}"
    );
    assert!(
        !text.contains("file:      a.log.2026-01-01.gz"),
        "archives are not live files: {text}"
    );
    assert!(text.contains("daily at 00:00 (UTC); next cut"), "{text}");
    // It is an archive retention would delete, and check says so.
    assert!(
        text.contains("would delete") && text.contains("a.log.2026-01-01.gz (older than max_age"),
        "{text}"
    );
}

#[test]
fn bad_config_names_file_line_and_column_and_exits_1() {
    let env = Env::new();
    env.config("max_age = \"thirty days\"", "");
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:6:11: invalid duration", env.config.display());
    assert!(err.contains(&want), "want {want:?} in {err}");
}

#[test]
fn every_key_wrong_in_turn_is_refused_with_its_position() {
    let env = Env::new();
    let cases = [
        ("schedule = \"fortnightly\"", "6:12"),
        ("at = \"noon\"", "6:6"),
        ("timezone = \"Europe/Atlantis\"", "6:12"),
        ("max_size = \"big\"", "6:12"),
        ("strategy = \"shred\"", "6:12"),
        ("compress = \"zip\"", "6:12"),
        ("delay_compress = \"yes\"", "6:18"),
        ("max_archives = -1", "6:16"),
        ("max_total_size = \"lots\"", "6:18"),
        ("create = 1", "6:10"),
        ("writer_grace = \"soon\"", "6:16"),
        ("colour = \"blue\"", "6:1"),
    ];
    for (line, pos) in cases {
        env.config(line, "");
        let out = env.run(&["check"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{line}: {err}");
        assert!(
            err.contains(&format!("logwarden.toml:{pos}: ")),
            "{line}: want {pos} in {err}"
        );
    }
}

#[test]
fn help_and_version() {
    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("rotate"),
        "{text}"
    );
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("logwarden "));
}
