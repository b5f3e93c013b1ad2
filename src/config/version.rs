//! Config versions for the audit trail: the SHA-256 of every file read, the
//! exact text kept content-addressed under `state_dir/config/<sha256>`, a
//! version hash over them, and the change between two versions as data
//! (each setting's old and new value, sources and drop-ins added or
//! removed). The diff is pure; `keep` and `read_texts` do the I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    crate::sys::digest::hex(&sha2::Sha256::digest(b))
}

/// One config file of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: String,
    pub sha256: String,
}

/// The files of a version, in reading order.
pub fn refs(texts: &[(PathBuf, String)]) -> Vec<FileRef> {
    texts
        .iter()
        .map(|(p, t)| FileRef {
            path: p.display().to_string(),
            sha256: sha256_hex(t.as_bytes()),
        })
        .collect()
}

/// A version's hash: SHA-256 over `<sha256>  <path>\n` of each file.
pub fn version_hash(refs: &[FileRef]) -> String {
    let manifest: String = refs
        .iter()
        .map(|r| format!("{}  {}\n", r.sha256, r.path))
        .collect();
    sha256_hex(manifest.as_bytes())
}

/// Where a file's text is kept.
pub fn store_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("config")
}

/// Keeps the text of every file under its SHA-256 (once).
pub fn keep(state_dir: &Path, texts: &[(PathBuf, String)]) -> io::Result<()> {
    let dir = store_dir(state_dir);
    std::fs::create_dir_all(&dir)?;
    for ((_, text), r) in texts.iter().zip(refs(texts)) {
        if !dir.join(&r.sha256).exists() {
            crate::state::write_atomic(&dir, ".tmp", &r.sha256, text.as_bytes())?;
        }
    }
    Ok(())
}

/// A kept text.
pub fn text_of(state_dir: &Path, sha256: &str) -> io::Result<String> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256"));
    }
    std::fs::read_to_string(store_dir(state_dir).join(sha256))
}

/// The main file and the drop-ins its `include` globs match now, read
/// without validating them (a refused edit's record names what was read).
pub fn read_texts(path: &Path) -> Vec<(PathBuf, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut out = vec![(path.to_path_buf(), text.clone())];
    let includes: Vec<String> = toml::from_str::<toml::Table>(&text)
        .ok()
        .and_then(|t| t.get("include").cloned())
        .and_then(|v| v.try_into::<Vec<String>>().ok())
        .unwrap_or_default();
    let base = super::config_base(path);
    for pattern in includes {
        if let Ok((_, files)) = super::expand_include(&base, &pattern) {
            for f in files {
                if let Ok(t) = std::fs::read_to_string(&f) {
                    out.push((f, t));
                }
            }
        }
    }
    out
}

/// Every setting of a version as `path = value`: tables by their name
/// (`defaults.max_age`), sources by theirs (`sources.orders.max_age`).
fn flatten(texts: &[(PathBuf, String)]) -> BTreeMap<String, toml::Value> {
    let mut out = BTreeMap::new();
    for (_, text) in texts {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            continue;
        };
        for (k, v) in table {
            match (k.as_str(), v) {
                ("source", toml::Value::Array(sources)) => {
                    for s in sources {
                        let toml::Value::Table(t) = s else { continue };
                        let name = t
                            .get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("?")
                            .to_string();
                        put(&mut out, &format!("sources.{name}"), toml::Value::Table(t));
                    }
                }
                (_, v) => put(&mut out, &k, v),
            }
        }
    }
    out
}

fn put(out: &mut BTreeMap<String, toml::Value>, prefix: &str, v: toml::Value) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                put(out, &format!("{prefix}.{k}"), v);
            }
        }
        v => {
            out.insert(prefix.to_string(), v);
        }
    }
}

fn sources(flat: &BTreeMap<String, toml::Value>) -> BTreeSet<String> {
    flat.keys()
        .filter_map(|k| k.strip_prefix("sources."))
        .filter_map(|k| k.split_once('.').map(|(n, _)| n.to_string()))
        .collect()
}

fn show(v: Option<&toml::Value>) -> String {
    v.map_or_else(|| "(unset)".to_string(), toml::Value::to_string)
}

