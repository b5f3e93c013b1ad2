//! Evidence bundles: `export` a period spanning cuts, compression and a
//! retention deletion; `verify --bundle` on the bundle moved elsewhere, and
//! each way of tampering with it caught.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::*;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `verify --bundle` with no config at all (an auditor's machine).
fn verify_bundle(dir: &Path, key: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(["verify", "--bundle"])
        .arg(dir)
        .args(["-c", "/nonexistent/logwarden.toml"]);
    if let Some(k) = key {
        c.arg("--public-key").arg(k);
    }
    c.output().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A line a day for four days, each cut by a one-shot rotation at an
/// injected time.
fn cut_four_days(env: &Env) {
    for (day, at) in [
        ("day one\n", "2026-11-20T10:00:00Z"),
        ("day two\n", "2026-11-21T10:00:00Z"),
        ("day three\n", "2026-11-22T10:00:00Z"),
        ("day four\n", "2026-11-23T10:00:00Z"),
    ] {
        append(&env.log("app.log"), day);
        env.rotate_at(at);
    }
}

/// Four days cut by one-shot rotations at injected times; at most two
/// archives kept, so the first day's is deleted by retention.
fn four_days(env: &Env) {
    env.config("schedule = \"daily\"\nmax_archives = 2", "");
    assert!(env.run(&["keygen"]).status.success());
    // A daemon's start records the config version in force.
    let mut d = env.daemon_at("2026-11-19T10:00:00Z");
    assert!(d.stop().success());
    cut_four_days(env);
}

/// `logwarden export --since SINCE --until UNTIL` into `<tmp>/bundle`.
fn export(env: &Env, since: &str, until: &str) -> (std::path::PathBuf, Output) {
    let out = env.tmp.path().join("bundle");
    let o = env.run(&[
        "export",
        "--since",
        since,
        "--until",
        until,
        "--out",
        out.to_str().unwrap(),
    ]);
    (out, o)
}

#[test]
fn an_exported_period_verifies_anywhere_and_tampering_is_caught() {
    let env = Env::new();
    four_days(&env);
    let (out, o) = export(&env, "2026-11-21", "2026-11-23");
    assert!(o.status.success(), "{}", text(&o));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with("app.log.2026-11-21.gz"))
            && names.iter().any(|n| n.ends_with("app.log.2026-11-22.gz")),
        "{names:?}"
    );
    assert!(std::fs::read_to_string(out.join("README.txt"))
        .unwrap()
        .contains("logwarden verify --bundle"));
    assert!(!m["config"].as_array().unwrap().is_empty(), "{m}");
    // Moved to another machine's path, with the key handed over apart.
    let key = env.tmp.path().join("given.pub");
    std::fs::copy(env.state.join("signing.pub"), &key).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("evidence");
    copy_dir(&out, &moved);
    std::fs::remove_dir_all(&out).unwrap();
    let o = verify_bundle(&moved, Some(&key));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("chained and signed"), "{}", text(&o));
    // Each way of tampering, on a fresh copy, named.
    let archive = names
        .iter()
        .find(|n| n.ends_with("2026-11-21.gz"))
        .unwrap()
        .to_string();
    type Tamper<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "changed",
            Box::new(|d: &Path| {
                let p = d.join(&archive);
                let mut b = std::fs::read(&p).unwrap();
                let i = b.len() / 2;
                b[i] ^= 1;
                std::fs::write(&p, b).unwrap();
            }),
        ),
        (
            "missing or unreadable",
            Box::new(|d: &Path| std::fs::remove_file(d.join(&archive)).unwrap()),
        ),
        (
            "not in the manifest",
            Box::new(|d: &Path| {
                std::fs::write(d.join("files/app/extra.log.2026-11-21"), b"x\n").unwrap()
            }),
        ),
        (
            "journal.ndjson:",
            Box::new(|d: &Path| {
                let p = d.join("journal.ndjson");
                let t = std::fs::read_to_string(&p).unwrap();
                let mut lines: Vec<&str> = t.lines().collect();
                lines.remove(lines.len() / 2);
                std::fs::write(&p, lines.join("\n") + "\n").unwrap();
            }),
        ),
        (
            "records were cut",
            Box::new(|d: &Path| {
                let p = d.join("journal.ndjson");
                let t = std::fs::read_to_string(&p).unwrap();
                let lines: Vec<&str> = t.lines().collect();
                std::fs::write(&p, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
            }),
        ),
        (
            "no record of the journal segment vouches",
            Box::new(|d: &Path| {
                // A forged archive with a manifest rewritten to match it.
                let p = d.join(&archive);
                std::fs::write(&p, b"forged").unwrap();
                let mp = d.join("manifest.json");
                let mut m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
                for f in m["files"].as_array_mut().unwrap() {
                    if f["path"] == archive.as_str() {
                        use sha2::Digest;
                        f["sha256"] = sha2::Sha256::digest(b"forged")
                            .iter()
                            .map(|x| format!("{x:02x}"))
                            .collect::<String>()
                            .into();
                        f["size"] = 6.into();
                    }
                }
                std::fs::write(&mp, serde_json::to_vec(&m).unwrap()).unwrap();
            }),
        ),
    ];
    for (want, tamper) in cases {
        let copy = elsewhere.path().join(format!("t-{}", want.len()));
        copy_dir(&moved, &copy);
        tamper(&copy);
        let o = verify_bundle(&copy, Some(&key));
        assert!(
            !o.status.success() && text(&o).contains(want),
            "{want}: {}",
            text(&o)
        );
    }
    // Another key: the signatures fail.
    let other = Env::new();
    other.config("", "");
    assert!(other.run(&["keygen"]).status.success());
    let o = verify_bundle(&moved, Some(&other.state.join("signing.pub")));
    assert!(
        !o.status.success() && text(&o).contains("signature"),
        "{}",
        text(&o)
    );
}

