//! A logrotate `postrotate` script as a logwarden reopen hook. Only one
//! simple command is taken, with the usual guards around it (`[ -f P ] &&`,
//! `test -x X &&`, `if [ … ]; then …; fi`, redirects to /dev/null,
//! `|| true`); anything that needs a shell (pipes, `;` between commands,
//! loops, `$1`, `run-parts`) is refused with the reason. Pure: nothing runs.

use std::sync::LazyLock;

use regex::Regex;

/// The hook a script means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    Signal { signal: String, pidfile: String },
    Command(Vec<String>),
}

static IF_THEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^if\s+(?:\[\s+[^\]]*\]|test\s+[^;]*?)\s*;\s*then\s+(.*?)\s*;\s*fi$")
        .expect("static regex")
});

static GUARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\[\s+!?\s*-[a-z]\s+\S+\s+\]|test\s+!?\s*-[a-z]\s+\S+)\s*(&&|\|\|)\s*(.*)$")
        .expect("static regex")
});

static KILL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:/usr)?(?:/bin/)?kill\s+(?:-s\s+|-)(?:SIG)?([A-Z0-9]+)\s+(?:`\s*cat\s+([^`\s]+)\s*`|\$\(\s*cat\s+([^)\s]+)\s*\)|\$\(\s*<\s*([^)\s]+)\s*\))$")
        .expect("static regex")
});

static REDIRECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*(?:&>|[12]?>)\s*/dev/null|\s*2>&1").expect("static regex"));

/// The hook `script` (a postrotate body) means, or why it cannot be taken.
pub fn hook(script: &str) -> Result<Hook, String> {
    let text = normalize(script);
    if text.is_empty() {
        return Err("the script is empty".into());
    }
    let mut cmd = text.as_str();
    if let Some(c) = IF_THEN.captures(cmd) {
        cmd = c.get(1).map_or("", |m| m.as_str());
    }
    let owned;
    if let Some(c) = GUARD.captures(cmd) {
        let negated = cmd.contains('!');
        let op = c.get(1).map_or("", |m| m.as_str());
        if (op == "&&") == negated {
            return Err(format!(
                "a guard that runs the command when the file is missing: {text:?}"
            ));
        }
        owned = c.get(2).map_or("", |m| m.as_str()).to_string();
        cmd = &owned;
    }
    let cmd = strip_true(&REDIRECT.replace_all(cmd, ""));
    if let Some(c) = KILL.captures(&cmd) {
        let signal = signal_name(c.get(1).map_or("", |m| m.as_str()))?;
        let pidfile = (2..=4)
            .find_map(|i| c.get(i))
            .map(|m| m.as_str().to_string())
            .ok_or("no pid file")?;
        return Ok(Hook::Signal { signal, pidfile });
    }
    if let Some(bad) = cmd.chars().find(|c| "|;&$`<>(){}*?\n".contains(*c)) {
        return Err(format!("needs a shell ({bad:?}): {text:?}"));
    }
    let argv = shlex::split(&cmd).ok_or_else(|| format!("unbalanced quotes: {text:?}"))?;
    let Some(prog) = argv.first() else {
        return Err("the script is empty".into());
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    match (
        base,
        argv.get(1).map(String::as_str),
        argv.get(2).map(String::as_str),
    ) {
        ("run-parts", ..) => Err(format!("runs a directory of scripts: {text:?}")),
        ("invoke-rc.d" | "service", Some("nginx"), Some("rotate" | "reopen"))
        | ("nginx", Some("-s"), Some("reopen")) => Ok(nginx()),
        ("invoke-rc.d" | "service", Some(_), _) => Err(format!(
            "an init script action ({}): use the signal and pid file it sends",
            argv.join(" ")
        )),
        _ if base.ends_with("nginx") && argv.len() == 1 => Err(format!("starts nginx: {text:?}")),
        _ => Ok(Hook::Command(argv)),
    }
}

/// What `invoke-rc.d nginx rotate` and `nginx -s reopen` do: USR1 to the
/// master whose pid Debian's nginx.conf writes to /run/nginx.pid.
fn nginx() -> Hook {
    Hook::Signal {
        signal: "USR1".into(),
        pidfile: "/run/nginx.pid".into(),
    }
}

