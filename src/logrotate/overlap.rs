//! Two rotators, one file: every file that both logrotate and logwarden
//! would rotate (by device and inode where it exists, by pattern where it
//! does not), and every logrotate pattern that covers logwarden's archives
//! or mirrors. Reads directories; changes nothing.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use globset::Glob;

use super::{split_pattern, Conf};
use crate::config::{Config, Mode};

/// One file or pattern managed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `file:line` in logrotate's config.
    pub at: String,
    pub pattern: String,
    pub what: String,
    pub fix: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} {}; {}",
            self.at, self.pattern, self.what, self.fix
        )
    }
}

fn matcher(glob: &str) -> Option<globset::GlobMatcher> {
    Glob::new(glob).ok().map(|g| g.compile_matcher())
}

/// Same directory: same device and inode, or the same path when either is
/// missing.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => a == b,
    }
}

/// Everything `conf` (logrotate) and `cfg` (logwarden) both manage.
pub fn find(conf: &Conf, cfg: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for b in &conf.blocks {
        let fix = fix_for(&b.file);
        for p in &b.patterns {
            let Some((dir, name_glob)) = split_pattern(p) else {
                continue;
            };
            let Some(m) = matcher(&name_glob) else {
                continue;
            };
            let mut push = |what: String| {
                out.push(Finding {
                    at: format!("{}:{}", b.file.display(), b.line),
                    pattern: p.clone(),
                    what,
                    fix: fix.clone(),
                })
            };
            let names: Vec<String> = std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.flatten()
                        .filter_map(|e| e.file_name().to_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for src in &cfg.sources {
                if same_dir(&dir, &src.dir) {
                    let both: Vec<&String> = names
                        .iter()
                        .filter(|n| m.is_match(n.as_str()) && src.matches(n))
                        .collect();
                    for n in &both {
                        push(format!(
                            "matches {}, which logwarden source {:?} also rotates",
                            dir.join(n).display(),
                            src.name
                        ));
                    }
                    let archives = names.iter().filter(|n| {
                        m.is_match(n.as_str())
                            && crate::policy::archive::parse_any(n)
                                .is_some_and(|a| src.matches(&a.base))
                    });
                    if let Some(a) = archives.into_iter().next() {
                        push(format!(
                            "covers logwarden's archives of source {:?} (e.g. {a}): logrotate would rotate them again",
                            src.name
                        ));
                    }
                    if both.is_empty() && patterns_overlap(&name_glob, &src.include_text) {
                        push(format!(
                            "and logwarden source {:?} ({}) would both rotate files that do not exist yet",
                            src.name,
                            src.include_text.join(", ")
                        ));
                    }
                }
                if src.policy.mode == Mode::Mirror {
                    let out_dir = crate::ingest::mirror::output_dir(cfg, src);
                    if same_dir(&dir, &out_dir) {
                        push(format!(
                            "covers logwarden's mirrors of source {:?} in {}: logwarden cuts and retains them itself",
                            src.name,
                            out_dir.display()
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Whether a logrotate name glob and logwarden's include globs can match
/// one name: either matches the other's text.
fn patterns_overlap(name_glob: &str, includes: &[String]) -> bool {
    includes.iter().any(|inc| {
        matcher(inc).is_some_and(|m| m.is_match(name_glob))
            || matcher(name_glob).is_some_and(|m| m.is_match(inc))
    })
}

fn fix_for(file: &Path) -> String {
    if file.parent() == Some(Path::new("/etc")) || file.extension().is_some_and(|e| e == "conf") {
        format!("fix: remove the entry from {}", file.display())
    } else {
        format!(
            "fix: remove the entry, or rename {} to {}.disabled (logrotate skips it, and dpkg does not reinstall a conffile the admin deleted)",
            file.display(),
            file.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_table() {
        let inc = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(patterns_overlap("*.log", &inc(&["app.log"])));
        assert!(patterns_overlap("app.log", &inc(&["*.log"])));
        assert!(patterns_overlap("*.log", &inc(&["*.log"])));
        assert!(!patterns_overlap("*.txt", &inc(&["*.log"])));
        assert!(!patterns_overlap("syslog", &inc(&["gateway*.log"])));
    }
}