#[test]
fn exporting_a_period_retention_deleted_says_so() {
    let env = Env::new();
    four_days(&env);
    let (out, o) = export(&env, "2026-11-20", "2026-11-21");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("not on the host any more:") && text(&o).contains("app.log.2026-11-20"),
        "{}",
        text(&o)
    );
    let o = verify_bundle(&out, None);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_restored_copy_of_the_installation_verifies_under_root() {
    let env = Env::new();
    four_days(&env);
    let restore = tempfile::tempdir().unwrap();
    let under = |p: &Path| restore.path().join(p.strip_prefix("/").unwrap());
    copy_dir(&env.logs, &under(&env.logs));
    copy_dir(&env.state, &under(&env.state));
    // The originals gone: only the copy can satisfy it.
    std::fs::rename(&env.logs, env.tmp.path().join("logs.gone")).unwrap();
    let root = restore.path().to_str().unwrap();
    let o = env.run(&["verify", "--root", root]);
    assert!(o.status.success(), "{}", text(&o));
    // A changed archive in the copy is named by its relocated path.
    let archive = under(&env.logs).join("app.log.2026-11-22.gz");
    let mut b = std::fs::read(&archive).unwrap();
    let n = b.len();
    b[n - 9] ^= 0x40;
    std::fs::write(&archive, b).unwrap();
    let o = env.run(&["verify", "--root", root]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&archive.display().to_string()),
        "{}",
        text(&o)
    );
}

#[test]
fn a_forward_secure_bundle_verifies_from_the_first_key() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    env.config_top("forward_secure = true");
    assert!(env.run(&["keygen"]).status.success());
    // The first public key, given out of band before any day passed.
    let first = env.tmp.path().join("first.pub");
    std::fs::copy(env.state.join("signing.pub"), &first).unwrap();
    cut_four_days(&env);
    let commits = env
        .journal()
        .iter()
        .filter(|r| r["next_key"].is_string())
        .count();
    assert!(commits >= 2, "no daily key change recorded");
    let (out, o) = export(&env, "2026-11-22", "2026-11-23");
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("keys/key-chain.ndjson").exists());
    let o = verify_bundle(&out, Some(&first));
    assert!(o.status.success(), "{}", text(&o));
    // A forged commitment in the key chain is caught.
    let p = out.join("keys/key-chain.ndjson");
    let t = std::fs::read_to_string(&p).unwrap();
    let forged = t.replacen("\"next_key\":\"", "\"next_key\":\"00", 1);
    std::fs::write(&p, forged).unwrap();
    let o = verify_bundle(&out, Some(&first));
    assert!(
        !o.status.success() && text(&o).contains("key-chain.ndjson:1"),
        "{}",
        text(&o)
    );
}
