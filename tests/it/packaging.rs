//! What ships besides the binary: the systemd unit must verify cleanly; the
//! man pages and shell completions `logwarden generate` writes must be valid
//! and cover every subcommand; the Debian package must hold all of it in the
//! right places, with the right conffiles and maintainer scripts.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The subcommands `logwarden --help` lists (so hidden ones are not), less
/// clap's `help`.
fn visible_subcommands() -> Vec<String> {
    subcommands_of(&[])
}

/// The commands `logwarden PATH… --help` lists.
fn subcommands_of(path: &[&str]) -> Vec<String> {
    let out = run(Command::new(BIN).args(path).arg("--help"));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let subs: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(
        !path.is_empty() || subs.len() >= 7,
        "no command list in --help:\n{help}"
    );
    subs
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn generate_writes_valid_man_pages_and_completions_for_every_subcommand() {
    let subs = visible_subcommands();
    assert!(
        !subs.iter().any(|s| s == "generate"),
        "generate must be hidden from --help: {subs:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(Command::new(BIN).arg("generate").arg(&dir));

    // One page for the program, one per subcommand; groff reads every one
    // without a warning (-ww: all warnings).
    let man = dir.join("man");
    let mut pages = vec![man.join("logwarden.1")];
    pages.extend(subs.iter().map(|s| man.join(format!("logwarden-{s}.1"))));
    // A command with its own commands (config) has a page for each.
    for s in &subs {
        for n in subcommands_of(&[s.as_str()]) {
            pages.push(man.join(format!("logwarden-{s}-{n}.1")));
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    found.sort();
    let mut expected = pages.clone();
    expected.sort();
    assert_eq!(found, expected, "man pages written");
    for page in &pages {
        let text = read(page);
        let name = page
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .replace('-', "\\-");
        assert!(
            text.contains(&format!(
                ".TH {} 1 ",
                page.file_stem().unwrap().to_str().unwrap()
            )) && text.contains(&format!(".SH NAME\n{name} \\- ")),
            "{}: no .TH / NAME:\n{text}",
            page.display()
        );
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z", "-Tutf8"])
            .arg(page)
            .output()
            .expect("groff (apt-get install groff-base) checks the man pages");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}: groff: {}",
            page.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The main page: every subcommand in SUBCOMMANDS and SEE ALSO, the
    // examples kept as laid out, the files a packaged install uses.
    let main = read(&pages[0]);
    for s in &subs {
        // roff escapes the dashes of a name (import\-logrotate).
        let e = s.replace('-', "\\-");
        assert_eq!(
            main.matches(&format!("logwarden\\-{e}\\fR(1)")).count()
                + main.matches(&format!("logwarden\\-{e}(1)")).count(),
            2,
            "logwarden.1 must list {s} (SUBCOMMANDS) and refer to its page (SEE ALSO)"
        );
    }
    assert!(
        !main.contains("generate"),
        "a hidden subcommand in logwarden.1"
    );
    for needle in [
        ".SH EXAMPLES\n.nf\n",
        "/etc/logwarden/logwarden.toml",
        "/var/lib/logwarden/",
        "SIGHUP",
    ] {
        assert!(main.contains(needle), "logwarden.1 lacks {needle:?}");
    }

    // Completions: each names every subcommand, none offers `generate`.
    let completions = dir.join("completions");
    for (file, config_option) in [
        ("logwarden.bash", "--config"),
        ("_logwarden", "--config"),
        ("logwarden.fish", "-l config"),
    ] {
        let text = read(&completions.join(file));
        for s in &subs {
            assert!(text.contains(s.as_str()), "{file} does not offer {s}");
        }
        assert!(!text.contains("generate"), "{file} offers generate");
        assert!(text.contains(config_option), "{file} lacks --config");
    }
    // bash: parses, and completes for real.
    let bash = completions.join("logwarden.bash");
    run(Command::new("bash").arg("-n").arg(&bash));
    let complete = |words: &str| -> Vec<String> {
        let script = format!(
            "source {bash:?}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _logwarden logwarden \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = run(Command::new("bash").arg("-c").arg(script));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    let mut r = complete("logwarden r");
    r.sort();
    assert_eq!(r, ["redact", "rotate", "run"]);
    let opts = complete("logwarden rotate --");
    for o in ["--source", "--dry-run", "--config"] {
        assert!(
            opts.iter().any(|x| x == o),
            "rotate --<TAB> lacks {o}: {opts:?}"
        );
    }
}

/// Builds the .deb the way a release does (packaging/build-deb.sh), but from
/// the debug binary this test run already has (LOGWARDEN_DEB_BINARY) and
/// into a scratch target dir: a second, release build would cost minutes
/// and the package's layout does not depend on the profile.
#[test]
fn debian_package_holds_binary_unit_config_man_pages_and_completions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let have = Command::new(&cargo)
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("LOGWARDEN_SKIP_DEB").is_some_and(|v| v == "1"),
            "cargo-deb is needed to build the Debian package: \
             cargo install cargo-deb --version 3.8.0 --locked (and apt-get install dpkg-dev), \
             or set LOGWARDEN_SKIP_DEB=1 to skip this test"
        );
        eprintln!("skipped: cargo-deb is not installed and LOGWARDEN_SKIP_DEB=1");
        return;
    }
    let subs = visible_subcommands();
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    let out_dir = tmp.path().join("out");
    run(Command::new("bash")
        .arg(root.join("packaging/build-deb.sh"))
        .args(["--fast", "--quiet", "-o"])
        .arg(&out_dir)
        .current_dir(root)
        .env("CARGO", &cargo)
        .env("CARGO_TARGET_DIR", &target)
        .env("LOGWARDEN_DEB_BINARY", BIN));
    let debs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let deb = &debs[0];

    // Control fields.
    let field = |name: &str| -> String {
        let out = run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(field("Package"), "logwarden");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    let depends = field("Depends");
    assert!(
        depends.contains("libc6")
            && depends.contains("init-system-helpers")
            && depends.contains("adduser"),
        "Depends: {depends}"
    );

    // Contents: paths and modes.
    let listing = run(Command::new("dpkg-deb").arg("-c").arg(deb));
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let entry = |path: &str| -> &str {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(" ./{path}")))
            .unwrap_or_else(|| panic!("{path} not in the package:\n{listing}"))
    };
    assert!(entry("usr/bin/logwarden").starts_with("-rwxr-xr-x 0/0 "));
    let mut wanted = vec![
        "usr/lib/systemd/system/logwarden.service".to_string(),
        "etc/logwarden/logwarden.toml".to_string(),
        "usr/share/man/man1/logwarden.1.gz".to_string(),
        "usr/share/bash-completion/completions/logwarden".to_string(),
        "usr/share/zsh/vendor-completions/_logwarden".to_string(),
        "usr/share/fish/vendor_completions.d/logwarden.fish".to_string(),
        "usr/share/doc/logwarden/copyright".to_string(),
    ];
    wanted.extend(
        subs.iter()
            .map(|s| format!("usr/share/man/man1/logwarden-{s}.1.gz")),
    );
    for path in &wanted {
        assert!(
            entry(path).starts_with("-rw-r--r-- 0/0 "),
            "{path} should be 0644 root:root: {}",
            entry(path)
        );
    }

    // The unit and the config are the repository's, byte for byte; the man
    // page is gzipped roff.
    let fs = tmp.path().join("fs");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&fs));
    for (packaged, source) in [
        (
            "usr/lib/systemd/system/logwarden.service",
            "systemd/logwarden.service",
        ),
        ("etc/logwarden/logwarden.toml", "config/logwarden.toml"),
    ] {
        assert_eq!(
            read(&fs.join(packaged)),
            read(&root.join(source)),
            "{packaged}"
        );
    }
    let mut man = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fs.join("usr/share/man/man1/logwarden.1.gz")).unwrap(),
    )
    .read_to_string(&mut man)
    .unwrap();
    assert!(man.contains(".TH logwarden 1 "), "{man}");

    // Control files: the config is a conffile; the maintainer scripts are
    // valid sh, make the state dir as the unit has it (root, 0700: the
    // daemon runs as root, no User=), handle the unit through
    // deb-systemd-helper without enabling or starting it on install, and
    // remove state only on purge.
    let control = tmp.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&control));
    assert_eq!(
        read(&control.join("conffiles")).trim(),
        "/etc/logwarden/logwarden.toml"
    );
    let unit = read(&root.join("systemd/logwarden.service"));
    assert!(
        unit.contains("\nStateDirectory=logwarden\n")
            && unit.contains("\nStateDirectoryMode=0700\n")
    );
    assert!(!unit
        .lines()
        .any(|l| l.starts_with("User=") || l.starts_with("DynamicUser=")));
    for script in ["postinst", "postrm", "prerm"] {
        let path = control.join(script);
        run(Command::new("sh").arg("-n").arg(&path));
        let text = read(&path);
        assert!(!text.contains("#DEBHELPER#"), "{script}: token left in");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "{script} mode");
    }
    let postinst = read(&control.join("postinst"));
    for needle in [
        "install -d -m 0700 -o root -g root /var/lib/logwarden",
        "adduser --system --group",
        "install -d -m 0755 /etc/logwarden/conf.d",
        "deb-systemd-helper update-state logwarden.service",
        "deb-systemd-invoke try-restart logwarden.service",
    ] {
        assert!(
            postinst.contains(needle),
            "postinst lacks {needle:?}:\n{postinst}"
        );
    }
    assert!(
        !postinst
            .contains("deb-systemd-helper enable logwarden.service >/dev/null || true\n\telse")
            && !postinst.contains("deb-systemd-invoke start"),
        "postinst must not enable or start the unit on install:\n{postinst}"
    );
    let postrm = read(&control.join("postrm"));
    let purge = postrm
        .find("    purge)\n        rm -rf /var/lib/logwarden\n")
        .unwrap_or_else(|| panic!("postrm must remove the state dir on purge:\n{postrm}"));
    assert_eq!(
        postrm.matches("/var/lib/logwarden").count(),
        1,
        "postrm touches the state dir outside purge:\n{postrm}"
    );
    assert!(purge > postrm.find("deb-systemd-helper purge").unwrap_or(0));
}
