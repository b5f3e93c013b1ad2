//! `logwarden generate DIR`: the manual pages and the bash, zsh and fish
//! completions, rendered from the clap definitions in [`crate::cli`] so they
//! always describe the binary that wrote them (an option added to the CLI is
//! in the next package's man page without anyone editing roff).
//!
//! Packaging runs it (`packaging/build-deb.sh`) and ships what it writes;
//! the subcommand is hidden from `--help` because people get these files
//! from the package. It reads no config and writes nothing outside DIR:
//!
//! ```text
//! DIR/man/logwarden.1, DIR/man/logwarden-<subcommand>.1 …
//! DIR/completions/logwarden.bash, DIR/completions/_logwarden (zsh),
//! DIR/completions/logwarden.fish
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Command, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use crate::config::DEFAULT_PATH;

/// The subdirectory of DIR that receives the man pages (section 1).
pub const MAN_DIR: &str = "man";
/// The subdirectory of DIR that receives the completion scripts.
pub const COMPLETIONS_DIR: &str = "completions";

/// The name the man pages and completions are written for.
const BIN: &str = "logwarden";

/// `logwarden generate DIR`: write everything, print each path written.
pub fn run(dir: &Path) -> ExitCode {
    match write_all(dir) {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logwarden generate: {e}");
            ExitCode::from(1)
        }
    }
}

/// Write the man pages and the completions under `dir` (created if
/// missing; files already there are replaced). Returns the paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = man_pages(&dir.join(MAN_DIR))?;
    written.extend(completions(&dir.join(COMPLETIONS_DIR))?);
    Ok(written)
}

/// `logwarden.1` for the whole program plus `logwarden-<sub>.1` for every
/// visible subcommand (recursively), as `man logwarden-rotate` expects.
fn man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    create_dir(dir)?;
    // No `help` subcommand: it has no page of its own, `--help` is described
    // on every page.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect_pages(&cmd, &mut pages);
    let see_also: Vec<String> = pages
        .iter()
        .map(|c| format!("\\fB{}\\fR(1)", page_name(c).replace('-', "\\-")))
        .collect();
    let mut written = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let mut roff = render_page(page)?;
        if i == 0 {
            roff.extend_from_slice(files_section().as_bytes());
        }
        let others: Vec<&str> = see_also
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| s.as_str())
            .collect();
        roff.extend_from_slice(
            format!(
                ".SH \"SEE ALSO\"\n{}, \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1)\n",
                others.join(", ")
            )
            .as_bytes(),
        );
        let path = dir.join(format!("{}.1", page_name(page)));
        write(&path, &roff)?;
        written.push(path);
    }
    Ok(written)
}

/// One page: clap_mangen's sections, except that the text after the help
/// (examples, signals) is kept as laid out, under EXAMPLES, instead of being
/// refilled into one paragraph under clap_mangen's "EXTRA".
fn render_page(cmd: &Command) -> io::Result<Vec<u8>> {
    type Section = fn(&clap_mangen::Man, &mut dyn io::Write) -> io::Result<()>;
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
        .manual("logwarden manual");
    let mut sections: Vec<Section> = vec![
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ];
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        sections.push(clap_mangen::Man::render_subcommands_section);
    }
    let mut page = String::new();
    for render in sections {
        let mut out = Vec::new();
        render(&man, &mut out)?;
        let out = String::from_utf8_lossy(&out);
        // Each separately rendered section repeats the string definitions
        // the page needs once.
        page.push_str(match out.strip_prefix(ROFF_PREAMBLE) {
            Some(rest) if !page.is_empty() => rest,
            _ => &out,
        });
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        page.push_str(".SH EXAMPLES\n.nf\n");
        for line in after.to_string().lines() {
            page.push_str(&roff_line(line));
            page.push('\n');
        }
        page.push_str(".fi\n");
    }
    Ok(page.into_bytes())
}

/// What the roff crate writes at the top of every rendering.
const ROFF_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// A line of plain text as roff: backslashes and minus signs escaped, and a
/// leading `.` or `'` kept from being read as a request.
fn roff_line(line: &str) -> String {
    let s = line.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// The command and its visible subcommands, depth first, the command first.
fn collect_pages<'a>(cmd: &'a Command, out: &mut Vec<&'a Command>) {
    out.push(cmd);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub, out);
    }
}

/// `logwarden` or `logwarden-rotate` (clap sets the display name of every
/// subcommand when the command is built).
fn page_name(cmd: &Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

/// FILES for `logwarden.1`: where a packaged install keeps what.
fn files_section() -> String {
    format!(
        r#".SH FILES
.TP
\fI{DEFAULT_PATH}\fR
The configuration (the default of \fB\-c\fR); drop-ins in \fI/etc/logwarden/conf.d/\fR.
.TP
\fI/var/lib/logwarden/\fR
The default \fBstate_dir\fR: rotation and tail state, the lock, the audit journal (\fIjournal.ndjson\fR and its archives), the redaction salt and the checkpoint signing key.
.TP
\fI/var/log/logwarden/\fR
Redacted mirrors, in the example configuration.
.TP
\fI/usr/lib/systemd/system/logwarden.service\fR
The systemd unit, as packaged; local changes go in a drop-in (\fBsystemctl edit logwarden\fR).
"#
    )
}

/// bash, zsh and fish completion scripts, named as each shell's vendor
/// completion directory expects.
fn completions(dir: &Path) -> io::Result<Vec<PathBuf>> {
    create_dir(dir)?;
    let mut written = Vec::new();
    for (shell, name) in [
        (Shell::Bash, format!("{BIN}.bash")),
        (Shell::Zsh, format!("_{BIN}")),
        (Shell::Fish, format!("{BIN}.fish")),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut visible_command(), BIN, &mut script);
        let path = dir.join(name);
        write(&path, &script)?;
        written.push(path);
    }
    Ok(written)
}

/// The CLI without its hidden subcommands. clap_complete offers hidden
/// subcommands too, and `generate` is for packaging, not for a prompt; clap
/// has no way to remove a subcommand, so the command is rebuilt from the
/// same arguments and visible subcommands.
fn visible_command() -> Command {
    let full = Cli::command();
    let mut cmd = Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

fn create_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir).map_err(|e| with_path(dir, e))
}

fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::write(path, bytes).map_err(|e| with_path(path, e))
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_subcommands_get_no_page_and_no_completion() {
        let mut cmd = Cli::command();
        cmd.build();
        let hidden: Vec<&str> = cmd
            .get_subcommands()
            .filter(|s| s.is_hide_set())
            .map(|s| s.get_name())
            .collect();
        assert!(hidden.contains(&"generate"), "{hidden:?}");
        let visible = visible_command();
        for h in &hidden {
            assert!(visible.find_subcommand(h).is_none(), "{h} offered");
        }
        let mut pages = Vec::new();
        let mut built = Cli::command().disable_help_subcommand(true);
        built.build();
        collect_pages(&built, &mut pages);
        let names: Vec<&str> = pages.iter().map(|c| page_name(c)).collect();
        assert_eq!(names[0], "logwarden");
        assert!(names.contains(&"logwarden-rotate"), "{names:?}");
        assert!(!names
            .iter()
            .any(|n| n.ends_with("-generate") || n.ends_with("-help")));
    }
}
