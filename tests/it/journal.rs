//! The audit journal end to end: a real daemon run (cuts, compression, a
//! reload, a crash), then `logwarden verify` on it untouched and tampered
//! with, and `logwarden journal` queries.

use std::time::Duration;

use crate::harness::*;

/// A journal from a real run: a writer, cuts every second, a reload, a
/// `kill -9` and a restart.
fn real_run() -> Env {
    let env = Env::new();
    env.mirror_config("schedule = \"every 1s\"", "");
    let writer = Writer::start_with_secrets(&env.log("app.log"), "append", 1500, 0.001, None);
    let mut d = env.daemon();
    std::thread::sleep(Duration::from_millis(700));
    d.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(700));
    d.kill9();
    let mut d = env.daemon();
    writer.wait();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.stop().success());
    env
}

fn journal_lines(env: &Env) -> Vec<Vec<u8>> {
    std::fs::read(env.state.join("journal.ndjson"))
        .unwrap()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.to_vec())
        .collect()
}

fn write_lines(env: &Env, lines: &[Vec<u8>]) {
    let bytes: Vec<u8> = lines
        .iter()
        .flat_map(|l| [l.as_slice(), b"\n"].concat())
        .collect();
    std::fs::write(env.state.join("journal.ndjson"), bytes).unwrap();
}

