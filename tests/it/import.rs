//! Replacing logrotate: `import-logrotate` on the snippets Debian's packages
//! ship and on the tricky cases of logrotate's config language, and the
//! two-rotators warning of `check` and the daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::harness::*;

/// The logrotate drop-ins of Debian packages: `.ci/run` extracts thirteen
/// packages' into target/debian-logrotate (or `LOGWARDEN_LOGROTATE_SNIPPETS`
/// names a directory); else this host's own /etc/logrotate.d.
fn snippets() -> PathBuf {
    let ci = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debian-logrotate/etc/logrotate.d");
    match std::env::var_os("LOGWARDEN_LOGROTATE_SNIPPETS") {
        Some(d) => PathBuf::from(d),
        None if ci.is_dir() => ci,
        None => PathBuf::from("/etc/logrotate.d"),
    }
}

/// `logwarden import-logrotate -c CONF ARGS…` (here -c is logrotate's).
fn import(conf: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("import-logrotate")
        .arg("-c")
        .arg(conf)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// A main logwarden config that includes the drop-ins in `out`.
fn main_config(env: &Env, out: &Path, extra: &str) {
    std::fs::write(
        &env.config,
        format!(
            "state_dir = {:?}\ninclude = [{:?}]\nlogrotate_config = \"none\"\n{extra}\n",
            env.state,
            out.join("*.toml")
        ),
    )
    .unwrap();
}

#[test]
fn debian_package_snippets_import_and_pass_check() {
    let dir = snippets();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set LOGWARDEN_LOGROTATE_SNIPPETS)", dir.display()))
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.contains('.') && !n.ends_with('~'))
        .collect();
    assert!(
        names.len() >= 5,
        "too few snippets in {}: {names:?}",
        dir.display()
    );
    let env = Env::new();
    // Debian's own /etc/logrotate.conf: weekly, rotate 4, create, then the drop-ins.
    let conf = env.tmp.path().join("logrotate.conf");
    std::fs::write(
        &conf,
        format!("weekly\nrotate 4\ncreate\ninclude {}\n", dir.display()),
    )
    .unwrap();
    let out = env.tmp.path().join("conf.d");
    let o = import(&conf, &["--out", out.to_str().unwrap()]);
    let err = text(&o.stderr);
    // Every snippet becomes a drop-in; what does not map is listed, and
    // only for the reasons the import knows (shared or extra scripts).
    for n in &names {
        assert!(
            out.join(format!("{n}.toml")).exists(),
            "{n}: {}\n{err}",
            text(&o.stdout)
        );
    }
    for line in err.lines().skip(1) {
        assert!(
            ["sharedscripts", "prerotate script", "postrotate (line"]
                .iter()
                .any(|w| line.contains(w)),
            "unexpected: {line}"
        );
    }
    assert_eq!(
        o.status.code(),
        Some(if err.is_empty() { 0 } else { 1 }),
        "{err}"
    );
    // The result is a valid logwarden config with logrotate's cadences.
    main_config(&env, &out, "");
    let c = env.run(&["check", "--logrotate", "/dev/null"]);
    let plan = text(&c.stdout);
    assert!(c.status.success(), "{plan}\n{}", text(&c.stderr));
    let expect = |file: &str, wants: &[&str]| {
        if !names.iter().any(|n| n == file) {
            return;
        }
        let t = std::fs::read_to_string(out.join(format!("{file}.toml"))).unwrap();
        for w in wants {
            assert!(t.contains(w), "{file}: want {w:?} in\n{t}");
        }
    };
    expect(
        "rsyslog",
        &[
            "schedule = \"weekly\"\nweekday = 0",
            "max_archives = 4",
            "delay_compress = true",
            "reopen = { command = [\"/usr/lib/rsyslog/rsyslog-rotate\"] }",
            "create = true",
        ],
    );
    expect(
        "nginx",
        &[
            "schedule = \"daily\"",
            "max_archives = 14",
            "create_mode = \"0640\"",
            "create_owner = \"www-data\"",
            "reopen = { signal = \"USR1\", pidfile = \"/run/nginx.pid\" }",
        ],
    );
    expect(
        "dpkg",
        &[
            "schedule = \"monthly\"",
            "max_archives = 12",
            "create_mode = \"0644\"",
        ],
    );
    expect(
        "wtmp",
        &[
            "min_size = \"1048576B\"",
            "max_archives = 1",
            "compress = \"none\"",
            "create_group = \"utmp\"",
        ],
    );
    expect(
        "postgresql-common",
        &[
            "strategy = \"copytruncate\"",
            "su = { user = \"root\", group = \"root\" }",
            "max_archives = 10",
        ],
    );
    expect(
        "ufw",
        &["reopen = { command = [\"/usr/lib/rsyslog/rsyslog-rotate\"] }"],
    );
    expect(
        "mariadb",
        &[
            "max_size = \"524288000B\"",
            "min_size = \"52428800B\"",
            "max_archives = 6",
        ],
    );
    assert!(plan.contains("weekly on Sun at 00:00 (local)"), "{plan}");
    assert!(plan.contains("monthly on day 1 at 00:00 (local)"), "{plan}");
    // Running it again writes the same bytes.
    let first: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(out.join(format!("{n}.toml"))).unwrap())
        .collect();
    import(&conf, &["--out", out.to_str().unwrap()]);
    let again: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(out.join(format!("{n}.toml"))).unwrap())
        .collect();
    assert!(first == again, "a second import changed the drop-ins");
}