/// The change from `old` to `new`, one line per item: drop-ins and
/// sources added or removed, then each setting that differs
/// (`sources.orders.max_age: "30d" → "14d"`; for lists what was added and
/// removed: `redact.keys: +["pwd"]`).
pub fn changes(old: &[(PathBuf, String)], new: &[(PathBuf, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let files = |t: &[(PathBuf, String)]| -> BTreeSet<PathBuf> {
        t.iter().skip(1).map(|(p, _)| p.clone()).collect()
    };
    let (fo, fnew) = (files(old), files(new));
    for p in fnew.difference(&fo) {
        out.push(format!("drop-in added: {}", p.display()));
    }
    for p in fo.difference(&fnew) {
        out.push(format!("drop-in removed: {}", p.display()));
    }
    let (a, b) = (flatten(old), flatten(new));
    let (sa, sb) = (sources(&a), sources(&b));
    for s in sb.difference(&sa) {
        out.push(format!("source added: {s}"));
    }
    for s in sa.difference(&sb) {
        out.push(format!("source removed: {s}"));
    }
    let whole = |k: &str| {
        k.strip_prefix("sources.")
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(n, _)| sa.contains(n) != sb.contains(n))
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (x, y) = (a.get(k.as_str()), b.get(k.as_str()));
        if x == y || whole(k) {
            continue;
        }
        match (x, y) {
            (Some(toml::Value::Array(xs)), Some(toml::Value::Array(ys))) => {
                let plus: Vec<String> = ys
                    .iter()
                    .filter(|v| !xs.contains(v))
                    .map(|v| v.to_string())
                    .collect();
                let minus: Vec<String> = xs
                    .iter()
                    .filter(|v| !ys.contains(v))
                    .map(|v| v.to_string())
                    .collect();
                let mut parts = Vec::new();
                if !plus.is_empty() {
                    parts.push(format!("+[{}]", plus.join(", ")));
                }
                if !minus.is_empty() {
                    parts.push(format!("-[{}]", minus.join(", ")));
                }
                if parts.is_empty() {
                    parts.push("reordered".into());
                }
                out.push(format!("{k}: {}", parts.join(" ")));
            }
            _ => out.push(format!("{k}: {} → {}", show(x), show(y))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Texts = Vec<(PathBuf, String)>;

    fn t(main: &str, drop_ins: &[(&str, &str)]) -> Texts {
        let mut v = vec![(PathBuf::from("/etc/l/main.toml"), main.to_string())];
        for (p, s) in drop_ins {
            v.push((PathBuf::from(p), s.to_string()));
        }
        v
    }

    #[test]
    fn changes_table() {
        let base = "[defaults]\nmax_age = \"30d\"\n[redact]\nkeys = [\"password\"]\n[[source]]\nname = \"orders\"\ndir = \"/v\"\nmax_archives = 50\n";
        #[rustfmt::skip]
        let cases: Vec<(Texts, Vec<&str>)> = vec![
            (t(base, &[]), vec![]),
            (t(&base.replace("50", "40"), &[]), vec!["sources.orders.max_archives: 50 → 40"]),
            (t(&base.replace("\"30d\"", "\"14d\""), &[]), vec!["defaults.max_age: \"30d\" → \"14d\""]),
            (t(&base.replace("[\"password\"]", "[\"password\", \"pwd\"]"), &[]), vec!["redact.keys: +[\"pwd\"]"]),
            (t(&base.replace("max_age = \"30d\"\n", ""), &[]), vec!["defaults.max_age: \"30d\" → (unset)"]),
            (
                t(base, &[("/etc/l/conf.d/fx.toml", "[[source]]\nname = \"fx\"\ndir = \"/fx\"\n")]),
                vec!["drop-in added: /etc/l/conf.d/fx.toml", "source added: fx"],
            ),
            (t(&base.replace("orders", "books"), &[]), vec!["source added: books", "source removed: orders"]),
        ];
        for (new, want) in cases {
            assert_eq!(changes(&t(base, &[]), &new), want, "{new:?}");
        }
    }

    #[test]
    fn version_hash_follows_every_byte() {
        let a = refs(&t("x = 1\n", &[]));
        let b = refs(&t("x = 2\n", &[]));
        assert_ne!(version_hash(&a), version_hash(&b));
        assert_eq!(version_hash(&a), version_hash(&refs(&t("x = 1\n", &[]))));
    }
}
