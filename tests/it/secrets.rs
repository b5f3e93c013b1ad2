//! No secret leaves, whatever its key: the value detectors end to end. A
//! writer logs secrets of every family in every carrier, and a private key
//! across lines while the daemon is `kill -9`'d in the middle of the block;
//! nothing of them reaches the mirror, and clean lines arrive untouched.

use std::time::Duration;

use crate::harness::*;

// The generator the fuzz targets use too (fuzz/src/checks.rs includes it).
use crate::fuzz_corpus::checks::samples::{self, lcg};

#[test]
fn secrets_of_every_family_and_carrier_never_reach_the_mirror() {
    let env = Env::new();
    env.mirror_config("", "");
    let mut text = String::new();
    let mut cores = Vec::new();
    for seed in 0..3 {
        for s in samples::all(&mut lcg(seed)) {
            for line in samples::carriers(&s) {
                text.push_str(&line);
                text.push('\n');
            }
            cores.push((s.family, s.core));
        }
    }
    for clean in samples::CLEAN {
        text.push_str(clean);
        text.push('\n');
    }
    let mut d = env.daemon();
    append(&env.log("app.log"), &text);
    let want = text.lines().count();
    assert!(wait_for(Duration::from_secs(20), || env
        .mirror_lines("app.log")
        >= want));
    assert!(d.stop().success());
    let got = String::from_utf8(env.mirror_history("app.log")).unwrap();
    for (family, core) in &cores {
        assert!(
            !got.contains(core.as_str()),
            "{family} reached the mirror: {core}"
        );
    }
    for clean in samples::CLEAN {
        assert!(
            got.lines().any(|l| l == *clean),
            "a clean line was changed: {clean}"
        );
    }
    // Counted by rule id, as keys are.
    let summary = env.journal_actions("redaction.summary");
    let text = format!("{summary:?}");
    assert!(
        text.contains("github-token=") && text.contains("url-credentials="),
        "{text}"
    );
}

/// A PEM key written line by line; the daemon is killed with SIGKILL once
/// part of the block is in the mirror and checkpointed, and restarted: the
/// rest of the block is still masked (the state is part of the checkpoint),
/// and the lines after END arrive as written.
#[test]
fn a_private_key_across_lines_stays_masked_through_kill_9() {
    let env = Env::new();
    env.mirror_config("", "");
    let log = env.log("app.log");
    let body: Vec<String> = (0..12)
        .map(|i| format!("MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ff{i:02}"))
        .collect();
    let mut d = env.daemon();
    append(
        &log,
        "2026-12-07 10:00:00 INFO loading signing key\n-----BEGIN RSA PRIVATE KEY-----\n",
    );
    for l in &body[..5] {
        append(&log, &format!("{l}\n"));
    }
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_lines("app.log")
        >= 7));
    let ck = env.state.join("tail.json");
    assert!(
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(&ck)
            .is_ok_and(|t| t.contains("\"pem_lines\":6"))),
        "the open block never reached the checkpoint: {}",
        std::fs::read_to_string(&ck).unwrap_or_default()
    );
    d.kill9();
    for l in &body[5..] {
        append(&log, &format!("{l}\n"));
    }
    append(
        &log,
        "-----END RSA PRIVATE KEY-----\n2026-12-07 10:00:01 INFO key loaded\n",
    );
    let mut d = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || {
        String::from_utf8_lossy(&env.mirror_history("app.log")).contains("key loaded")
    }));
    assert!(d.stop().success());
    let got = String::from_utf8(env.mirror_history("app.log")).unwrap();
    for l in &body {
        assert!(
            !got.contains(&l[..20]),
            "a key line reached the mirror:\n{got}"
        );
    }
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 2 + body.len() + 2, "{got}");
    assert_eq!(lines[0], "2026-12-07 10:00:00 INFO loading signing key");
    assert_eq!(lines[1], "-----BEGIN RSA PRIVATE KEY-----");
    assert_eq!(lines[lines.len() - 2], "-----END RSA PRIVATE KEY-----");
    assert_eq!(
        lines[lines.len() - 1],
        "2026-12-07 10:00:01 INFO key loaded"
    );
}

/// `logwarden redact --explain` names what masked each span; `check` lists
/// the active detectors, without the disabled ones.
#[test]
fn explain_and_check_show_the_detectors() {
    let env = Env::new();
    env.config("", "");
    env.config_tail("[redact]\ndisable = [\"stripe-secret-key\"]");
    let out =
        env.cmd(&["redact", "--explain"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(
                    b"redis://:s3cretpw@cache:6379/0 sk_live_4eC39HqLyjWDarjtT1zdp7dc\n",
                )?;
                c.wait_with_output()
            })
            .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!text.contains("s3cretpw"), "{text}");
    assert!(
        text.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        "disabled rule ran: {text}"
    );
    assert!(
        text.contains("  ^ 1 masked by rule url-credentials"),
        "{text}"
    );
    let check = String::from_utf8(env.run(&["check"]).stdout).unwrap();
    let line = check.lines().find(|l| l.starts_with("detectors:")).unwrap();
    assert!(
        line.contains("github-token") && !line.contains("stripe-secret-key"),
        "{line}"
    );
    assert!(check.contains("disabled:  stripe-secret-key"), "{check}");
}

/// A private key block cut in two by a rename: its rest, written to the
/// new file, is masked too.
#[test]
fn a_private_key_split_by_a_cut_stays_masked() {
    let env = Env::new();
    env.mirror_config("", "");
    let log = env.log("app.log");
    let mut d = env.daemon();
    append(
        &log,
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFIRSTHALFOFTHEKEYBODY0000\n",
    );
    assert!(wait_for(Duration::from_secs(10), || env
        .mirror_lines("app.log")
        >= 2));
    let out = env.run(&["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_for(Duration::from_secs(10), || !log.exists()));
    append(
        &log,
        "AwEHoUQDQgAESECONDHALFOFTHEKEYBODY11\n-----END EC PRIVATE KEY-----\nafter the key\n",
    );
    assert!(wait_for(Duration::from_secs(10), || {
        String::from_utf8_lossy(&env.mirror_history("app.log")).contains("after the key")
    }));
    assert!(d.stop().success());
    let got = String::from_utf8(env.mirror_history("app.log")).unwrap();
    assert!(
        !got.contains("FIRSTHALF") && !got.contains("SECONDHALF"),
        "{got}"
    );
    assert!(
        got.contains("-----END EC PRIVATE KEY-----\nafter the key\n"),
        "{got}"
    );
}