#[test]
fn logrotate_language_cases() {
    let env = Env::new();
    let d = env.tmp.path().join("logrotate.d");
    std::fs::create_dir(&d).unwrap();
    let w = |name: &str, body: &str| {
        let p = d.join(name);
        std::fs::write(&p, body).unwrap();
        set_mode(&p, 0o644);
    };
    // Read in byte order: "a" sets a global that applies to "b" after it.
    w("a", "/srv/a/*.log {\n  size 10k\n  rotate 3\n  postrotate\n    [ -f /run/a.pid ] && kill -HUP `cat /run/a.pid`\n  endscript\n}\nnocompress\n");
    w("b", "\"/srv/b/app.log\" /srv/b/other.log\n{\n  weekly 3\n  rotate 0\n  maxage 14\n  dateext\n}\n");
    w("c", "/srv/c/x.log { monthly\n rotate 2\n postrotate\n  for p in /run/*.pid; do kill -HUP $(cat $p); done\n endscript\n}\n");
    // logrotate's taboo extensions, a directory and a writable file are skipped.
    for taboo in [
        "b.disabled",
        "b.dpkg-old",
        "b.ucf-dist",
        "b~",
        "b.rpmsave",
        "b.swp",
    ] {
        w(taboo, "/srv/taboo/*.log {\n daily\n}\n");
    }
    std::fs::create_dir(d.join("sub")).unwrap();
    w("writable", "/srv/w/*.log {\n daily\n}\n");
    set_mode(&d.join("writable"), 0o666);
    let conf = env.tmp.path().join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "compress\nrotate 9\ninclude {}\n/srv/main.log {{\n  daily\n}}\n",
            d.display()
        ),
    )
    .unwrap();
    let out = env.tmp.path().join("out");
    let o = import(&conf, &["--out", out.to_str().unwrap(), "--dry-run"]);
    let plan = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{plan}\n{err}");
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    for name in ["a.toml", "b.toml", "c.toml", "logrotate.conf.toml"] {
        assert!(plan.contains(&format!("{name} <==")), "{name}: {plan}");
    }
    assert!(
        !plan.contains("/srv/taboo") && !plan.contains("/srv/w"),
        "{plan}"
    );
    assert!(
        err.contains("writable") && err.contains("group- or world-writable"),
        "{err}"
    );
    let section = |name: &str| {
        let start = plan.find(&format!("{name} <==")).unwrap();
        let rest = &plan[start..];
        rest[..rest[1..].find("==>").map_or(rest.len(), |i| i + 1)].to_string()
    };
    let a = section("a.toml");
    for want in [
        "schedule = \"none\"",
        "max_size = \"10240B\"",
        "compress = \"gzip\"",
        "max_archives = 3",
        "reopen = { signal = \"HUP\", pidfile = \"/run/a.pid\" }",
        "create = false",
        "max_age = \"none\"",
    ] {
        assert!(a.contains(want), "a: {want}\n{a}");
    }
    let b = section("b.toml");
    for want in [
        "dir = \"/srv/b\"",
        "include = [\"app.log\", \"other.log\"]",
        "schedule = \"weekly\"\nweekday = 3",
        "compress = \"none\"",
        "max_age = \"14d\"",
        "max_archives = 1",
        "NOTE: rotate 0",
        "NOTE: dateext",
    ] {
        assert!(b.contains(want), "b: {want}\n{b}");
    }
    let c = section("c.toml");
    assert!(
        c.contains("NOTE: postrotate (line 3) not converted") && !c.contains("reopen ="),
        "{c}"
    );
    // The main file's own block comes after the include: nocompress from "a" holds.
    let m = section("logrotate.conf.toml");
    assert!(
        m.contains("compress = \"none\"") && m.contains("max_archives = 9"),
        "{m}"
    );
    for want in [
        "b:1: /srv/b/app.log /srv/b/other.log rotate 0",
        "b:1: /srv/b/app.log /srv/b/other.log dateext",
        "c:1: /srv/c/x.log postrotate",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    // Written for real, it is a config logwarden accepts.
    let o = import(&conf, &["--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    main_config(&env, &out, "");
    let c = env.run(&["check", "--logrotate", "/dev/null"]);
    assert!(
        c.status.success(),
        "{}\n{}",
        text(&c.stdout),
        text(&c.stderr)
    );
}

#[test]
fn check_and_the_daemon_say_when_logrotate_rotates_the_same_files() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    std::fs::write(env.log("app.log"), b"line\n").unwrap();
    // logwarden's own archive, which a loose logrotate glob also covers.
    std::fs::write(env.log("app.log.2026-12-01.gz"), b"").unwrap();
    let d = env.tmp.path().join("logrotate.d");
    std::fs::create_dir(&d).unwrap();
    let snippet = d.join("app");
    std::fs::write(
        &snippet,
        format!(
            "{}/*.log {{\n  daily\n}}\n{}/app.log* {{\n  weekly\n}}\n",
            env.logs.display(),
            env.logs.display()
        ),
    )
    .unwrap();
    set_mode(&snippet, 0o644);
    let conf = env.tmp.path().join("logrotate.conf");
    std::fs::write(&conf, format!("include {}\n", d.display())).unwrap();
    let c = env.run(&["check", "--logrotate", conf.to_str().unwrap()]);
    let out = text(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{out}");
    let both = format!(
        "{}:1: {}/*.log matches {}, which logwarden source \"app\" also rotates",
        snippet.display(),
        env.logs.display(),
        env.log("app.log").display()
    );
    assert!(out.contains(&both), "{both}\n{out}");
    assert!(
        out.contains("covers logwarden's archives of source \"app\""),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "rename {} to {}.disabled",
            snippet.display(),
            snippet.display()
        )),
        "{out}"
    );
    // Disabled as the fix says: logrotate skips it, and so does the check.
    std::fs::rename(&snippet, d.join("app.disabled")).unwrap();
    let c = env.run(&["check", "--logrotate", conf.to_str().unwrap()]);
    assert!(c.status.success(), "{}", text(&c.stdout));
    // The daemon journals the overlap at start.
    std::fs::rename(d.join("app.disabled"), &snippet).unwrap();
    env.config_top(&format!("logrotate_config = {:?}", conf));
    let mut dmn = env.daemon();
    assert!(wait_for(Duration::from_secs(10), || !env
        .journal_actions("logrotate.overlap")
        .is_empty()));
    assert!(dmn.stop().success());
    let recs = env.journal_actions("logrotate.overlap");
    assert!(
        recs.iter().any(|r| r.to_string().contains("also rotates")),
        "{recs:?}"
    );
}

