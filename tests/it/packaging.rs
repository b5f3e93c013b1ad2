//! What ships besides the binary: the systemd unit must verify cleanly.

use crate::harness::BIN;

#[test]
fn systemd_unit_verifies_without_warnings() {
    let root = env!("CARGO_MANIFEST_DIR");
    let have = std::process::Command::new("sh")
        .args(["-c", "command -v systemd-analyze"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have systemd-analyze (.ci/run installs it)"
        );
        eprintln!("skipped: systemd-analyze is not installed (apt-get install systemd)");
        return;
    }
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/.ci/verify-unit.sh"))
        .arg(BIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "systemd-analyze verify complained:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
