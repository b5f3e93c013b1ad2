//! Config changes as audit records: what changed as data, who changed it,
//! the SHA-256 of every file read with its exact text kept, and the
//! `config history` / `config show` views of them.

use std::time::Duration;

use sha2::Digest;

use crate::harness::*;

fn reloads(env: &Env) -> Vec<serde_json::Value> {
    env.journal_actions("config.reload")
}

fn changes(r: &serde_json::Value) -> Vec<String> {
    r["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_saved_edit_is_recorded_as_data_with_its_author_and_text() {
    let env = Env::new();
    env.config("schedule = \"daily\"\nmax_archives = 50", "");
    let first = std::fs::read_to_string(&env.config).unwrap();
    let mut d = env.daemon();
    // The startup record names the version and keeps its text.
    let start = env.journal_actions("startup");
    let v1 = start[0]["config_version"].as_str().unwrap().to_string();
    let sha1 = hex(&sha2::Sha256::digest(first.as_bytes()));
    assert_eq!(
        start[0]["config"][0]["sha256"],
        sha1.as_str(),
        "{}",
        start[0]
    );
    std::thread::sleep(Duration::from_millis(1100)); // a distinct second for --at
    let edited = first.replace("max_archives = 50", "max_archives = 40\nmax_age = \"14d\"");
    std::fs::write(&env.config, &edited).unwrap();
    assert!(wait_for(Duration::from_secs(10), || !reloads(&env).is_empty()));
    let r = &reloads(&env)[0];
    let got = changes(r);
    assert!(
        got.contains(&"defaults.max_archives: 50 → 40".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"defaults.max_age: (unset) → \"14d\"".to_string()),
        "{got:?}"
    );
    let actor = r["actor"].as_str().unwrap();
    assert!(
        actor.starts_with(&format!("saved {}", env.config.display())) && actor.contains("mode 0"),
        "{actor}"
    );
    // The journal's table shows the change and who made it.
    let table = out(&env.run(&["journal", "--action", "config.*"]));
    assert!(
        table.contains("defaults.max_archives: 50 → 40") && table.contains("[by saved "),
        "{table}"
    );
    let by_actor = out(&env.run(&["journal", "--actor", "saved*"]));
    assert!(
        by_actor.contains("config.reload") && !by_actor.contains("startup"),
        "{by_actor}"
    );
    // A refused edit: the error as today, what it would have changed, its text kept.
    let bad = edited.replace("max_archives = 40", "max_archives = 0");
    std::fs::write(&env.config, &bad).unwrap();
    assert!(wait_for(Duration::from_secs(10), || reloads(&env).len() >= 2));
    let r = &reloads(&env)[1];
    assert_eq!(r["status"], "failed");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("max_archives must be 1 or more"),
        "{r}"
    );
    assert!(
        changes(r).contains(&"defaults.max_archives: 40 → 0".to_string()),
        "{r}"
    );
    std::fs::write(&env.config, &edited).unwrap();
    assert!(wait_for(Duration::from_secs(10), || reloads(&env).len() >= 3));
    assert!(d.stop().success());
    // history lists them; show prints each version's exact text.
    let h = out(&env.run(&["config", "history"]));
    assert!(
        h.contains(&v1[..12]) && h.contains("refused") && h.contains("in force"),
        "{h}"
    );
    let shown = env.run(&["config", "show", &v1[..12]]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        first,
        "{}",
        out(&shown)
    );
    let ts = start[0]["ts"].as_str().unwrap();
    let at = env.run(&["config", "show", "--at", ts]);
    assert_eq!(String::from_utf8_lossy(&at.stdout), first);
    let now = env.run(&["config", "show", "--at", "2999-01-01"]);
    assert_eq!(String::from_utf8_lossy(&now.stdout), edited);
    env.assert_verifies();
}

#[test]
fn a_sighup_names_its_sender() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    let mut d = env.daemon();
    d.signal(libc::SIGHUP);
    assert!(wait_for(Duration::from_secs(10), || !reloads(&env).is_empty()));
    assert!(d.stop().success());
    let actor = reloads(&env)[0]["actor"].as_str().unwrap().to_string();
    let me = format!(
        "signal SIGHUP from pid {} uid {}",
        std::process::id(),
        unsafe { libc::getuid() }
    );
    assert!(actor.starts_with(&me), "{actor} / {me}");
}

#[test]
fn an_edit_made_while_stopped_shows_in_the_next_startup() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    let mut d = env.daemon();
    assert!(d.stop().success());
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        text.replace("schedule = \"daily\"", "schedule = \"weekly\""),
    )
    .unwrap();
    let mut d = env.daemon();
    assert!(d.stop().success());
    let starts = env.journal_actions("startup");
    assert_eq!(changes(&starts[0]), ["first version recorded"]);
    assert_eq!(
        changes(&starts[1]),
        ["defaults.schedule: \"daily\" → \"weekly\""]
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
