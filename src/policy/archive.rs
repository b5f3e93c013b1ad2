//! Archive names: the one place that knows how a rotated file is named.
//!
//! `<file>.<label>[.<n>][.gz]` where `label` is the period the content belongs
//! to (`YYYY-MM-DD`, or `YYYY-MM-DD-HH` for sub-daily schedules) and `n`
//! numbers further cuts within one period (`.1`, `.2` …). Retention only ever
//! deletes names this module parses for a configured file, and a name in use
//! (compressed or not) is never reused, so no archive is overwritten.
//! Temporary files are hidden (`.` prefix) and end in [`TMP_SUFFIX`].

use std::cmp::Ordering;

/// Suffix of every temporary file logwarden creates next to a log.
pub const TMP_SUFFIX: &str = ".logwarden-tmp";

/// A parsed archive name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// The live file's name.
    pub base: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DD-HH`.
    pub label: String,
    /// 0 for the first cut of the period, then 1, 2 …
    pub n: u32,
    /// Whether this name carries `.gz`.
    pub gz: bool,
}

impl Archive {
    /// The file name of this archive as it is (with `.gz` if compressed).
    pub fn file_name(&self) -> String {
        let mut s = self.plain_name();
        if self.gz {
            s.push_str(".gz");
        }
        s
    }

    /// The uncompressed name (what a cut produces).
    pub fn plain_name(&self) -> String {
        if self.n == 0 {
            format!("{}.{}", self.base, self.label)
        } else {
            format!("{}.{}.{}", self.base, self.label, self.n)
        }
    }

    /// The compressed name.
    pub fn gz_name(&self) -> String {
        format!("{}.gz", self.plain_name())
    }

    /// The name of the temporary file a compression writes first.
    pub fn gz_tmp_name(&self) -> String {
        format!(".{}.gz{TMP_SUFFIX}", self.plain_name())
    }

    /// The name of the temporary file a copy-truncate writes first.
    pub fn copy_tmp_name(&self) -> String {
        format!(".{}{TMP_SUFFIX}", self.plain_name())
    }

    /// Cut order: by period label, then by cut number.
    pub fn cut_order(&self, other: &Archive) -> Ordering {
        (self.label.as_str(), self.n).cmp(&(other.label.as_str(), other.n))
    }
}

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    match b.len() {
        10 => date,
        13 => date && b[10] == b'-' && b[11].is_ascii_digit() && b[12].is_ascii_digit(),
        _ => false,
    }
}

/// Parse any archive name, whatever its base.
pub fn parse_any(name: &str) -> Option<Archive> {
    let (rest, gz) = match name.strip_suffix(".gz") {
        Some(r) => (r, true),
        None => (name, false),
    };
    let (head, last) = rest.rsplit_once('.')?;
    let (base, label, n) = if is_label(last) {
        (head, last, 0)
    } else if !last.is_empty() && last.len() <= 9 && last.bytes().all(|c| c.is_ascii_digit()) {
        let (base, label) = head.rsplit_once('.')?;
        let n: u32 = last.parse().ok()?;
        if !is_label(label) || n == 0 {
            return None;
        }
        (base, label, n)
    } else {
        return None;
    };
    if base.is_empty() {
        return None;
    }
    Some(Archive {
        base: base.to_string(),
        label: label.to_string(),
        n,
        gz,
    })
}

/// Whether `name` is what logrotate makes of a log it rotated: `x.log.1`,
/// `x.log.2.gz`, or with `dateext` `x.log-20261201` (and `-2026120113`,
/// hourly). Never a live file for logwarden, whatever the glob.
pub fn is_logrotate_archive(name: &str) -> bool {
    let rest = [".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if let Some((head, n)) = rest.rsplit_once('.') {
        if !head.is_empty() && n.len() <= 4 && digits(n) {
            return true;
        }
    }
    if let Some((head, d)) = rest.rsplit_once('-') {
        if !head.is_empty() && matches!(d.len(), 8 | 10) && digits(d) && d.starts_with("20") {
            return true;
        }
    }
    false
}

/// Parse `name` as an archive of the live file `base`.
pub fn parse_for(base: &str, name: &str) -> Option<Archive> {
    parse_any(name).filter(|a| a.base == base)
}

/// The archive name for the next cut of `base` in period `label`: after the
/// highest `.N` of that period among `names` (temp copies included), so a
/// cut made after retention removed an earlier archive of the same period
/// never sorts before the ones kept; and not taken, per `exists`.
pub fn next_free(
    base: &str,
    label: &str,
    names: &[String],
    exists: impl Fn(&str) -> bool,
) -> Archive {
    let start = names
        .iter()
        .filter_map(|n| {
            let n = n
                .strip_suffix(TMP_SUFFIX)
                .map_or(n.as_str(), |t| t.strip_prefix('.').unwrap_or(t));
            parse_for(base, n)
        })
        .filter(|a| a.label == label)
        .map(|a| a.n + 1)
        .max()
        .unwrap_or(0);
    let mut a = Archive {
        base: base.to_string(),
        label: label.to_string(),
        n: start,
        gz: false,
    };
    while exists(&a.plain_name()) || exists(&a.gz_name()) || exists(&a.gz_tmp_name()) {
        a.n += 1;
    }
    a
}

#[cfg(test)]
mod tests {
    #[test]
    fn logrotate_archive_names() {
        for yes in [
            "x.log.1",
            "x.log.2.gz",
            "syslog.10",
            "x.log-20261201",
            "x.log-20261201.gz",
            "x.log-2026120113",
            "wtmp.1",
        ] {
            assert!(is_logrotate_archive(yes), "{yes}");
        }
        for no in [
            "x.log",
            "app.2026.log",
            "v1.2.log",
            "syslog",
            "x.log-1",
            "report-2026.log",
            ".1",
            "x.log.12345",
        ] {
            assert!(!is_logrotate_archive(no), "{no}");
        }
    }

    use super::*;

    #[test]
    fn names_round_trip() {
        let cases = [
            (
                "app.log.2026-11-20.gz",
                Some(("app.log", "2026-11-20", 0, true)),
            ),
            (
                "app.log.2026-11-20",
                Some(("app.log", "2026-11-20", 0, false)),
            ),
            (
                "app.log.2026-11-20.3.gz",
                Some(("app.log", "2026-11-20", 3, true)),
            ),
            (
                "app.log.2026-11-20-07.1",
                Some(("app.log", "2026-11-20-07", 1, false)),
            ),
            ("app.2026-11-20.log", None),
            ("app.log", None),
            ("app.log.gz", None),
            ("app.log.1", None),
            ("app.log.2026-1-20.gz", None),
            (".2026-11-20", None),
            ("v1.2.3.log", None),
        ];
        for (name, want) in cases {
            let got = parse_any(name);
            let got_t = got
                .as_ref()
                .map(|a| (a.base.as_str(), a.label.as_str(), a.n, a.gz));
            assert_eq!(got_t, want, "{name}");
            if let Some(a) = got {
                assert_eq!(a.file_name(), name);
            }
        }
    }

    #[test]
    fn next_free_skips_plain_and_compressed() {
        let taken = ["app.log.2026-11-20.gz", "app.log.2026-11-20.1"];
        let a = next_free("app.log", "2026-11-20", &[], |n| taken.contains(&n));
        assert_eq!(a.plain_name(), "app.log.2026-11-20.2");
        let b = next_free("app.log", "2026-11-21", &[], |n| taken.contains(&n));
        assert_eq!(b.plain_name(), "app.log.2026-11-21");
    }

    #[test]
    fn next_free_goes_after_the_highest_of_the_period() {
        // .0 and .1 were deleted by retention; .2 is kept: the next is .3.
        let names: Vec<String> = [
            "app.log.2026-11-20.2.gz",
            "app.log.2026-11-19.7.gz",
            "x.log.2026-11-20.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = next_free("app.log", "2026-11-20", &names, |n| {
            names.iter().any(|x| x == n)
        });
        assert_eq!(a.plain_name(), "app.log.2026-11-20.3");
        let tmp = vec![".app.log.2026-11-20.4.logwarden-tmp".to_string()];
        let b = next_free("app.log", "2026-11-20", &tmp, |_| false);
        assert_eq!(b.plain_name(), "app.log.2026-11-20.5");
        let c = next_free("app.log", "2026-11-21", &names, |_| false);
        assert_eq!(c.plain_name(), "app.log.2026-11-21");
    }

    #[test]
    fn cut_order_is_numeric() {
        let mut v: Vec<Archive> = [
            "a.2026-01-02.gz",
            "a.2026-01-01.10.gz",
            "a.2026-01-01.2.gz",
            "a.2026-01-01.gz",
        ]
        .iter()
        .filter_map(|n| parse_any(n))
        .collect();
        v.sort_by(|x, y| x.cut_order(y));
        let names: Vec<_> = v.iter().map(|a| a.file_name()).collect();
        assert_eq!(
            names,
            [
                "a.2026-01-01.gz",
                "a.2026-01-01.2.gz",
                "a.2026-01-01.10.gz",
                "a.2026-01-02.gz"
            ]
        );
    }
}