/// One line: continuations joined, comments and blank lines dropped, lines
/// joined with `; ` (as the shell reads them).
fn normalize(script: &str) -> String {
    let joined = script.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut s = lines.join("; ");
    for (from, to) in [("then;", "then"), ("; then", "; then"), ("else;", "else")] {
        s = s.replace(from, to);
    }
    s.trim_end_matches(';').trim().to_string()
}

fn strip_true(cmd: &str) -> String {
    let mut c = cmd.trim();
    for tail in ["|| true", "|| :", "|| exit 0", "||true"] {
        if let Some(rest) = c.strip_suffix(tail) {
            c = rest.trim();
        }
    }
    c.to_string()
}

fn signal_name(s: &str) -> Result<String, String> {
    let name = match s {
        "1" => "HUP",
        "10" => "USR1",
        "12" => "USR2",
        "HUP" | "USR1" | "USR2" | "TERM" | "INT" | "QUIT" | "WINCH" => s,
        _ => return Err(format!("unknown signal {s:?}")),
    };
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(signal: &str, pidfile: &str) -> Result<Hook, String> {
        Ok(Hook::Signal {
            signal: signal.into(),
            pidfile: pidfile.into(),
        })
    }

    fn cmd(argv: &[&str]) -> Result<Hook, String> {
        Ok(Hook::Command(argv.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn table() {
        #[rustfmt::skip]
        let ok = [
            ("kill -HUP `cat /run/app.pid`", sig("HUP", "/run/app.pid")),
            ("  /bin/kill -USR1 $(cat /run/app.pid) ", sig("USR1", "/run/app.pid")),
            ("kill -s HUP $(cat /var/run/x.pid) 2>/dev/null || true", sig("HUP", "/var/run/x.pid")),
            ("[ -f /run/app.pid ] && kill -HUP `cat /run/app.pid`", sig("HUP", "/run/app.pid")),
            ("test -s /run/a.pid && kill -USR1 $(cat /run/a.pid) > /dev/null 2>&1", sig("USR1", "/run/a.pid")),
            ("[ ! -f /run/a.pid ] || kill -HUP `cat /run/a.pid`", sig("HUP", "/run/a.pid")),
            ("if [ -f /run/a.pid ]; then\n  kill -HUP `cat /run/a.pid`\nfi", sig("HUP", "/run/a.pid")),
            ("if [ -f /run/a.pid ]; then \\\n kill -1 $(cat /run/a.pid); \\\nfi", sig("HUP", "/run/a.pid")),
            ("invoke-rc.d nginx rotate >/dev/null 2>&1", sig("USR1", "/run/nginx.pid")),
            ("nginx -s reopen", sig("USR1", "/run/nginx.pid")),
            ("/usr/lib/rsyslog/rsyslog-rotate", cmd(&["/usr/lib/rsyslog/rsyslog-rotate"])),
            ("systemctl kill -s HUP app.service", cmd(&["systemctl", "kill", "-s", "HUP", "app.service"])),
            ("test -x /usr/lib/x/rotate && /usr/lib/x/rotate", cmd(&["/usr/lib/x/rotate"])),
            ("# reopen\n/usr/bin/systemctl reload app || true\n", cmd(&["/usr/bin/systemctl", "reload", "app"])),
        ];
        for (script, want) in ok {
            assert_eq!(hook(script), want, "{script:?}");
        }
        for bad in [
            "",
            "kill -HUP `cat /run/a.pid` ; kill -HUP `cat /run/b.pid`",
            "cat /run/a.pid | xargs kill -HUP",
            "for p in /run/*.pid; do kill -HUP $(cat $p); done",
            "kill -HUP $1",
            "run-parts /etc/logrotate.d/httpd-prerotate",
            "invoke-rc.d apache2 reload",
            "[ -f /run/a.pid ] || kill -HUP `cat /run/a.pid`",
        ] {
            assert!(hook(bad).is_err(), "{bad:?}: {:?}", hook(bad));
        }
    }
}