#[test]
fn logrotate_archive_names_are_never_live_files() {
    let env = Env::new();
    env.config("schedule = \"daily\"", "");
    let text_cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("include = [\"*.log\"]", "include = [\"*\"]");
    std::fs::write(&env.config, text_cfg).unwrap();
    for n in [
        "app.log",
        "app.log.1",
        "app.log.2.gz",
        "app.log-20261201",
        "app.log-20261130.gz",
    ] {
        std::fs::write(env.log(n), b"x\n").unwrap();
    }
    let c = env.run(&["check", "--logrotate", "/dev/null"]);
    let out = text(&c.stdout);
    assert!(out.contains("file:      app.log ("), "{out}");
    for n in ["app.log.1", "app.log.2.gz", "app.log-20261201"] {
        assert!(
            !out.contains(&format!("file:      {n} (")),
            "{n} taken for a live file:\n{out}"
        );
    }
}

#[test]
fn state_seeds_the_last_rotation_so_a_missed_month_is_caught_up() {
    let env = Env::new().env("LOGWARDEN_FAKE_NOW", "2026-12-07T12:00:00Z");
    std::fs::write(env.log("app.log"), b"november and december\n").unwrap();
    let d = env.tmp.path().join("logrotate.d");
    std::fs::create_dir(&d).unwrap();
    let snippet = d.join("app");
    std::fs::write(
        &snippet,
        format!(
            "{}/app.log {{\n  monthly\n  rotate 3\n}}\n",
            env.logs.display()
        ),
    )
    .unwrap();
    set_mode(&snippet, 0o644);
    let conf = env.tmp.path().join("logrotate.conf");
    std::fs::write(&conf, format!("include {}\n", d.display())).unwrap();
    let status = env.tmp.path().join("status");
    // logrotate last rotated it on 1 October (local time = UTC here).
    std::fs::write(&status, format!("logrotate state -- version 2\n\"{}\" 2026-10-1-0:5:0\n\"/var/log/other\" 2026-12-7-0:0:0\n", env.log("app.log").display())).unwrap();
    let out = env.tmp.path().join("out");
    main_config(&env, &out, "");
    let o = import(
        &conf,
        &[
            "--out",
            out.to_str().unwrap(),
            "--state",
            status.to_str().unwrap(),
            "--logwarden-config",
            env.config.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.success(),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(
        text(&o.stdout).contains("seeded 1 file(s)"),
        "{}",
        text(&o.stdout)
    );
    let state = std::fs::read_to_string(env.state.join("state.json")).unwrap();
    assert!(
        state.contains("\"app/app.log\"") && state.contains("2026-10-01T00:05:00Z"),
        "{state}"
    );
    // The cut due on 1 November was never taken: the daemon takes it at
    // once, under the label of the period it closes (October's).
    let mut dmn = env.daemon();
    assert!(
        wait_for(Duration::from_secs(10), || env.archives("app.log")
            == ["app.log.2026-10-01"]),
        "{:?}",
        env.archives("app.log")
    );
    assert!(dmn.stop().success());
}

#[test]
fn create_mode_gives_the_recreated_file_logrotates_mode() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.config(
        "strategy = \"rename\"\ncreate = true\ncreate_mode = \"0600\"",
        "",
    );
    std::fs::write(env.log("app.log"), b"before the cut\n").unwrap();
    set_mode(&env.log("app.log"), 0o644);
    let o = env.run(&["rotate"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(env.archives("app.log").len(), 1);
    let mode = std::fs::metadata(env.log("app.log"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o600, "re-created with {mode:o}");
}
