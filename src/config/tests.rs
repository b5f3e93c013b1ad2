use super::*;

fn load(main: &str, dropins: &[(&str, &str)]) -> (tempfile::TempDir, Result<Config, Problems>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    for (name, text) in dropins {
        std::fs::write(dir.path().join("conf.d").join(name), text).unwrap();
    }
    let path = dir.path().join("logwarden.toml");
    std::fs::write(&path, main).unwrap();
    let r = Config::load(&path);
    (dir, r)
}

fn problems(main: &str) -> Vec<String> {
    let (_d, r) = load(main, &[]);
    match r {
        Ok(_) => vec![],
        Err(p) => {
            p.0.iter()
                .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
                .collect()
        }
    }
}

const OK: &str = r#"
state_dir = "state"
include = ["conf.d/*.toml"]

[defaults]
schedule = "daily"
at = "00:00"
timezone = "Europe/London"
max_age = "30d"
mode = "rotate"

[[source]]
name = "orders"
dir = "logs"
include = ["*.log"]
strategy = "copytruncate"
max_archives = 7
"#;

#[test]
fn layers_defaults_under_sources_and_reads_dropins() {
    let (dir, r) = load(OK, &[("b.toml", "[[source]]\nname = \"fills\"\ndir = \"/x\"\ninclude = [\"*.txt\"]\nschedule = \"hourly\"\n")]);
    let cfg = r.unwrap();
    assert_eq!(cfg.state_dir, dir.path().join("state"));
    assert_eq!(cfg.sources.len(), 2);
    let orders = cfg.source("orders").unwrap();
    assert_eq!(orders.dir, dir.path().join("logs"));
    assert_eq!(orders.policy.strategy, StrategyCfg::CopyTruncate);
    assert_eq!(orders.policy.max_archives, Some(7));
    assert_eq!(orders.policy.max_age, Some(Duration::from_secs(30 * 86400)));
    assert_eq!(orders.policy.zone, Zone::Named(chrono_tz::Europe::London));
    let fills = cfg.source("fills").unwrap();
    assert_eq!(fills.policy.schedule, Schedule::Hourly);
    assert_eq!(fills.policy.mode, Mode::Rotate, "inherited from [defaults]");
    assert!(
        fills.matches("a.txt")
            && !fills.matches("a.txt.2026-11-20.gz")
            && !fills.matches(".a.txt.logwarden-tmp")
    );
    assert_eq!(cfg.files.len(), 2);
}

#[test]
fn errors_name_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("[defaults]\nmax_agee = \"30d\"\n", "2:1: unknown field `max_agee`"),
        ("[defaults]\nmax_age = \"thirty\"\n", "2:11: invalid duration"),
        ("[defaults]\nmax_size = \"huge\"\n", "2:12: invalid size"),
        ("[defaults]\nschedule = \"fortnightly\"\n", "2:12: unknown schedule"),
        ("[defaults]\nweekday = \"funday\"\n", "2:11: invalid weekday"),
        ("[defaults]\nweekday = 9\n", "2:11: invalid weekday"),
        ("[defaults]\nmin_size = \"big\"\n", "2:12: invalid size"),
        ("[defaults]\ncreate_mode = \"0640\"\n", "2:15: create_mode, create_owner and create_group need create = true"),
        ("[defaults]\ncreate = true\ncreate_mode = \"rw\"\n", "3:15: invalid create_mode"),
        ("[defaults]\ncreate = true\ncreate_owner = \"no-such-user-x\"\n", "3:16: unknown user"),
        ("[defaults]\ntimezone = \"Mars/Base\"\n", "2:12: unknown time zone"),
        ("[defaults]\nstrategy = \"move\"\n", "2:12: invalid strategy"),
        ("[defaults]\nat = \"25:00\"\n", "2:6: invalid time"),
        ("[defaults]\nmax_archives = 0\n", "2:16: max_archives must be 1 or more"),
        ("[[source]]\nname = \"a\"\ndir = \"/x\"\ninclude = [\"sub/*.log\"]\nmode = \"rotate\"\n", "4:12: glob \"sub/*.log\" contains '/'"),
        ("[[source]]\nname = \"a\"\ndir = \"/x\"\ninclude = [\"*.log\"]\nmode = \"rotate\"\nreopen = { signal = \"HUP\" }\n", "6:10: reopen needs"),
        ("[redact]\npatterns = [\"(unclosed\"]\n", "2:13: invalid pattern"),
        ("state_dir = 5\n", "1:13: invalid type"),
        ("[defaults\n", "1:10: "),
    ];
    for (text, want) in cases {
        let got = problems(text);
        assert!(
            got.iter().any(|g| g.starts_with(want)),
            "{text:?}: want {want:?}, got {got:?}"
        );
    }
}

#[test]
fn all_problems_are_reported_not_just_the_first() {
    let got = problems("[defaults]\nmax_age = \"x\"\nmax_size = \"y\"\nstrategy = \"z\"\n");
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn mirror_is_the_default_mode_and_its_output_dir_is_checked() {
    let (_d, r) = load(
        "state_dir = \"/s\"\n[[source]]\nname = \"a\"\ndir = \"/x\"\ninclude = [\"*.log\"]\n",
        &[],
    );
    let cfg = r.unwrap();
    assert_eq!(cfg.sources[0].policy.mode, Mode::Mirror);
    let got = problems(
        "[[source]]\nname = \"a\"\ndir = \"/x\"\ninclude = [\"*.log\"]\noutput_dir = \"/x\"\n",
    );
    assert!(
        got.iter()
            .any(|g| g.starts_with("5:14: source \"a\": output_dir /x is the watched directory")),
        "{got:?}"
    );
    let got = problems("[[source]]\nname = \"a\"\ndir = \"/x\"\ninclude = [\"*.log\"]\noutput_dir = \"/m\"\n[[source]]\nname = \"b\"\ndir = \"/y\"\ninclude = [\"*.log\"]\noutput_dir = \"/m\"\n");
    assert!(
        got.iter()
            .any(|g| g.contains("also the output_dir of source \"a\"")),
        "{got:?}"
    );
}

#[test]
fn duplicate_source_names_are_refused() {
    let (_d, r) = load(OK, &[("b.toml", "[[source]]\nname = \"orders\"\ndir = \"/x\"\ninclude = [\"*.txt\"]\nmode = \"rotate\"\n")]);
    let p = r.unwrap_err();
    assert!(p.to_string().contains("used twice"), "{p}");
}

#[test]
fn dropins_may_only_add_sources() {
    let (_d, r) = load(OK, &[("b.toml", "[defaults]\nmax_age = \"1d\"\n")]);
    let p = r.unwrap_err();
    assert!(
        p.0[0].file.ends_with("conf.d/b.toml")
            && p.0[0].message.contains("unknown field `defaults`"),
        "{p}"
    );
}

#[test]
fn display_is_file_line_col_message() {
    let p = Problem {
        file: "/etc/l.toml".into(),
        line: 3,
        col: 7,
        message: "bad".into(),
        hint: Some("do x".into()),
    };
    assert_eq!(p.to_string(), "/etc/l.toml:3:7: bad\n  hint: do x");
}