fn verify(env: &Env) -> (bool, String) {
    let out = env.run(&["verify"]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One way of tampering with the journal's lines.
type Tamper<'a> = Box<dyn Fn(&mut Vec<Vec<u8>>) + 'a>;

#[test]
fn a_real_run_verifies_and_every_tampering_is_named() {
    let env = real_run();
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    assert!(
        msg.starts_with("ok: ") && msg.contains(" record(s), _seq 1.."),
        "{msg}"
    );
    let original = journal_lines(&env);
    assert!(original.len() > 10);
    let n = original.len();

    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "flipped byte",
            Box::new(|l| {
                let at = l[n / 2].len() / 3;
                l[n / 2][at] ^= 0x20;
            }),
            "",
        ),
        (
            "deleted record",
            Box::new(|l| drop(l.remove(n / 2))),
            "missing",
        ),
        ("swapped records", Box::new(|l| l.swap(3, 4)), ""),
        (
            "record copied in",
            Box::new(|l| {
                let c = l[2].clone();
                l.insert(5, c)
            }),
            "",
        ),
        (
            "secret scrubbed from a record",
            Box::new(|l| {
                let s = String::from_utf8(l[1].clone())
                    .unwrap()
                    .replace("logwarden", "logwarded");
                l[1] = s.into_bytes();
            }),
            "modified",
        ),
    ];
    for (what, tamper, want) in cases {
        let mut l = original.clone();
        tamper(&mut l);
        write_lines(&env, &l);
        let (ok, msg) = verify(&env);
        assert!(!ok, "{what} was not detected");
        assert!(msg.contains("journal.ndjson:"), "{what}: {msg}");
        assert!(msg.contains(want), "{what}: {msg}");
    }
    // A torn tail.
    write_lines(&env, &original);
    let bytes = std::fs::read(env.state.join("journal.ndjson")).unwrap();
    std::fs::write(env.state.join("journal.ndjson"), &bytes[..bytes.len() - 7]).unwrap();
    let (ok, msg) = verify(&env);
    assert!(!ok && msg.contains("torn"), "{msg}");
    // Restored, it verifies again.
    write_lines(&env, &original);
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    assert!(!msg.contains(" 0 file(s) checked"), "{msg}");

    // Archives: a byte flipped inside one, then one deleted behind
    // retention's back.
    let mut gz: Vec<_> = std::fs::read_dir(env.mirror_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gz"))
        .collect();
    gz.sort();
    let victim = gz[0].clone();
    let good = std::fs::read(&victim).unwrap();
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x01;
    std::fs::write(&victim, &bad).unwrap();
    let (ok, msg) = verify(&env);
    assert!(
        !ok && msg.contains(&victim.display().to_string()) && msg.contains("changed"),
        "{msg}"
    );
    std::fs::remove_file(&victim).unwrap();
    let (ok, msg) = verify(&env);
    assert!(
        !ok && msg.contains("missing, and no retention.delete"),
        "{msg}"
    );
    std::fs::write(&victim, &good).unwrap();
    assert!(verify(&env).0);

    // The live mirror (some lines left in it by a last run that does not
    // cut): a line edited, then a line deleted.
    env.mirror_config("schedule = \"daily\"", "");
    let mut d = env.daemon();
    std::fs::write(env.log("app.log"), "seq=00000001 last\nseq=00000002 last\n").unwrap();
    assert!(wait_for(Duration::from_secs(10), || std::fs::read(
        env.mirror_dir().join("app.log")
    )
    .is_ok_and(|b| b.ends_with(b"seq=00000002 last\n"))));
    assert!(d.stop().success());
    let live = env.mirror_dir().join("app.log");
    let good = std::fs::read(&live).unwrap();
    assert!(
        !good.is_empty(),
        "the run should leave lines in the live mirror"
    );
    let text = String::from_utf8(good.clone()).unwrap();
    let edited = text.replacen("seq=", "seq:", 1);
    std::fs::write(&live, edited).unwrap();
    let (ok, msg) = verify(&env);
    assert!(!ok && msg.contains("mirror bytes changed"), "{msg}");
    let first_nl = text.find('\n').unwrap();
    std::fs::write(&live, &text[first_nl + 1..]).unwrap();
    let (ok, msg) = verify(&env);
    assert!(
        !ok && (msg.contains("mirror bytes changed") || msg.contains("truncated")),
        "{msg}"
    );
    std::fs::write(&live, &good).unwrap();
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
}

/// Archives retention deleted (and journaled) are not missing.
#[test]
fn archives_deleted_by_retention_still_verify() {
    let env = Env::new();
    // Simulated days: ship_grace counts real time since the cut, so off.
    env.mirror_config(
        "schedule = \"daily\"\nmax_archives = 2\nship_grace = \"0s\"",
        "",
    );
    for i in 0..5 {
        std::fs::write(env.log("app.log"), format!("round {i}\n")).unwrap();
        assert!(env.run(&["rotate"]).status.success());
    }
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    assert!(
        msg.contains("2 file(s) checked") && msg.contains("3 deleted by retention"),
        "{msg}"
    );
}

#[test]
fn journal_queries_filter_and_json_keeps_exact_bytes() {
    let env = real_run();
    let all = journal_lines(&env);
    let out = env.run(&["journal", "--action", "rotate", "--json"]);
    assert!(out.status.success());
    let got: Vec<&[u8]> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert!(!got.is_empty());
    for l in &got {
        assert!(
            all.iter().any(|a| a.as_slice() == *l),
            "not an exact journal line"
        );
        assert!(std::str::from_utf8(l)
            .unwrap()
            .contains(r#""action":"rotate""#));
    }
    let out = env.run(&["journal", "--action", "config.*"]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("TIME (UTC)"), "{table}");
    assert!(table.contains("config.reload"), "{table}");
    assert!(!table.contains(" rotate "), "{table}");
    let out = env.run(&["journal", "--resource", "*/mirror/*", "--json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().count() >= 1 && text.lines().all(|l| l.contains("/mirror/")),
        "{text}"
    );
    let out = env.run(&["journal", "--since", "2999-01-01", "--json"]);
    assert!(out.stdout.is_empty());
    let out = env.run(&[
        "journal",
        "--since",
        "1h",
        "--until",
        "2999-01-01",
        "--json",
    ]);
    assert_eq!(
        out.stdout.iter().filter(|b| **b == b'\n').count(),
        all.len()
    );
    let out = env.run(&["journal", "--since", "yesterday-ish"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Re-chain `lines` from scratch, re-signing every checkpoint with `key`: a
/// forger's consistent chain (every hash right, every _prev right).
fn forge_chain(lines: &[Vec<u8>], key: &ed25519_dalek::SigningKey) -> Vec<Vec<u8>> {
    use logwarden::journal::{record_hash, sign, GENESIS};
    let mut prev = GENESIS.to_string();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(l).unwrap();
        v.remove("_hash");
        v.insert("_seq".into(), (i as u64 + 1).into());
        v.insert("_prev".into(), prev.clone().into());
        if v["action"] == "checkpoint" {
            v.insert("tip_seq".into(), (i as u64).into());
            v.insert("tip_hash".into(), prev.clone().into());
            v.insert("key".into(), sign::public_hex(key).into());
            v.remove("next_key");
            v.insert("sig".into(), sign::sign(key, i as u64, &prev, None).into());
        }
        let mut bytes = serde_json::to_vec(&v).unwrap();
        bytes.pop(); // the closing brace
        let h = record_hash(&bytes);
        bytes.extend_from_slice(format!(",\"_hash\":\"{h}\"}}").as_bytes());
        prev = h;
        out.push(bytes);
    }
    out
}

#[test]
fn signed_checkpoints_catch_a_forged_chain_and_a_shipped_tip_catches_truncation() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    let out = env.run(&["keygen"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(public.len(), 64);
    std::fs::write(env.log("app.log"), "a password=LEAK\nb\n").unwrap();
    let mut d = env.daemon();
    assert!(env.mirror_becomes(b"a password=[REDACTED]\nb\n"));
    d.signal(libc::SIGHUP);
    assert!(wait_for(Duration::from_secs(10), || !env
        .journal_actions("config.reload")
        .is_empty()));
    assert!(d.stop().success());
    let pubfile = env.state.join("signing.pub");
    let key_arg = pubfile.to_str().unwrap();
    let out = env.run(&["verify", "--public-key", key_arg]);
    let msg = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{msg}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(msg.contains(" checkpoint(s) signed"), "{msg}");
    let cks = env.journal_actions("checkpoint");
    assert!(cks.len() >= 2, "reload and shutdown checkpoints");
    assert!(cks
        .iter()
        .all(|c| c["sig"].as_str().is_some_and(|s| s.len() == 128)));
    let last = cks.last().unwrap();
    // The shutdown checkpoint lists the live mirror as its last segment saw it.
    let files = last["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"].as_str().unwrap().ends_with("/mirror/app.log")
                && f["size"] == 24
                && f["sha256"].as_str().is_some_and(|h| h.len() == 64)),
        "{last}"
    );
    let shipped = format!("{}:{}", last["tip_seq"], last["tip_hash"].as_str().unwrap());

    // A consistent chain forged with another key: the hashes hold, the
    // signatures do not.
    let original = journal_lines(&env);
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    write_lines(&env, &forge_chain(&original, &other));
    assert!(verify(&env).0, "without a key a consistent chain verifies");
    let out = env.run(&["verify", "--public-key", &public]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("does not verify"),
        "{err}"
    );

    // The tail cut (whole records): the chain still holds, but not the tip
    // that was shipped.
    let keep = original.len() - 3;
    write_lines(&env, &original[..keep]);
    assert!(verify(&env).0);
    let out = env.run(&["verify", "--tip", &shipped]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("truncated or rewritten"),
        "{err}"
    );
    write_lines(&env, &original);
    let out = env.run(&["verify", "--tip", &shipped, "--public-key", &public]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Forty simulated days of daily cuts and 30-day retention (the clock is
/// moved with LOGWARDEN_FAKE_NOW): the journal and every surviving archive
/// still verify, the deleted ones are accounted for, no secret anywhere.
#[test]
fn forty_days_of_daily_rotation_and_retention_verify_clean() {
    let env = Env::new();
    // Simulated days: ship_grace counts real time since the cut, so off.
    env.mirror_config(
        "schedule = \"daily\"\nmax_age = \"30d\"\nship_grace = \"0s\"",
        "",
    );
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-01T12:00:00Z").unwrap();
    for day in 0..40i64 {
        let now = start + chrono::Duration::days(day);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.log("app.log"))
            .unwrap();
        for i in 0..20 {
            use std::io::Write;
            writeln!(f, "day {day} line {i} password=LEAK{day}x{i}").unwrap();
        }
        env.rotate_at(now.to_rfc3339());
    }
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    let deleted = env.journal_actions("retention.delete").len();
    assert!(
        (9..=11).contains(&deleted),
        "{deleted} deleted after 40 days at 30d: {msg}"
    );
    assert!(
        msg.contains(&format!("{deleted} deleted by retention")),
        "{msg}"
    );
    let kept: Vec<_> = std::fs::read_dir(env.mirror_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".gz"))
        .collect();
    assert_eq!(kept.len() + deleted, 40, "{kept:?}");
    let all: Vec<u8> = kept
        .iter()
        .flat_map(|n| read_maybe_gz(&env.mirror_dir().join(n)))
        .collect();
    assert!(memchr::memmem::find(&all, b"LEAK").is_none());
    assert_eq!(all.iter().filter(|b| **b == b'\n').count(), kept.len() * 20);
}

/// Past `journal_max_size` the journal is archived and the chain runs on in
/// a new file; verify and queries span all files; a missing or renamed
/// archived file is caught.
#[test]
fn the_chain_runs_across_archived_journal_files() {
    let env = Env::new();
    // No shipper: closed journal files are compressed at once.
    env.mirror_config("schedule = \"daily\"\nship_grace = \"0s\"", "");
    env.config_top("journal_max_size = \"4KiB\"");
    for i in 0..12 {
        std::fs::write(env.log("app.log"), format!("round {i}\n")).unwrap();
        assert!(env.run(&["rotate"]).status.success());
    }
    let files: Vec<_> = {
        let mut v: Vec<_> = std::fs::read_dir(&env.state)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("journal-") && n.contains(".ndjson"))
            .collect();
        v.sort();
        v
    };
    assert!(files.len() >= 3, "{files:?}");
    // Closed journal files are compressed by the housekeeping that follows
    // (all but the one closed by the last run's final records).
    let gz = files.iter().filter(|n| n.ends_with(".ndjson.gz")).count();
    assert!(gz + 1 >= files.len(), "{files:?}");
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    assert!(
        msg.contains(&format!("{} journal file(s)", files.len() + 1)),
        "{msg}"
    );
    let out = env.run(&["journal", "--action", "rotate", "--json"]);
    let n = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(n, 24, "12 raw + 12 mirror cuts, across all journal files");

    // A middle file missing: the chain has a gap.
    let mid = env.state.join(&files[1]);
    let saved = std::fs::read(&mid).unwrap();
    std::fs::remove_file(&mid).unwrap();
    let (ok, msg) = verify(&env);
    assert!(!ok && msg.contains("missing"), "{msg}");
    // Put back under another name: it no longer names itself.
    let other = env.state.join(format!(
        "journal-999999999999.{}",
        files[1].split_once('.').unwrap().1
    ));
    std::fs::write(&other, &saved).unwrap();
    let (ok, msg) = verify(&env);
    assert!(!ok, "{msg}");
    std::fs::remove_file(&other).unwrap();
    std::fs::write(&mid, &saved).unwrap();
    assert!(verify(&env).0);
}

/// `forward_secure = true`: a new key every UTC day, committed in a
/// checkpoint signed by the old one, the old secret replaced. The verifier
/// follows from the first public key; a key stolen later cannot re-sign
/// earlier days.
#[test]
fn forward_secure_keys_rotate_daily_and_a_stolen_key_cannot_rewrite_the_past() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"", "");
    env.config_top("forward_secure = true");
    let first_pub = String::from_utf8(env.run(&["keygen"]).stdout)
        .unwrap()
        .trim()
        .to_string();
    let first_secret = std::fs::read(env.state.join("signing.key")).unwrap();
    for day in 1..=3 {
        std::fs::write(env.log("app.log"), format!("day {day}\n")).unwrap();
        env.rotate_at(format!("2026-11-0{day}T12:00:00Z"));
    }
    let commits = env
        .journal_actions("checkpoint")
        .into_iter()
        .filter(|c| c["next_key"].is_string())
        .count();
    assert_eq!(commits, 3, "one new key per day");
    assert_ne!(
        std::fs::read(env.state.join("signing.key")).unwrap(),
        first_secret
    );
    let out = env.run(&["verify", "--public-key", &first_pub]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Someone steals today's key and re-signs the whole chain with it.
    let stolen_hex = std::fs::read_to_string(env.state.join("signing.key")).unwrap();
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&stolen_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let stolen = ed25519_dalek::SigningKey::from_bytes(&bytes.try_into().unwrap());
    write_lines(&env, &forge_chain(&journal_lines(&env), &stolen));
    let out = env.run(&["verify", "--public-key", &first_pub]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("does not verify"),
        "{err}"
    );
}

/// `journal_max_age`: over 40 simulated days the journal's own archives are
/// compressed and the oldest deleted, each deletion journaled with the
/// `_seq` range it held; checkpoints carry the retained base; the rest still
/// verifies and queries read the compressed files. Deleting the oldest
/// retained file by hand is caught.
#[test]
fn journal_files_are_compressed_and_aged_out_and_the_retained_base_verifies() {
    let env = Env::new();
    env.mirror_config("schedule = \"daily\"\nmax_age = \"30d\"", "");
    env.config_top("journal_max_size = \"8KiB\"\njournal_max_age = \"10d\"");
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-01T12:00:00Z").unwrap();
    for day in 0..40i64 {
        std::fs::write(
            env.log("app.log"),
            format!("day {day} password=LEAK{day}\n"),
        )
        .unwrap();
        let now = start + chrono::Duration::days(day);
        env.rotate_at(now.to_rfc3339());
    }
    let (ok, msg) = verify(&env);
    assert!(ok, "{msg}");
    let names: Vec<String> = {
        let mut v: Vec<_> = std::fs::read_dir(&env.state)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("journal-"))
            .collect();
        v.sort();
        v
    };
    assert!(names.len() >= 2, "{names:?}");
    assert!(
        !names[0].starts_with("journal-000000000001."),
        "the head was aged out: {names:?}"
    );
    // Every deletion of a journal file names its range and last record.
    let out = env.run(&["journal", "--action", "retention.delete", "--json"]);
    let dels: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["range"].is_string())
        .collect();
    assert!(!dels.is_empty(), "no journal deletion retained: {names:?}");
    let last = dels.last().unwrap();
    // The oldest retained file starts right after the last deleted one.
    let oldest = read_maybe_gz(&env.state.join(&names[0]));
    let first: serde_json::Value =
        serde_json::from_slice(oldest.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        first["_seq"].as_u64(),
        last["tip_seq"].as_u64().map(|s| s + 1)
    );
    assert_eq!(first["_prev"], last["tip_hash"]);
    // The newest checkpoint carries that base (it may sit in an archived
    // journal file: the live one can have just been rotated).
    let out = env.run(&["journal", "--action", "checkpoint", "--json"]);
    let cp: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("a checkpoint record");
    assert_eq!(cp["base_seq"], last["tip_seq"], "{cp}");
    assert_eq!(cp["base_hash"], last["tip_hash"], "{cp}");
    // Queries read compressed files too: all 40 days of mirror cuts are
    // not there (some were aged out), but those of the kept files are.
    let out = env.run(&["journal", "--action", "rotate", "--json"]);
    assert!(!out.stdout.is_empty());

    // The oldest retained file deleted by hand: the head is unaccounted for.
    let p = env.state.join(&names[0]);
    let saved = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    let (ok, msg) = verify(&env);
    assert!(!ok, "{msg}");
    assert!(
        msg.contains("no retained retention.delete record accounts for"),
        "{msg}"
    );
    std::fs::write(&p, &saved).unwrap();
    // A compressed journal file flipped: caught by its compress record or its chain.
    let mut bad = saved.clone();
    let k = bad.len() / 2;
    bad[k] ^= 0x20;
    std::fs::write(&p, &bad).unwrap();
    assert!(!verify(&env).0);
    std::fs::write(&p, &saved).unwrap();
    assert!(verify(&env).0);
}
