//! `logwarden witness` over two hosts' shipped journals: an untouched run
//! passes (and passes again on the same input); a rewound journal and one
//! re-signed with another key are caught; a silent host is reported.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::*;

pub fn host(name: &str) -> Env {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    env.config_top(&format!("host = {name:?}"));
    assert!(env.run(&["keygen"]).status.success());
    std::fs::write(env.log("app.log"), format!("{name} line\n")).unwrap();
    // A start, a rotation, a stop: checkpoints at each.
    let mut d = env.daemon();
    assert!(env.run(&["rotate"]).status.success());
    assert!(d.stop().success());
    env
}

pub fn journal(env: &Env) -> String {
    std::fs::read_to_string(env.state.join("journal.ndjson")).unwrap()
}

fn witness(state: &Path, keys: &[(&str, &Env)], input: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("witness").arg("--state").arg(state);
    for (h, e) in keys {
        c.arg("--public-key")
            .arg(format!("{h}={}", e.state.join("signing.pub").display()));
    }
    c.args(extra).arg(input).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_witness_catches_a_rewound_and_a_re_signed_host() {
    let (a, b) = (host("alpha"), host("beta"));
    let central = tempfile::tempdir().unwrap();
    let feed = central.path().join("central.log");
    // As a shipper delivers them: interleaved, behind a syslog-style prefix.
    let mut lines = String::new();
    for (x, y) in journal(&a).lines().zip(journal(&b).lines()) {
        lines.push_str(&format!(
            "Dec  8 01:00:00 alpha logwarden: {x}\nDec  8 01:00:00 beta logwarden: {y}\n"
        ));
    }
    std::fs::write(&feed, &lines).unwrap();
    let state = central.path().join("witness.json");
    let keys = [("alpha", &a), ("beta", &b)];
    let o = witness(&state, &keys, &feed, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("alpha at tip _seq") && text(&o).contains("beta at tip _seq"),
        "{}",
        text(&o)
    );
    // The same input again: a replay, not a rewind.
    let o = witness(&state, &keys, &feed, &[]);
    assert!(o.status.success(), "{}", text(&o));
    // alpha's journal cut back to its first records, then written on.
    let kept: String = journal(&a)
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(a.state.join("journal.ndjson"), kept).unwrap();
    let mut d = a.daemon();
    assert!(d.stop().success());
    let rewound = central.path().join("rewound.log");
    std::fs::write(&rewound, journal(&a)).unwrap();
    let o = witness(&state, &keys, &rewound, &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("\"host\":\"alpha\",\"kind\":\"rewound\""),
        "{}",
        text(&o)
    );
    // beta re-signed with a key that is not the one given for it.
    std::fs::remove_file(b.state.join("signing.key")).unwrap();
    let given = central.path().join("beta.pub");
    std::fs::rename(b.state.join("signing.pub"), &given).unwrap();
    assert!(b.run(&["keygen"]).status.success());
    let mut d = b.daemon();
    assert!(d.stop().success());
    let resigned = central.path().join("resigned.log");
    std::fs::write(&resigned, journal(&b)).unwrap();
    let mut c = Command::new(BIN);
    let o = c
        .arg("witness")
        .arg("--state")
        .arg(&state)
        .arg("--public-key")
        .arg(format!("beta={}", given.display()))
        .arg(&resigned)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("beta: signature: "), "{}", text(&o));
}

#[test]
fn a_silent_host_is_reported() {
    let a = host("alpha");
    let central = tempfile::tempdir().unwrap();
    let feed = central.path().join("central.log");
    std::fs::write(&feed, journal(&a)).unwrap();
    let state = central.path().join("witness.json");
    let o = Command::new(BIN)
        .args(["witness", "--max-silence", "5m", "--state"])
        .arg(&state)
        .arg(&feed)
        .env("LOGWARDEN_FAKE_NOW", "2099-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("alpha: silent: no checkpoint since"),
        "{}",
        text(&o)
    );
}
